"""trajectory, resume and errors for learning-rate schedules (entries of kind ``scheduler``).

A schedule example describes a run (see ``spec/components/lr_scheduler.py``): the initial learning rate of each
param group, the schedule's arguments, a number of steps and, perhaps, a change made to ``lr`` by hand. Each side
wraps an optimizer with one parameter per group: torch's ``AdamW`` for the reference; the implementation's own
``optim.AdamW`` for it (torch's where it has none), since its schedules may expect its optimizer. Every step calls
``optimizer.step()`` then ``scheduler.step()``, as a training loop does.

``trajectory`` compares, after construction and after every step, each group's ``lr``, ``get_last_lr()`` and
``last_epoch`` with torch's. ``resume`` stops after ``resume_at`` steps, saves the schedule's ``state_dict()``
through ``torch.save``/``torch.load(weights_only=True)`` (a checkpoint), builds a new optimizer and schedule,
loads the optimizer's state then the schedule's (torch's documented order), and continues: the resumed run must
follow torch's uninterrupted one. A schedule's state_dict is its own business (torch's holds private attributes),
so only ``last_epoch`` in it is compared, and nothing is loaded across implementations.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import torch

from conformance.checks.base import CheckFailed, Context, through_checkpoint
from nnresolve import MissingComponent
from spec.entry import Example

_OPTIMIZER = "optim.AdamW"


@dataclass
class _Side:
    """One schedule and the optimizer it drives."""

    name: str
    optimizer: Any
    scheduler: Any
    call: Callable[..., Any]


@contextmanager
def quiet() -> Iterator[None]:
    """torch's schedules warn about call order and deprecated use; the check decides what is wrong, not them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def make_optimizer(ctx: Context, example: Example, iut: bool) -> Any:
    cls = ctx.ref_impl.get(_OPTIMIZER)
    if iut:
        with suppress(MissingComponent):
            cls = ctx.iut_impl.get(_OPTIMIZER)
    call = ctx.iut if iut else ctx.ref
    lrs = list(example.extra["lrs"])
    groups = [{"params": [torch.zeros(1, device=ctx.device, requires_grad=True)], "lr": lr} for lr in lrs]
    return call(cls, groups, what=f"{_OPTIMIZER} with {len(lrs)} param groups of lr {lrs}")


def _schedule_class(ctx: Context, path: str, iut: bool) -> Any:
    if path == ctx.entry.path:
        return ctx.iut_component() if iut else ctx.ref_component()
    return ctx.get_iut(path) if iut else ctx.ref_impl.get(path)


def _factors(ctx: Context, names: Any) -> Any:
    factors = ctx.entry.extra["factors"]
    return [factors[n] for n in names] if isinstance(names, list) else factors[names]


def _direct(fn: Callable[..., Any], *args: Any, what: str = "", **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def schedule(ctx: Context, example: Example, optimizer: Any, iut: bool, direct: bool = False) -> Any:
    """The entry's schedule over ``optimizer``, on one side. With ``direct`` the schedules' constructors are called
    as they are, so that an error case sees what they raise."""
    call = _direct if direct else (ctx.iut if iut else ctx.ref)
    extra = example.extra
    kwargs = dict(example.init)
    if "lr_lambda" in extra:
        kwargs["lr_lambda"] = _factors(ctx, extra["lr_lambda"])
    if "schedulers" in extra:
        other = make_optimizer(ctx, example, iut) if extra.get("optimizer") == "another" else None
        inner = []
        for i, (name, shown) in enumerate(extra["schedulers"]):
            inner_kwargs = dict(shown)
            if "lr_lambda" in inner_kwargs:
                inner_kwargs["lr_lambda"] = _factors(ctx, inner_kwargs["lr_lambda"])
            path = f"optim.lr_scheduler.{name}"
            target = other if i == extra.get("other") else optimizer
            cls = _schedule_class(ctx, path, iut)
            inner.append(call(cls, target, what=f"{path}(optimizer, **{dict(shown)!r})", **inner_kwargs))
        kwargs["schedulers"] = inner
    target = [] if extra.get("optimizer") == "not an optimizer" else optimizer
    shown = dict(example.init) | ({"lr_lambda": extra["lr_lambda"]} if "lr_lambda" in extra else {})
    cls = _schedule_class(ctx, ctx.entry.path, iut)
    return call(cls, target, what=f"{ctx.entry.path}(optimizer, **{shown!r})", **kwargs)


def _side(ctx: Context, example: Example, iut: bool, name: str = "") -> _Side:
    optimizer = make_optimizer(ctx, example, iut)
    return _Side(
        name or ("the implementation" if iut else "torch"),
        optimizer,
        schedule(ctx, example, optimizer, iut),
        ctx.iut if iut else ctx.ref,
    )


def _floats(values: Any, what: str) -> torch.Tensor:
    try:
        return torch.tensor([float(v) for v in values], dtype=torch.float64)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} is {values!r}; torch's is a list of floats, one per param group") from None


