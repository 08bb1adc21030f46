"""Run one example on both sides: build modules, load the reference's weights into the IUT, call, backpropagate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from conformance.checks.base import CheckFailed, Context, Skipped
from conformance.materialize import Materialized, dtype_of, flatten_tensors, named_tensors, tensors_needing_grad
from spec.entry import Example


@dataclass
class Side:
    """One side of a comparison: its module (if any), its call arguments and its outputs."""

    module: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    outputs: list[torch.Tensor] = field(default_factory=list)
    # The call's tensors as they were before the call, by place: what it changed in place shows against them.
    inputs_before: dict[str, torch.Tensor] = field(default_factory=dict)

    def leaves(self) -> dict[str, torch.Tensor]:
        return tensors_needing_grad(self.args, self.kwargs)


def build_module(ctx: Context, example: Example, init: dict[str, Any], iut: bool) -> Any:
    """Construct the component with ``init`` on one side, in the example's dtype and mode."""
    call = ctx.iut if iut else ctx.ref
    cls = ctx.iut_component() if iut else ctx.ref_component()
    module = call(cls, **init, what=f"{cls.__name__}(**{init!r})")
    if example.dtype != "float32":
        module = call(module.to, dtype_of(example.dtype), what=f"{type(module).__name__}.to({example.dtype})")
    if ctx.device.type != "cpu":
        module = call(module.to, ctx.device, what=f"{type(module).__name__}.to({str(ctx.device)!r})")
    if not example.train:
        call(module.eval, what=f"{type(module).__name__}.eval()")
    return module


def build_pair(ctx: Context, example: Example) -> tuple[Any, Any]:
    """The reference's module and the IUT's, each built from its own copy of the example's constructor arguments."""
    init, _, _ = Materialized(example).copy()
    ref = build_module(ctx, example, init, iut=False)
    init, _, _ = Materialized(example).copy()
    return ref, build_module(ctx, example, init, iut=True)


def perturb_weights(module: Any, seed: int) -> None:
    """Move every floating parameter off its default init (LayerNorm's ones and zeros would hide a weight bug)."""
    gen = torch.Generator().manual_seed(seed + 2)
    with torch.no_grad():
        for p in module.parameters():
            if p.is_floating_point():
                p.add_((torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.1).to(p.device, p.dtype))


def snapshot(module: Any) -> dict[str, torch.Tensor]:
    """The module's state, copied: a forward that changes weights in place (max_norm) cannot alter it."""
    return {k: v.clone() for k, v in module.state_dict().items()}


def load_weights(ctx: Context, state: dict[str, torch.Tensor], iut_module: Any) -> None:
    """Load the reference's weights into the IUT so that both compute with the same weights."""
    try:
        iut_module.load_state_dict(state)
    except NotImplementedError:
        raise
    except Exception as exc:
        raise CheckFailed(
            f"{ctx.component}.load_state_dict(reference state_dict with keys {list(state)}) "
            f"raised {type(exc).__name__}: {exc}"
        ) from exc


def run_both(ctx: Context, example: Example, strided: bool = False) -> tuple[Side, Side]:
    """Forward the example through the reference and the IUT; outputs are compared by the caller. With ``strided``
    the call's tensors come in a non-contiguous layout, the same values."""
    mat = Materialized(example, ctx.device)
    sides = []
    raw: list[Any] = []  # each side's return value, as it came
    state: dict[str, torch.Tensor] = {}
    # The reference module's random initial weights (which the IUT then loads) follow the example's seed, so that a
    # failure replays exactly.
    torch.manual_seed(example.seed)
    for iut in (False, True):
        init, args, kwargs = mat.copy(strided)
        call = ctx.iut if iut else ctx.ref
        if ctx.entry.kind == "module":
            module = build_module(ctx, example, init, iut)
            if iut:
                ctx.iut(load_weights, ctx, state, module, what=f"{ctx.component}.load_state_dict")
            else:
                if ctx.entry.extra.get("perturb", True):
                    perturb_weights(module, example.seed)
                state = snapshot(module)
            fn = module
        else:
            module = None
            fn = ctx.iut_component() if iut else ctx.ref_component()
        before = {name: t.detach().clone() for name, t in named_tensors(args, kwargs).items()}
        out = call_component(ctx, call, fn, args, kwargs)
        raw.append(out)
        sides.append(Side(module, args, kwargs, flatten_tensors(out), before))
    ref, iut_side = sides
    if len(ref.outputs) != len(iut_side.outputs):
        raise CheckFailed(f"returned {describe_value(raw[1])}, where the reference returns {describe_value(raw[0])}")
    return ref, iut_side


def describe_value(value: Any) -> str:
    """What a call returned, as a failure names it: "a Tensor of shape (2, 3)", "None", "a numpy.ndarray"."""
    if isinstance(value, torch.Tensor):
        return f"a Tensor of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}: ({', '.join(describe_value(v) for v in value)})"
    if value is None:
        return "None"
    kind = type(value)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return f"a {name} ({value!r})" if isinstance(value, (int, float, bool, complex)) else f"a {name}"


