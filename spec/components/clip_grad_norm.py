"""nn.utils.clip_grad_norm_: scale gradients so that their joint norm is at most max_norm. Page: clip_grad_norm.md.

``clip_grad_norm_`` reads and writes ``.grad`` of parameters, which tensor placeholders cannot express. So the entry
names a wrapper in ``extra["call"]``: the value checks call ``extra["call"](fn, *args, **kwargs)`` with ``fn`` the
reference's or the implementation's ``clip_grad_norm_``. The wrapper builds one parameter per entry of ``grads``
(with that gradient, or none for ``None``), calls ``fn`` and returns ``(total_norm, *gradients afterwards)``, so the
returned norm and the clipped gradients are compared like any function's outputs. Calling ``fn`` directly with these
arguments fails on the reference (``grads`` is no argument of clip_grad_norm_), so a harness that ignored the
wrapper would report a spec error rather than pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from hypothesis import strategies as st

from spec.entry import Entry, ErrorCase, Example, T
from spec.strategies import float_dtypes, seeds


def call_with_grads(
    fn: Any, grads: Sequence[torch.Tensor | None], max_norm: float, *, params_as: str = "list", **kwargs: Any
) -> tuple[torch.Tensor, ...]:
    """Run ``fn`` (a clip_grad_norm_) on parameters holding ``grads``; return (total_norm, *remaining gradients).

    Args:
        fn: the clip_grad_norm_ under test or the reference.
        grads: one gradient per parameter; None makes a parameter without a gradient.
        max_norm: passed on.
        params_as: ``"list"``, ``"generator"`` (as ``model.parameters()`` gives) or ``"tensor"`` (a single
            parameter, passed without a list).
        kwargs: ``norm_type``, ``error_if_nonfinite``, ``foreach``, passed on.
    """
    dtype = next(g.dtype for g in grads if g is not None)
    params = []
    for g in grads:
        p = torch.zeros(g.shape if g is not None else (2,), dtype=dtype, requires_grad=True)
        p.grad = None if g is None else g.detach().clone()
        params.append(p)
    argument: Any
    if params_as == "tensor":
        (argument,) = params
    elif params_as == "generator":
        argument = (p for p in params)
    else:
        argument = params
    total = fn(argument, max_norm, **kwargs)
    return (total, *(p.grad for p in params if p.grad is not None))


_norm_types = st.sampled_from([2.0, 2, 1.0, math.inf, "inf", 3.0])
_max_norms = st.sampled_from([1.0, 1, 0.1, 1e-3, 10.0, 1e3]) | st.floats(1e-3, 1e3)
_grad_shapes = st.lists(st.integers(1, 16), max_size=2).map(tuple)


@st.composite
def _grads(draw: st.DrawFn, scale: st.SearchStrategy[float]) -> list[T | None]:
    grads: list[T | None] = [
        None if draw(st.integers(0, 4)) == 0 else T(draw(_grad_shapes), scale=draw(scale))
        for _ in range(draw(st.integers(1, 4)))
    ]
    if all(g is None for g in grads):
        # At least one gradient: with none, torch returns a float32 zero whatever the parameters' dtype.
        grads[0] = T(draw(_grad_shapes), scale=draw(scale))
    return grads


def _options(draw: st.DrawFn, grads: list[T | None]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        options["norm_type"] = draw(_norm_types)
    if draw(st.booleans()):
        options["error_if_nonfinite"] = draw(st.booleans())
    if draw(st.booleans()):
        options["foreach"] = draw(st.sampled_from([None, True, False]))
    forms = ["list", "generator"] + (["tensor"] if len(grads) == 1 and grads[0] is not None else [])
    form = draw(st.sampled_from(forms))
    if form != "list":
        options["params_as"] = form
    return options


@st.composite
def _examples(draw: st.DrawFn) -> Example:
    grads = draw(_grads(st.sampled_from([1.0, 0.01, 100.0]) | st.floats(1e-3, 1e3)))
    return Example(
        kwargs={"grads": grads, "max_norm": draw(_max_norms), **_options(draw, grads)},
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


@st.composite
def _stability_examples(draw: st.DrawFn) -> Example:
    """Non-finite gradients with error_if_nonfinite=False: the norm is inf or NaN and so are scaled gradients."""
    grads = draw(_grads(st.just(1.0)))
    bad = next(i for i, g in enumerate(grads) if g is not None)
    shape = grads[bad].shape  # type: ignore[union-attr]
    grads[bad] = T(shape, scale=math.inf) if draw(st.booleans()) else T(shape, low=math.nan)
    options = _options(draw, grads)
    options["error_if_nonfinite"] = False
    return Example(
        kwargs={"grads": grads, "max_norm": draw(_max_norms), **options},
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


ENTRIES = [
    Entry(
        name="clip_grad_norm_",
        path="nn.utils.clip_grad_norm_",
        kind="function",
        page="clip_grad_norm",
        checks=("forward", "dtype", "stability", "errors"),
        examples=_examples(),
        stability=_stability_examples(),
        errors=(
            ErrorCase(
                "error_if_nonfinite=True with an infinite gradient",
                Example(kwargs={"grads": [T((3,), scale=math.inf)], "max_norm": 1.0, "error_if_nonfinite": True}),
                ("RuntimeError",),
            ),
            ErrorCase(
                "error_if_nonfinite=True with a NaN gradient",
                Example(
                    kwargs={"grads": [T((2,)), T((3,), low=math.nan)], "max_norm": 1.0, "error_if_nonfinite": True}
                ),
                ("RuntimeError",),
            ),
        ),
        extra={"call": call_with_grads},
    ),
]