def _expect_same(ctx: Context, got: _Side, expected: _Side, when: str) -> None:
    """``lr`` of every group, ``get_last_lr()`` and ``last_epoch`` as torch's."""
    lrs = _floats([g["lr"] for g in got.optimizer.param_groups], f"{when}: the groups' lr")
    want = _floats([g["lr"] for g in expected.optimizer.param_groups], "torch's lr")
    ctx.expect_close(lrs, want, "float64", f"{when}: the lr of each param group, of {got.name}")
    last = got.call(got.scheduler.get_last_lr, what=f"{got.name}: get_last_lr()")
    ctx.expect_close(_floats(last, f"{when}: get_last_lr()"), want, "float64", f"{when}: get_last_lr() of {got.name}")
    epoch, want_epoch = getattr(got.scheduler, "last_epoch", "missing"), expected.scheduler.last_epoch
    if epoch != want_epoch:
        raise CheckFailed(f"{when}: last_epoch of {got.name} is {epoch!r}; torch's is {want_epoch}")


def _advance(ctx: Context, example: Example, reference: _Side, others: list[_Side], k: int) -> None:
    """Step ``k`` on every side (after the hand change to ``lr``, if the example makes one there); then compare."""
    n = example.extra["steps"]
    scale_at = example.extra.get("scale_at")
    when = f"after step {k + 1} of {n}"
    for side in (reference, *others):
        if scale_at is not None and scale_at[0] == k:
            for group in side.optimizer.param_groups:
                group["lr"] = group["lr"] * scale_at[1]
        side.call(side.optimizer.step, what=f"{side.name}: optimizer.step() {k + 1}")
        side.call(side.scheduler.step, what=f"{side.name}: scheduler.step() {k + 1}")
    if scale_at is not None and scale_at[0] == k:
        when += f" (lr times {scale_at[1]} by hand before it)"
    for side in others:
        _expect_same(ctx, side, reference, when)


def trajectory(ctx: Context, example: Example) -> None:
    """Learning rates, get_last_lr() and last_epoch match torch's after construction and after every step."""
    with quiet():
        ref, iut = _side(ctx, example, iut=False), _side(ctx, example, iut=True)
        _expect_same(ctx, iut, ref, "after construction")
        for k in range(example.extra["steps"]):
            _advance(ctx, example, ref, [iut], k)


def _checkpoint(ctx: Context, side: _Side) -> dict[str, Any]:
    state = side.call(side.scheduler.state_dict, what=f"{side.name}: state_dict()")
    try:
        loaded = through_checkpoint(state)
    except Exception as exc:
        raise CheckFailed(
            f"{side.name}: the schedule's state_dict() does not survive torch.save/torch.load(weights_only=True): {exc}"
        ) from exc
    if not isinstance(loaded, dict):
        raise CheckFailed(f"{side.name}: state_dict() is a {type(loaded).__name__}; torch's is a dict")
    return loaded


def resume(ctx: Context, example: Example) -> None:
    """The state_dict, saved as a checkpoint and loaded into a new schedule, continues torch's run."""
    at = example.extra["resume_at"]
    with quiet():
        ref, iut = _side(ctx, example, iut=False), _side(ctx, example, iut=True)
        for k in range(at):
            _advance(ctx, example, ref, [iut], k)
        saved = _checkpoint(ctx, iut)
        want = ref.scheduler.state_dict()["last_epoch"]
        if saved.get("last_epoch") != want:
            raise CheckFailed(
                f"after {at} steps, state_dict()['last_epoch'] is {saved.get('last_epoch', 'missing')!r}; "
                f"torch's is {want}"
            )
        optimizer_state = iut.call(iut.optimizer.state_dict, what="the implementation's optimizer: state_dict()")
        resumed = _side(ctx, example, iut=True, name="the implementation resumed")
        # torch's order: build the schedule, then load the optimizer (its lr and initial_lr), then the schedule.
        resumed.call(resumed.optimizer.load_state_dict, optimizer_state, what="optimizer.load_state_dict()")
        resumed.call(resumed.scheduler.load_state_dict, saved, what=f"{resumed.name}: load_state_dict()")
        _expect_same(ctx, resumed, ref, f"after load_state_dict at step {at}")
        for k in range(at, example.extra["steps"]):
            _advance(ctx, example, ref, [iut, resumed], k)
