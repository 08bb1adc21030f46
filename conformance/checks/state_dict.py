"""parameters and state_dict: names, order, shapes and dtypes match torch's; weights load both ways."""

from __future__ import annotations

from typing import Any

import torch

from conformance.checks.base import CheckFailed, Context, check
from conformance.checks.calls import build_pair
from spec.entry import Example


def _layout(items: Any) -> list[tuple[str, tuple[int, ...], torch.dtype]]:
    return [(name, tuple(t.shape), t.dtype) for name, t in items]


def _expect_same_layout(what: str, actual: list[Any], expected: list[Any]) -> None:
    if actual == expected:
        return
    a_names, e_names = [n for n, *_ in actual], [n for n, *_ in expected]
    if a_names != e_names:
        if sorted(a_names) == sorted(e_names):
            raise CheckFailed(f"{what} are in the order {a_names}, torch's order is {e_names}")
        raise CheckFailed(
            f"{what} are named {a_names}, torch's are {e_names} "
            f"(missing {sorted(set(e_names) - set(a_names))}, unexpected {sorted(set(a_names) - set(e_names))})"
        )
    for (name, a_shape, a_dtype), (_, e_shape, e_dtype) in zip(actual, expected, strict=True):
        if a_shape != e_shape:
            raise CheckFailed(f"{what}: {name!r} has shape {a_shape}, torch's has {e_shape}")
        if a_dtype != e_dtype:
            raise CheckFailed(f"{what}: {name!r} has dtype {a_dtype}, torch's has {e_dtype}")


@check("parameters", examples=lambda entry: entry.examples)
def parameters(ctx: Context, example: Example | None) -> None:
    """named_parameters and named_buffers: same names, order, shapes and dtypes; parameters require grad."""
    assert example is not None
    ref, iut = build_pair(ctx, example)
    _expect_same_layout(
        "parameters",
        _layout(ctx.iut(lambda: list(iut.named_parameters()), what="named_parameters()")),
        _layout(ref.named_parameters()),
    )
    _expect_same_layout(
        "buffers",
        _layout(ctx.iut(lambda: list(iut.named_buffers()), what="named_buffers()")),
        _layout(ref.named_buffers()),
    )
    for name, p in iut.named_parameters():
        if not p.requires_grad:
            raise CheckFailed(f"parameter {name!r} does not require grad")


@check("state_dict", examples=lambda entry: entry.examples)
def state_dict(ctx: Context, example: Example | None) -> None:
    """state_dict keys, order, shapes, dtypes match; torch's loads into the IUT and the IUT's into torch."""
    assert example is not None
    ref, iut = build_pair(ctx, example)
    iut_state = ctx.iut(iut.state_dict, what="state_dict()")
    ref_state = ref.state_dict()
    _expect_same_layout("state_dict keys", _layout(iut_state.items()), _layout(ref_state.items()))
    for name, t in iut_state.items():
        if t.requires_grad:
            raise CheckFailed(f"state_dict()[{name!r}] requires grad; state_dict tensors must be detached")

    # Torch into the IUT: afterwards the IUT's state equals torch's exactly.
    result = ctx.iut(iut.load_state_dict, ref_state, what="load_state_dict(torch's state_dict)")
    missing = list(getattr(result, "missing_keys", []))
    unexpected = list(getattr(result, "unexpected_keys", []))
    if missing or unexpected:
        raise CheckFailed(f"load_state_dict(torch's) reports missing {missing}, unexpected {unexpected}")
    for name, t in ctx.iut(iut.state_dict, what="state_dict()").items():
        if not torch.equal(t, ref_state[name]):
            raise CheckFailed(f"state_dict()[{name!r}] after loading torch's state_dict differs from it")

    # The IUT into torch: a fresh torch module loads it strictly and then holds the same values.
    fresh_ref, fresh_iut = build_pair(ctx, example)
    iut_state = ctx.iut(fresh_iut.state_dict, what="state_dict()")
    try:
        fresh_ref.load_state_dict(iut_state)
    except Exception as exc:
        raise CheckFailed(f"torch cannot load the IUT's state_dict: {type(exc).__name__}: {exc}") from None
    for name, t in fresh_ref.state_dict().items():
        if not torch.equal(t, iut_state[name]):
            raise CheckFailed(f"torch's state_dict()[{name!r}] after loading the IUT's differs from it")
