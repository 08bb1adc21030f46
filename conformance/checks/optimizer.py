"""trajectory and resume: an optimizer moves parameters as torch's does, and its state_dict resumes a run.

An optimizer example describes a short run (see ``spec/components/adamw.py``): parameter shapes, hyperparameters,
optional parameter groups, and per step an optional ``zero_grad`` call and a gradient (or none) per parameter.
Initial values and gradients come from the example's seed, identical on both sides.

``trajectory`` runs the reference and the implementation under test side by side and compares, after every step,
every parameter (the entry's tolerance, torch.testing.assert_close's by default) and, after every ``zero_grad``,
which gradients are None and which are zero.

``resume`` stops after ``resume_at`` steps and checks the state_dict: its layout matches torch's (``state`` keyed
by parameter index, per-parameter keys, ``step`` a 0-dim tensor, the hyperparameters of ``extra["group_keys"]`` in
every param group), its values match torch's, and it survives ``torch.save``/``torch.load(weights_only=True)``.
Then three new optimizers, built with bare parameter lists so that the hyperparameters must come from the loaded
state, continue the run next to the originals: the IUT loading its own state, torch loading the IUT's state, and
the IUT loading torch's state. All must follow torch's trajectory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from conformance.checks import lr_scheduler
from conformance.checks.base import CheckFailed, Context, ReferenceFailed, check, through_checkpoint
from conformance.materialize import dtype_of
from spec.entry import Example


@dataclass
class _Run:
    """The values of a run, shared by every side: initial parameters and the gradient of each step."""

    initial: list[torch.Tensor]
    grads: list[list[torch.Tensor | None]]

    @classmethod
    def of(cls, example: Example, device: torch.device) -> _Run:
        # Drawn on the CPU, then moved: every device sees the same numbers.
        gen = torch.Generator().manual_seed(example.seed)
        dtype = dtype_of(example.dtype)
        shapes = [tuple(s) for s in example.extra["shapes"]]
        initial = [torch.randn(s, generator=gen, dtype=torch.float64).to(device, dtype) for s in shapes]
        grads = [
            [
                None
                if scale is None
                else (torch.randn(s, generator=gen, dtype=torch.float64) * scale).to(device, dtype)
                for s, scale in zip(shapes, step, strict=True)
            ]
            for step in example.extra["grads"]
        ]
        return cls(initial, grads)


@dataclass
class _Side:
    """One optimizer and the parameters it owns."""

    name: str
    params: list[torch.Tensor]
    optimizer: Any
    call: Callable[..., Any]


def _leaves(values: list[torch.Tensor], grads: list[torch.Tensor | None] | None = None) -> list[torch.Tensor]:
    params = [v.detach().clone().requires_grad_(True) for v in values]
    for p, g in zip(params, grads or [None] * len(params), strict=True):
        p.grad = None if g is None else g.clone()
    return params


def _params_argument(example: Example, params: list[torch.Tensor], bare: bool) -> Any:
    """What the constructor receives: a list, a generator, or param groups (without overrides when ``bare``)."""
    groups = example.extra.get("groups")
    if groups:
        return [
            {
                "params": [params[i] for i in g["params"]],
                **({} if bare else {k: v for k, v in g.items() if k != "params"}),
            }
            for g in groups
        ]
    if example.extra.get("params_as") == "generator":
        return (p for p in params)
    return list(params)


def _build(
    ctx: Context,
    example: Example,
    params: list[torch.Tensor],
    iut: bool,
    bare: bool = False,
    name: str = "",
    call: Callable[..., Any] | None = None,
) -> _Side:
    """An optimizer over ``params``; ``bare`` leaves every hyperparameter to the defaults (a state_dict will set them).

    ``call`` overrides how the side's methods are called: torch's optimizer working on the IUT's state_dict fails
    through the IUT's fault, so it is called like the IUT.
    """
    cls = ctx.iut_component() if iut else ctx.ref_impl.get(ctx.entry.path)
    call = call or (ctx.iut if iut else ctx.ref)
    init = {} if bare else dict(example.init)
    what = f"{ctx.entry.path}(params, **{init!r})"
    optimizer = call(cls, _params_argument(example, params, bare), what=what, **init)
    return _Side(name or ("the implementation" if iut else "torch"), params, optimizer, call)


def _zero_grad(side: _Side, how: Any) -> None:
    if how is None:
        return
    what = f"{side.name}: zero_grad({'' if how == 'default' else f'set_to_none={how}'})"
    if how == "default":
        side.call(side.optimizer.zero_grad, what=what)
    else:
        side.call(side.optimizer.zero_grad, set_to_none=how, what=what)


def _set_grads(side: _Side, grads: list[torch.Tensor | None]) -> None:
    for p, g in zip(side.params, grads, strict=True):
        if g is not None:
            p.grad = g.clone()


def _step(side: _Side, k: int) -> None:
    side.call(side.optimizer.step, what=f"{side.name}: step() {k + 1}")


def _expect_same_grads(ctx: Context, got: _Side, expected: _Side, when: str) -> None:
    for i, (a, e) in enumerate(zip(got.params, expected.params, strict=True)):
        if (a.grad is None) != (e.grad is None):
            state = "None" if a.grad is None else "a tensor"
            raise CheckFailed(f"{when}: grad of parameter {i} is {state} for {got.name}; torch's is not")
        if a.grad is not None and e.grad is not None and not torch.equal(a.grad, e.grad):
            raise CheckFailed(f"{when}: grad of parameter {i} differs for {got.name} (zero_grad(set_to_none=False)?)")


def _expect_same_params(ctx: Context, example: Example, got: _Side, expected: _Side, when: str) -> None:
    for i, (a, e) in enumerate(zip(got.params, expected.params, strict=True)):
        ctx.expect_close(a.detach(), e.detach(), example.dtype, f"{when}: parameter {i} of {got.name}")


def _advance(ctx: Context, example: Example, run: _Run, reference: _Side, others: list[_Side], k: int) -> None:
    """Step ``k`` on every side; the others are compared with the reference afterwards."""
    n = len(run.grads)
    how = example.extra["zero_grad"][k]
    for side in (reference, *others):
        _zero_grad(side, how)
    if how is not None:
        for side in others:
            _expect_same_grads(ctx, side, reference, f"after zero_grad before step {k + 1} of {n}")
    for side in (reference, *others):
        _set_grads(side, run.grads[k])
        _step(side, k)
    for side in others:
        _expect_same_params(ctx, example, side, reference, f"after step {k + 1} of {n}")


def _start(ctx: Context, example: Example) -> tuple[_Run, _Side, _Side]:
    run = _Run.of(example, ctx.device)
    return (
        run,
        _build(ctx, example, _leaves(run.initial), iut=False),
        _build(ctx, example, _leaves(run.initial), iut=True),
    )


def _optimizer_examples(entry: Any) -> Any:
    return entry.examples if entry.kind in ("optimizer", "scheduler") else None


@check("trajectory", examples=_optimizer_examples)
def trajectory(ctx: Context, example: Example | None) -> None:
    """Parameters (learning rates, for a schedule) match torch's after every step."""
    assert example is not None
    if ctx.entry.kind == "scheduler":
        lr_scheduler.trajectory(ctx, example)
        return
    run, ref, iut = _start(ctx, example)
    for k in range(len(run.grads)):
        _advance(ctx, example, run, ref, [iut], k)


