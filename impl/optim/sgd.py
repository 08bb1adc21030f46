"""``SGD``: stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import torch

from impl.optim import blocks
from impl.optim.optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, numerically matching torch's SGD.

    For each parameter :math:`\theta` with gradient :math:`g` (negated when ``maximize``), with :math:`\gamma` =
    ``lr``, :math:`\lambda` = ``weight_decay``, :math:`\mu` = ``momentum`` and :math:`\tau` = ``dampening``:

    .. math::
        \begin{aligned}
            g &\leftarrow g + \lambda\theta \\
            b &\leftarrow g \text{ at a parameter's first step, else } \mu b + (1 - \tau)\, g \\
            g &\leftarrow g + \mu b \text{ (Nesterov), else } b \\
            \theta &\leftarrow \theta - \gamma g
        \end{aligned}

    The momentum lines apply only when :math:`\mu \ne 0`. The first step copies the gradient into the buffer
    without dampening (as torch does; Sutskever et al. scale by :math:`1 - \tau` there too). The per-parameter
    state is ``"momentum_buffer"``, kept only with momentum; a parameter whose ``grad`` is ``None`` is skipped.
    The update runs as ``torch._foreach_*`` kernels over the parameters of one device and dtype, block by block on
    the CPU (:mod:`impl.optim.blocks`); the parameters' ``.grad`` is never changed.

    Args:
        params (iterable): tensors, ``(name, tensor)`` pairs, or dicts defining parameter groups.
        lr (float): learning rate :math:`\gamma`. Default: 1e-3.
        momentum (float): :math:`\mu`. Default: 0.
        dampening (float): :math:`\tau`. Default: 0.
        weight_decay (float): L2 penalty :math:`\lambda`. Default: 0.
        nesterov (bool): Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``. Default: ``False``.
        maximize (bool): ascend the objective instead of descending. Default: ``False``.
        foreach (bool, optional): accepted and recorded for compatibility; the update is always vectorised.
        differentiable (bool): must be ``False`` (``True`` raises ``NotImplementedError``).
        fused (bool, optional): must be ``None`` or ``False`` (``True`` raises ``NotImplementedError``).

    Raises:
        ValueError: for a negative ``lr``, ``momentum`` or ``weight_decay``, or ``nesterov`` without momentum or
            with dampening, with torch's messages.
        NotImplementedError: for a Tensor ``lr`` or ``weight_decay``, ``differentiable``, ``fused``, and (at
            :meth:`step`) sparse gradients.

    Example::

        >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     w.grad = torch.tensor([1.0, 1.0])
        ...     opt.step()
        >>> w  # steps of 0.1, then 0.1 * (0.9 + 1)
        tensor([ 0.7100, -2.2900], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if isinstance(lr, torch.Tensor) or isinstance(weight_decay, torch.Tensor):
            raise NotImplementedError("SGD: a Tensor lr or weight_decay is not supported; pass a float")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if differentiable:
            raise NotImplementedError("SGD: differentiable=True is not supported")
        if fused:
            raise NotImplementedError("SGD: fused=True is not supported")
        # The same keys, in the same order, as torch's SGD, so that state_dicts are interchangeable.
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    _group_setdefaults: ClassVar[dict[str, Any]] = {
        "nesterov": False,
        "maximize": False,
        "foreach": None,
        "differentiable": False,
        "fused": False,
    }

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        r"""Perform one optimisation step over all parameters that have a gradient.

        Args:
            closure (callable, optional): re-evaluates the model and returns the loss (run with grad enabled).

        Returns:
            The closure's loss, or ``None``.
        """
        loss = self._loss_of(closure)
        for group in self.param_groups:
            for flag in ("differentiable", "fused"):
                if group.get(flag):  # a loaded state_dict may carry settings the constructor would have refused
                    raise NotImplementedError(f"SGD: {flag}=True is not supported")
            # Parameters and their gradients by (device, dtype).
            buckets: dict[tuple[torch.device, torch.dtype], tuple[list[torch.Tensor], list[torch.Tensor]]] = (
                defaultdict(lambda: ([], []))
            )
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise NotImplementedError("SGD does not support sparse gradients")
                params, grads = buckets[(p.device, p.dtype)]
                params.append(p)
                grads.append(p.grad)
            for params, grads in buckets.values():
                self._update(params, grads, group)
        return loss

    def _update(self, params: list[torch.Tensor], grads: list[torch.Tensor], group: dict[str, Any]) -> None:
        """One step of parameters sharing a device and dtype: torch's SGD kernels, block by block."""
        lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
        tensor_lists = [params, grads]
        fresh: set[int] = set()  # parameters at their first step with momentum: the buffer takes the gradient
        if momentum != 0:
            bufs = []
            for i, (param, grad) in enumerate(zip(params, grads, strict=True)):
                state = self.state[param]
                if state.get("momentum_buffer") is None:
                    state["momentum_buffer"] = torch.empty_like(grad)
                    fresh.add(i)
                bufs.append(state["momentum_buffer"])
            tensor_lists.append(bufs)
        for owners, (p, g, *b) in blocks.blocks(tensor_lists):
            owned = False  # whether g holds this step's temporaries (safe to change) rather than the .grad
            if group["maximize"]:
                g, owned = list(torch._foreach_neg(g)), True
            if weight_decay != 0:
                if owned:
                    torch._foreach_add_(g, p, alpha=weight_decay)
                else:
                    g, owned = list(torch._foreach_add(g, p, alpha=weight_decay)), True
            if momentum != 0:
                buf = b[0]
                old = [j for j, i in enumerate(owners) if i not in fresh]
                new = [j for j, i in enumerate(owners) if i in fresh]
                if old:
                    torch._foreach_mul_([buf[j] for j in old], momentum)
                    torch._foreach_add_([buf[j] for j in old], [g[j] for j in old], alpha=1 - group["dampening"])
                if new:
                    torch._foreach_copy_([buf[j] for j in new], [g[j] for j in new])
                if not group["nesterov"]:
                    g = buf
                elif owned:
                    torch._foreach_add_(g, buf, alpha=momentum)
                else:
                    g = list(torch._foreach_add(g, buf, alpha=momentum))
            torch._foreach_add_(p, g, alpha=-lr)
