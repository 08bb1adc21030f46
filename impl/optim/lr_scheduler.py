"""Learning-rate schedules: ``LRScheduler``, ``LambdaLR``, ``LinearLR``, ``CosineAnnealingLR``, ``SequentialLR`` (as
torch) and ``WarmupCosine``. The page is spec/pages/lr_scheduler.md."""

from __future__ import annotations

import bisect
import math
import types
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["CosineAnnealingLR", "LRScheduler", "LambdaLR", "LinearLR", "SequentialLR", "WarmupCosine"]


def _check_optimizer(optimizer: Any) -> None:
    if not isinstance(getattr(optimizer, "param_groups", None), list):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


class LRScheduler:
    r"""Base class for learning-rate schedules.

    On construction (with ``last_epoch=-1``) it records each group's ``lr`` as ``group["initial_lr"]`` (kept if
    already present), stores these as :attr:`base_lrs`, and takes a first :meth:`step` to epoch 0, which writes the
    schedule's first learning rate into the optimizer. Each later :meth:`step` advances ``last_epoch`` by one and
    writes :meth:`get_lr`'s values into ``param_groups[i]["lr"]``. Call it after ``optimizer.step()``.

    Args:
        optimizer: the optimizer whose ``param_groups[i]["lr"]`` are set (ours or any object with
            ``param_groups``, such as a ``torch.optim`` optimizer).
        last_epoch (int): index of the last step taken; ``-1`` starts afresh. A value ``>= 0`` resumes and
            requires ``"initial_lr"`` in every group. Default: -1.

    Raises:
        TypeError: if ``optimizer`` has no ``param_groups``.
        KeyError: when resuming and a group lacks ``"initial_lr"``.

    Example::

        >>> from impl.nn import Linear
        >>> from impl.optim import AdamW
        >>> opt = AdamW(Linear(4, 2).parameters(), lr=1e-3)
        >>> class Halving(LRScheduler):
        ...     def get_lr(self):
        ...         return [base * 0.5**self.last_epoch for base in self.base_lrs]
        >>> sched = Halving(opt)
        >>> opt.step(); sched.step()
        >>> sched.get_last_lr()
        [0.0005]
    """

    def __init__(self, optimizer: Any, last_epoch: int = -1) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer

        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming scheduler with "
                        "last_epoch >= 0."
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def state_dict(self) -> dict[str, Any]:
        r"""Return every attribute except the optimizer (``last_epoch``, ``base_lrs``, ``_last_lr``, ...)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        r"""Restore the attributes saved by :meth:`state_dict`."""
        self.__dict__.update(state_dict)

    def get_last_lr(self) -> list[float]:
        r"""The learning rates the last :meth:`step` set, one per parameter group."""
        return self._last_lr

    def get_lr(self) -> list[float]:
        r"""The learning rates for epoch ``last_epoch``, one per parameter group (implemented by subclasses)."""
        raise NotImplementedError

    def step(self) -> None:
        r"""Advance to the next epoch and write its learning rates into the optimizer."""
        self._step_count += 1
        self.last_epoch += 1
        self._write(self.get_lr())

    def _jump_to(self, epoch: int) -> None:
        """Set ``last_epoch`` and write the closed-form rates there (the recursive ones where a schedule has no
        closed form): how :class:`SequentialLR` starts a schedule at its milestone."""
        self.last_epoch = epoch
        closed_form = getattr(self, "_closed_form_lr", None)
        self._write(closed_form() if closed_form is not None else self.get_lr())

    def _write(self, values: list[float]) -> None:
        for param_group, lr in zip(self.optimizer.param_groups, values, strict=True):
            param_group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


class LambdaLR(LRScheduler):
    r"""Set each group's learning rate to its initial value times a function of the epoch.

    .. math::
        \eta_t = \eta_0 \cdot \lambda(t)

    Args:
        optimizer: wrapped optimizer.
        lr_lambda (callable or list): ``epoch -> factor``, or one such function per parameter group.
        last_epoch (int): index of the last epoch. Default: -1.

    Raises:
        ValueError: if a list of functions does not have one per parameter group.

    Example::

        >>> from impl.nn import Linear
        >>> from impl.optim import AdamW
        >>> opt = AdamW(Linear(4, 2).parameters(), lr=1e-3)
        >>> sched = LambdaLR(opt, lambda epoch: 0.95**epoch)
        >>> for _ in range(10):
        ...     opt.step()  # an epoch of training
        ...     sched.step()
        >>> math.isclose(sched.get_last_lr()[0], 1e-3 * 0.95**10)
        True
    """

    def __init__(
        self,
        optimizer: Any,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        n_groups = len(optimizer.param_groups)
        if not isinstance(lr_lambda, list | tuple):
            self.lr_lambdas: list[Callable[[int], float]] = [lr_lambda] * n_groups  # type: ignore[list-item]
        else:
            if len(lr_lambda) != n_groups:
                raise ValueError(f"Expected {n_groups} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        r"""As :meth:`LRScheduler.state_dict`; the functions themselves are saved only as the ``__dict__`` of
        callable objects (plain functions and lambdas become ``None``)."""
        state_dict = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state_dict["lr_lambdas"] = [None] * len(self.lr_lambdas)
        for idx, fn in enumerate(self.lr_lambdas):
            if not isinstance(fn, types.FunctionType):
                state_dict["lr_lambdas"][idx] = fn.__dict__.copy()
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        r"""Restore the state saved by :meth:`state_dict` (``state_dict`` is left unchanged)."""
        state_dict = dict(state_dict)
        lr_lambdas = state_dict.pop("lr_lambdas")
        self.__dict__.update(state_dict)
        for idx, fn in enumerate(lr_lambdas):
            if fn is not None:
                self.lr_lambdas[idx].__dict__.update(fn)

    def get_lr(self) -> list[float]:
        return [base_lr * lmbda(self.last_epoch) for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal each group's learning rate along a cosine from its initial value to ``eta_min`` over ``T_max`` steps.

    .. math::
        \eta_t = \eta_{\min} + \frac{1}{2}(\eta_0 - \eta_{\min})\left(1 + \cos\frac{t\pi}{T_{\max}}\right)

    As in torch, each step applies the recursive form

    .. math::
        \eta_{t+1} = \eta_{\min} + (\eta_t - \eta_{\min})\,\frac{1 + \cos((t+1)\pi/T_{\max})}{1 + \cos(t\pi/T_{\max})}

    to the current ``lr`` (so an ``lr`` changed by hand carries on), and past ``T_max`` the cosine continues
    periodically (there is no restart and no flat tail).

    Args:
        optimizer: wrapped optimizer.
        T_max (int): number of steps of the half period.
        eta_min (float): lowest learning rate. Default: 0.
        last_epoch (int): index of the last epoch. Default: -1.

    Example::

        >>> from impl.nn import Linear
        >>> from impl.optim import AdamW
        >>> opt = AdamW(Linear(4, 2).parameters(), lr=1e-3)
        >>> sched = CosineAnnealingLR(opt, T_max=1000, eta_min=1e-5)
        >>> for _ in range(500):
        ...     opt.step()
        ...     sched.step()
        >>> round(sched.get_last_lr()[0], 6)  # halfway: (1e-3 + 1e-5) / 2
        0.000505
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and self.last_epoch > 0:
            # Resuming: jump straight to the closed form.
            return [
                self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(self.last_epoch * math.pi / self.T_max)) / 2
                for base_lr in self.base_lrs
            ]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            # At the trough the ratio below is 0/0; step up from the minimum instead.
            return [
                group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                for base_lr, group in zip(self.base_lrs, groups, strict=True)
            ]
        return [
            (1 + math.cos(math.pi * self.last_epoch / self.T_max))
            / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
            * (group["lr"] - self.eta_min)
            + self.eta_min
            for group in groups
        ]

    def _closed_form_lr(self) -> list[float]:
        return [
            self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
            for base_lr in self.base_lrs
        ]


class LinearLR(LRScheduler):
    r"""Scale each group's learning rate by a factor that moves linearly from ``start_factor`` to ``end_factor``
    over ``total_iters`` steps, then stays.

    .. math::
        \eta_t = \eta_0 \left(s + (e - s)\,\frac{\min(t, T)}{T}\right)

    with :math:`s` = ``start_factor``, :math:`e` = ``end_factor``, :math:`T` = ``total_iters``. As in torch, each
    step multiplies the current ``lr`` by the ratio of consecutive factors,
    :math:`1 + (e - s) / (T s + (t - 1)(e - s))`, so a change made to ``lr`` by hand carries on. The usual use is
    a warmup: ``LinearLR(opt, start_factor=1e-3, total_iters=W)``, then a decay through :class:`SequentialLR`.

    Args:
        optimizer: wrapped optimizer.
        start_factor (float): the factor at step 0, in (0, 1]. Default: 1/3.
        end_factor (float): the factor from step ``total_iters`` on, in [0, 1]. Default: 1.
        total_iters (int): steps to go from one to the other. Default: 5.
        last_epoch (int): index of the last epoch. Default: -1.

    Raises:
        ValueError: for a ``start_factor`` outside (0, 1] or an ``end_factor`` outside [0, 1].

    Example::

        >>> from impl.nn import Linear
        >>> from impl.optim import AdamW
        >>> opt = AdamW(Linear(4, 2).parameters(), lr=1.0)
        >>> sched = LinearLR(opt, start_factor=0.25, total_iters=3)
        >>> lrs = [sched.get_last_lr()[0]]
        >>> for _ in range(4):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(sched.get_last_lr()[0])
        >>> lrs
        [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self,
        optimizer: Any,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 < start_factor <= 1:
            raise ValueError(f"start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"end_factor must be in [0, 1], got {end_factor}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return [group["lr"] for group in groups]
        step = self.end_factor - self.start_factor
        ratio = 1.0 + step / (self.total_iters * self.start_factor + (self.last_epoch - 1) * step)
        return [group["lr"] * ratio for group in groups]

    def _closed_form_lr(self) -> list[float]:
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        return [
            base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)
            for base_lr in self.base_lrs
        ]


class SequentialLR(LRScheduler):
    r"""Run one schedule after another: ``schedulers[i]`` from ``milestones[i - 1]`` on.

    Each schedule is built on the same optimizer first (its construction takes a step, which this undoes: the
    learning rates go back to ``initial_lr`` and each schedule's ``last_epoch`` back by one); then the first
    schedule takes its initial step. At milestone :math:`m_i` the next schedule starts at its epoch 0 in closed
    form (so a cosine starts from its ``initial_lr``, not from where the previous schedule left ``lr``) and
    carries on with its own :meth:`step` after that. The state_dict holds the schedules' state_dicts.

    Args:
        optimizer: wrapped optimizer, the one every schedule wraps.
        schedulers (list): the schedules, in order; at least one.
        milestones (list of int): the steps at which the next schedule takes over; one fewer than schedules.
        last_epoch (int): index of the last epoch. Default: -1.

    Raises:
        ValueError: with no schedule, a schedule of another optimizer, or a milestone count that is not one less
            than the schedule count.
        TypeError: for a schedule without an ``optimizer``.

    Example::

        >>> from impl.nn import Linear
        >>> from impl.optim import AdamW
        >>> opt = AdamW(Linear(4, 2).parameters(), lr=1.0)
        >>> warmup = LinearLR(opt, start_factor=0.5, total_iters=2)
        >>> decay = CosineAnnealingLR(opt, T_max=2)
        >>> sched = SequentialLR(opt, [warmup, decay], milestones=[2])
        >>> lrs = [sched.get_last_lr()[0]]
        >>> for _ in range(4):
        ...     opt.step()
        ...     sched.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 6))
        >>> lrs
        [0.5, 0.75, 1.0, 0.5, 0.0]
    """

    def __init__(
        self, optimizer: Any, schedulers: Sequence[Any], milestones: Sequence[int], last_epoch: int = -1
    ) -> None:
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, but got none")
        for i, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"SequentialLR: the scheduler at index {i} has no optimizer attribute")
            if scheduler.optimizer is not optimizer:
                raise ValueError(
                    f"SequentialLR expects all schedulers to belong to the same optimizer, but the "
                    f"{type(scheduler).__name__} at index {i} wraps another one"
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR expects one milestone fewer than schedulers, got {len(schedulers)} schedulers and "
                f"{len(milestones)} milestones"
            )
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        _undo_initial_step(self)
        first = self._schedulers[bisect.bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        r"""Advance to the next epoch with the schedule that serves it."""
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._jump_to(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        r"""Every attribute except the optimizer, with the schedules' own state_dicts under ``"_schedulers"``."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        r"""Restore the state saved by :meth:`state_dict`, each schedule's too (``state_dict`` is left unchanged)."""
        state = dict(state_dict)
        schedulers = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, saved in zip(self._schedulers, schedulers, strict=True):
            scheduler.load_state_dict(saved)


def _undo_initial_step(scheduler: Any) -> None:
    """Step back the ``last_epoch`` of every schedule inside ``scheduler`` (nested ones too)."""
    for inner in scheduler._schedulers:
        if hasattr(inner, "_schedulers"):
            _undo_initial_step(inner)
        else:
            inner.last_epoch -= 1


class WarmupCosine(LRScheduler):
    r"""Linear warmup from 0, cosine decay to ``min_lr``, then flat: the GPT training schedule.

    With :math:`\eta_0` a group's initial learning rate, :math:`W` = ``warmup_iters`` and :math:`D` = ``decay_iters``:

    .. math::
        \eta_t = \begin{cases}
            \eta_0 \, t / W & t < W \\
            \eta_{\min} + \frac{1}{2}(\eta_0 - \eta_{\min})\left(1 + \cos\left(\pi\frac{t - W}{D - W}\right)\right)
                & W \le t \le D \\
            \eta_{\min} & t > D
        \end{cases}

    so the first step runs at ``lr = 0``, :math:`\eta_W = \eta_0` and :math:`\eta_D = \eta_{\min}`. With
    ``decay_iters == warmup_iters`` the rate drops to ``min_lr`` right after the warmup. The value is computed
    from ``last_epoch`` alone (closed form), so resuming from a state_dict reproduces the schedule exactly.

    Args:
        optimizer: wrapped optimizer.
        warmup_iters (int): steps of linear warmup :math:`W \ge 0`.
        decay_iters (int): the step :math:`D \ge W` at which the cosine reaches ``min_lr``.
        min_lr (float or list of floats): the floor, for all groups or one per group. Default: 0.
        last_epoch (int): index of the last epoch. Default: -1.

    Raises:
        ValueError: for negative ``warmup_iters`` or ``min_lr``, ``decay_iters < warmup_iters``, or a ``min_lr``
            list of the wrong length.

    Example::

        >>> from impl.nn import Linear
        >>> from impl.optim import AdamW
        >>> opt = AdamW(Linear(4, 2).parameters(), lr=1e-3)
        >>> sched = WarmupCosine(opt, warmup_iters=100, decay_iters=5000, min_lr=1e-4)
        >>> lrs = []
        >>> for it in range(5001):
        ...     lrs.append(sched.get_last_lr()[0])  # the rate this iteration's step runs at
        ...     opt.step()
        ...     sched.step()
        >>> [round(lrs[it], 6) for it in (0, 50, 100, 2550, 5000)]
        [0.0, 0.0005, 0.001, 0.00055, 0.0001]
    """

    def __init__(
        self,
        optimizer: Any,
        warmup_iters: int,
        decay_iters: int,
        min_lr: float | Sequence[float] = 0.0,
        last_epoch: int = -1,
    ) -> None:
        _check_optimizer(optimizer)
        if warmup_iters < 0:
            raise ValueError(f"warmup_iters must be >= 0, got {warmup_iters}")
        if decay_iters < warmup_iters:
            raise ValueError(f"decay_iters must be >= warmup_iters ({warmup_iters}), got {decay_iters}")
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, Sequence):
            if len(min_lr) != n_groups:
                raise ValueError(f"min_lr must have one value per param group ({n_groups}), got {len(min_lr)}")
            min_lrs = [float(m) for m in min_lr]
        else:
            min_lrs = [float(min_lr)] * n_groups
        if any(m < 0 for m in min_lrs):
            raise ValueError(f"min_lr must be >= 0, got {min_lr}")
        self.warmup_iters = warmup_iters
        self.decay_iters = decay_iters
        self.min_lrs = min_lrs
        super().__init__(optimizer, last_epoch)

    def _lr_at(self, base_lr: float, min_lr: float, t: int) -> float:
        if t < self.warmup_iters:
            return base_lr * t / self.warmup_iters
        if t > self.decay_iters:
            return min_lr
        if self.decay_iters == self.warmup_iters:
            return base_lr  # t == W == D: the last step at full rate, then min_lr
        decay_ratio = (t - self.warmup_iters) / (self.decay_iters - self.warmup_iters)
        return min_lr + 0.5 * (1.0 + math.cos(math.pi * decay_ratio)) * (base_lr - min_lr)

    def get_lr(self) -> list[float]:
        return [
            self._lr_at(base_lr, min_lr, self.last_epoch)
            for base_lr, min_lr in zip(self.base_lrs, self.min_lrs, strict=True)
        ]