# resume -------------------------------------------------------------------------------------------------------------


def _walk_state(state: Any) -> Iterator[tuple[str, Any]]:
    for key, per_param in state.items():
        for name, value in per_param.items():
            yield f"state[{key!r}][{name!r}]", value


def _expect_same_layout(ctx: Context, example: Example, got: Any, expected: dict[str, Any]) -> None:
    """``got`` (the IUT's state_dict) is laid out as torch's ``expected`` and holds the same values."""
    if not isinstance(got, dict) or not {"state", "param_groups"} <= set(got):
        keys = list(got) if isinstance(got, dict) else type(got).__name__
        raise CheckFailed(f"state_dict() is {keys}; torch's is a dict with keys ['state', 'param_groups']")
    state, expected_state = got["state"], expected["state"]
    if sorted(state, key=repr) != sorted(expected_state, key=repr):
        raise CheckFailed(
            f"state_dict()['state'] has keys {sorted(state, key=repr)}; torch's has {sorted(expected_state)} "
            "(integer parameter indices, only for parameters that have been stepped with a gradient)"
        )
    for key, per_param in expected_state.items():
        if sorted(state[key]) != sorted(per_param):
            raise CheckFailed(
                f"state_dict()['state'][{key}] has keys {sorted(state[key])}; torch's {sorted(per_param)}"
            )
    actual_values = dict(_walk_state(state))
    for where, e in _walk_state(expected_state):
        a = actual_values[where]
        if not isinstance(a, torch.Tensor):
            raise CheckFailed(f"state_dict(): {where} is {type(a).__name__} {a!r}; torch's is a tensor {e!r}")
        if where.endswith("['step']"):
            if a.shape != () or not a.is_floating_point() or float(a) != float(e):
                raise CheckFailed(
                    f"state_dict(): {where} is {a!r} (shape {tuple(a.shape)}, {a.dtype}); torch's is {e!r}, "
                    "a 0-dim floating tensor"
                )
        else:
            ctx.expect_close(a, e, example.dtype, f"state_dict(): {where}")

    groups, expected_groups = got["param_groups"], expected["param_groups"]
    if len(groups) != len(expected_groups):
        raise CheckFailed(f"state_dict() has {len(groups)} param_groups; torch's has {len(expected_groups)}")
    for i, (g, e) in enumerate(zip(groups, expected_groups, strict=True)):
        for key in ("params", *ctx.entry.extra.get("group_keys", ())):
            if key not in g:
                raise CheckFailed(f"state_dict()['param_groups'][{i}] lacks {key!r}; it has {sorted(g)}")
            a_val = list(g[key]) if isinstance(g[key], (list, tuple)) else g[key]
            e_val = list(e[key]) if isinstance(e[key], (list, tuple)) else e[key]
            if a_val != e_val:
                raise CheckFailed(f"state_dict()['param_groups'][{i}][{key!r}] is {g[key]!r}; torch's is {e[key]!r}")


