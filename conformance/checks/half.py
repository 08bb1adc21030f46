"""half: in bfloat16 and float16, the IUT is as accurate as the reference, judged against float64.

Two correct implementations in half precision round differently along the way (one keeps an intermediate in
float32 that the other rounds), so their results can differ by more than the dtype's ``assert_close`` tolerance
while both are right. Here both sides compute the example in half precision, the reference also computes it in
float64 on exactly the same (rounded) inputs, weights and upstream gradient, and the IUT's largest error against
that float64 result, in the output and in every gradient, may be at most 3x the reference's own error, or one
unit of the result dtype's resolution at the result's scale, or that dtype's absolute tolerance (``assert_close``'s
``atol``), whichever is largest. The output's dtype and shape must match the reference's.
A dtype that the reference itself does not support for the example is skipped. (An argument left to a
dtype-dependent default, such as ``rms_norm``'s ``eps``, takes float64's value in the float64 evaluation; the
absolute floor covers the difference at the examples' scales.)
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from conformance.checks.base import CheckFailed, Context, ReferenceFailed, Skipped, check
from conformance.checks.calls import Side, call_component, run_both, upstream_gradients
from conformance.materialize import flatten_tensors
from spec.entry import Example

HALF = ("bfloat16", "float16")
#: How much larger than the reference's own error the IUT's may be.
FACTOR = 3.0


def _float64(value: Any) -> Any:
    """A float64 leaf of each half-precision tensor (exact: every half value is a float64 value), other values as
    they are: a tensor the spec gives a dtype of its own (a float32 quantization scale) keeps it."""
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            return value
        # A leaf of its own in any case: the float64 run's gradients must not add to the reference's.
        wider = value.double() if value.dtype in (torch.float16, torch.bfloat16) else value.clone()
        return wider.detach().requires_grad_(value.requires_grad)
    if isinstance(value, tuple):
        return tuple(_float64(v) for v in value)
    if isinstance(value, list):
        return [_float64(v) for v in value]
    if isinstance(value, dict):
        return {k: _float64(v) for k, v in value.items()}
    return value


def _truth(ctx: Context, ref: Side) -> Side:
    """The reference's call evaluated in float64 on the reference side's own inputs and weights."""
    args, kwargs = _float64(ref.args), _float64(ref.kwargs)
    module = None
    if ref.module is not None:
        module = copy.deepcopy(ref.module).double()
        fn = module
    else:
        fn = ctx.ref_component()
    out = call_component(ctx, ctx.ref, fn, args, kwargs)
    return Side(module, args, kwargs, flatten_tensors(out))


def _gradients(ctx: Context, side: Side, outputs: list[int], upstream: list[torch.Tensor], iut: bool) -> dict[str, Any]:
    """Backpropagate ``upstream`` (cast to each output's dtype) and collect input and parameter gradients."""
    tensors = [side.outputs[i] for i in outputs]
    grads = [g.to(t.dtype) for g, t in zip(upstream, tensors, strict=True)]
    call = ctx.iut if iut else ctx.ref
    call(torch.autograd.backward, tensors, grads, what=f"{ctx.component} backward" if iut else "backward")
    found: dict[str, Any] = {f"grad of {name}": leaf.grad for name, leaf in side.leaves().items()}
    if side.module is not None:
        params = call(side.module.named_parameters, what="named_parameters")
        found |= {f"grad of parameter {name!r}": p.grad for name, p in params}
    return found


def _error(t: torch.Tensor, exact: torch.Tensor) -> float:
    """The largest absolute error of ``t`` against ``exact``: equal values (infinities too) and NaN where the exact
    result is NaN count as none, a NaN elsewhere as infinite."""
    t = t.double()
    diff = (t - exact).abs().masked_fill((t == exact) | (t.isnan() & exact.isnan()), 0.0)
    return diff.nan_to_num(nan=float("inf")).max().item()


def _expect_as_accurate(
    ctx: Context, name: str, what: str, got: torch.Tensor, ref: torch.Tensor, truth: torch.Tensor
) -> None:
    if got.dtype != ref.dtype or got.shape != ref.shape:
        raise CheckFailed(
            f"in {name}: {what} has dtype {got.dtype} and shape {tuple(got.shape)}; the reference's has "
            f"{ref.dtype} and {tuple(ref.shape)}"
        )
    if truth.numel() == 0:
        return
    exact = truth.double()
    err_ref, err_iut = _error(ref, exact), _error(got, exact)
    scale = exact.abs().masked_fill(~exact.isfinite(), 0.0).max().item()
    unit = torch.finfo(ref.dtype).eps * scale
    # An absolute floor, the result dtype's assert_close atol: near zero, a unit of resolution is no margin at all.
    atol = ctx.tolerance(str(ref.dtype).removeprefix("torch."))[1]
    if err_iut > max(FACTOR * err_ref, unit, atol):
        raise CheckFailed(
            f"in {name}: {what} is off the float64 result by up to {err_iut:.3g}, more than {FACTOR:g}x the "
            f"reference's own error ({err_ref:.3g}), one unit of {ref.dtype} at this scale ({unit:.3g}) and "
            f"the absolute tolerance {atol:g}"
        )


@check("half", examples=lambda entry: entry.examples)
def half(ctx: Context, example: Example | None) -> None:
    """bfloat16 and float16: output and gradients as accurate as the reference's, against float64."""
    assert example is not None
    ran = 0
    for name in HALF:
        ex = example.with_dtype(name)
        try:
            ref, iut = run_both(ctx, ex)
        except ReferenceFailed:
            continue  # the reference has no kernel for this dtype (or this example in it): nothing to match
        ran += 1
        truth = _truth(ctx, ref)
        for i, (t, r, a) in enumerate(zip(truth.outputs, ref.outputs, iut.outputs, strict=True)):
            _expect_as_accurate(ctx, name, "output" if len(ref.outputs) == 1 else f"output[{i}]", a, r, t)
        wanted = [i for i, o in enumerate(ref.outputs) if o.requires_grad]
        if not wanted:
            continue
        missing = [i for i in wanted if not iut.outputs[i].requires_grad]
        if missing:
            raise CheckFailed(f"in {name}: output {missing[0]} does not require grad, but the reference's does")
        upstream = [g.double() for g in upstream_gradients(ex, [ref.outputs[i] for i in wanted])]
        try:
            ref_grads = _gradients(ctx, ref, wanted, upstream, iut=False)
        except ReferenceFailed:
            continue  # no backward kernel for this dtype in the reference
        true_grads = _gradients(ctx, truth, wanted, upstream, iut=False)
        iut_grads = _gradients(ctx, iut, wanted, upstream, iut=True)
        for what, expected in ref_grads.items():
            if expected is None:
                continue
            got = iut_grads.get(what)
            if got is None:
                raise CheckFailed(f"in {name}: {what} is None, the reference computes one")
            _expect_as_accurate(ctx, name, what, got, expected, true_grads[what])
    if not ran:
        raise Skipped("the reference supports neither bfloat16 nor float16 for this example")