def call_component(ctx: Context, call: Any, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call a component; an entry may route the call through ``extra["call"]`` (e.g. to return what it mutates)."""
    wrapper = ctx.entry.extra.get("call")
    if wrapper is not None:
        return call(wrapper, fn, *args, **kwargs)
    return call(fn, *args, **kwargs)


def _unchanged(after: torch.Tensor, before: torch.Tensor) -> bool:
    if after.shape != before.shape:
        return False
    if not after.is_floating_point():
        return torch.equal(after, before)
    return bool(((after == before) | (after.isnan() & before.isnan())).all())


def compare_inputs(ctx: Context, example: Example, ref: Side, iut: Side) -> None:
    """An input the reference leaves alone stays as it was; one that it changes in place (``inplace=True``,
    ``max_norm``) changes alike."""
    ref_after, iut_after = named_tensors(ref.args, ref.kwargs), named_tensors(iut.args, iut.kwargs)
    for name, before in iut.inputs_before.items():
        r, a = ref_after[name], iut_after[name]
        if _unchanged(r, ref.inputs_before[name]):
            if not _unchanged(a, before):
                raise CheckFailed(f"the call changed {name} in place; the reference leaves it as it was")
        else:
            ctx.expect_close(a, r, example.dtype, f"{name} after the call (the reference changes it in place)")


def compare_outputs(ctx: Context, example: Example, ref: Side, iut: Side) -> None:
    """Outputs match; so do the call's inputs afterwards (changed in place only where the reference changes them)
    and the module's state (a forward may change weights, as max_norm does)."""
    for i, (r, a) in enumerate(zip(ref.outputs, iut.outputs, strict=True)):
        what = "output" if len(ref.outputs) == 1 else f"output[{i}]"
        ctx.expect_close(a, r, example.dtype, what)
    compare_inputs(ctx, example, ref, iut)
    if ref.module is not None:
        after = ctx.iut(iut.module.state_dict, what="state_dict() after forward")
        for name, r in ref.module.state_dict().items():
            if name not in after:
                raise CheckFailed(f"state_dict() after forward has no {name!r}")
            ctx.expect_close(after[name], r, example.dtype, f"state_dict()[{name!r}] after forward")


def upstream_gradients(example: Example, outputs: list[torch.Tensor]) -> list[torch.Tensor]:
    """A random upstream gradient per output that requires grad, reproducible from the example's seed."""
    gen = torch.Generator().manual_seed(example.seed + 1)
    scale = float(example.extra.get("grad_scale", 1.0))
    grads = []
    for out in outputs:
        g = torch.randn(out.shape, generator=gen, dtype=torch.float64) * scale
        grads.append(g.to(out.device, out.dtype))
    return grads


def backward_both(ctx: Context, example: Example, ref: Side, iut: Side) -> None:
    """Backpropagate the same upstream gradient on both sides; compare input and parameter gradients."""
    wanted = [i for i, o in enumerate(ref.outputs) if o.requires_grad]
    if not wanted:
        raise Skipped("the reference output needs no gradient")
    grads = upstream_gradients(example, [ref.outputs[i] for i in wanted])
    ctx.ref(torch.autograd.backward, [ref.outputs[i] for i in wanted], grads, what="backward")
    missing = [i for i in wanted if not iut.outputs[i].requires_grad]
    if missing:
        raise CheckFailed(f"output {missing[0]} does not require grad, but the reference's does (no graph)")
    ctx.iut(torch.autograd.backward, [iut.outputs[i] for i in wanted], grads, what=f"{ctx.component} backward")

    scale = float(example.extra.get("grad_scale", 1.0))
    # Gradients flow back through the outputs: they are no more precise than the least precise output.
    dtypes = [example.dtype, *(str(o.dtype).removeprefix("torch.") for o in ref.outputs if o.is_floating_point())]
    grad_dtype = max(dtypes, key=ctx.tolerance)
    ref_leaves, iut_leaves = ref.leaves(), iut.leaves()
    pairs: list[tuple[str, torch.Tensor | None, torch.Tensor | None]] = [
        (f"grad of {name}", leaf.grad, iut_leaves[name].grad) for name, leaf in ref_leaves.items()
    ]
    if ref.module is not None:
        iut_params = dict(ctx.iut(iut.module.named_parameters, what="named_parameters"))
        for name, p in ref.module.named_parameters():
            if name not in iut_params:
                raise CheckFailed(f"has no parameter {name!r}; it has {sorted(iut_params)}")
            pairs.append((f"grad of parameter {name!r}", p.grad, iut_params[name].grad))
    for what, expected, actual in pairs:
        if expected is None:
            continue
        if actual is None:
            raise CheckFailed(f"{what} is None, the reference computes one")
        ctx.expect_close(actual, expected, grad_dtype, what, scale=scale)


def compare_example(ctx: Context, example: Example, strided: bool = False) -> None:
    """Outputs, then gradients where the reference's output has any."""
    ref, iut = run_both(ctx, example, strided)
    compare_outputs(ctx, example, ref, iut)
    if any(o.requires_grad for o in ref.outputs):
        backward_both(ctx, example, ref, iut)