def _saved(ctx: Context, side: _Side) -> dict[str, Any]:
    """The side's state_dict after a trip through torch.save and torch.load(weights_only=True), as a checkpoint."""
    state = side.call(side.optimizer.state_dict, what=f"{side.name}: state_dict()")
    try:
        return through_checkpoint(state)
    except Exception as exc:
        message = f"{side.name}: state_dict() does not survive torch.save/torch.load(weights_only=True): {exc}"
        if side.call == ctx.ref:
            raise ReferenceFailed(message) from exc
        raise CheckFailed(message) from exc


def _resumed(ctx: Context, example: Example, source: _Side, state: dict[str, Any], iut: bool, name: str) -> _Side:
    """A bare optimizer over copies of ``source``'s parameters (and gradients) that loads ``state``."""
    params = _leaves([p.detach() for p in source.params], [p.grad for p in source.params])
    # Whichever optimizer loads the IUT's state, a failure is the IUT's.
    side = _build(ctx, example, params, iut=iut, bare=True, name=name, call=ctx.iut if source.call == ctx.iut else None)
    side.call(side.optimizer.load_state_dict, state, what=f"{name}: load_state_dict()")
    return side


@check("resume", examples=_optimizer_examples)
def resume(ctx: Context, example: Example | None) -> None:
    """state_dict matches torch's and resumes the run when reloaded (IUT->IUT, IUT->torch, torch->IUT; a schedule's,
    IUT->IUT from a checkpoint)."""
    assert example is not None
    if ctx.entry.kind == "scheduler":
        lr_scheduler.resume(ctx, example)
        return
    run, ref, iut = _start(ctx, example)
    at = example.extra["resume_at"]
    for k in range(at):
        _advance(ctx, example, run, ref, [iut], k)

    ref_state, iut_state = _saved(ctx, ref), _saved(ctx, iut)
    _expect_same_layout(ctx, example, iut_state, ref_state)
    continuing = [
        iut,
        _resumed(ctx, example, iut, _saved(ctx, iut), iut=True, name="the implementation reloaded"),
        _resumed(ctx, example, iut, iut_state, iut=False, name="torch loading the implementation's state_dict"),
        _resumed(ctx, example, ref, ref_state, iut=True, name="the implementation loading torch's state_dict"),
    ]
    for side in continuing[1:]:
        groups = [{k: v for k, v in g.items() if k != "params"} for g in side.optimizer.param_groups]
        expected = [{k: v for k, v in g.items() if k != "params"} for g in ref.optimizer.param_groups]
        for i, (g, e) in enumerate(zip(groups, expected, strict=True)):
            for key in ctx.entry.extra.get("group_keys", ()):
                if key not in g or (list(g[key]) if isinstance(g[key], tuple) else g[key]) != (
                    list(e[key]) if isinstance(e[key], tuple) else e[key]
                ):
                    raise CheckFailed(
                        f"{side.name}: after load_state_dict, param_groups[{i}][{key!r}] is {g.get(key, 'missing')!r}"
                        f"; the saved state has {e[key]!r}"
                    )
    for k in range(at, len(run.grads)):
        _advance(ctx, example, run, ref, continuing, k)
