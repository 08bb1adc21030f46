"""LayerNorm and layer_norm: normalise over the trailing dimensions. The page is spec/pages/layer_norm.md."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from spec.entry import CALL_CHECKS, Entry, ErrorCase, Example, T
from spec.strategies import batch_shape, features, float_dtypes, seeds

#: Rows of fewer elements than this can have a sample variance arbitrarily close to 0. There the float32 result
#: of any implementation, torch's included, carries an error of about |mean| * rstd**2 * 2**-24 (rstd =
#: 1/sqrt(var + eps)), which no fixed tolerance covers; such short rows are drawn with an eps that bounds rstd.
SHORT_ROW = 8
#: eps for rows of at least SHORT_ROW elements; None leaves it out, so that the default 1e-5 is exercised.
_EPS = st.sampled_from([None, 1e-6, 1e-3, 0.1])
#: eps for shorter rows: rstd <= 1/sqrt(0.1) keeps the float32 error of a degenerate row of order 1e-6.
SHORT_ROW_EPS = st.sampled_from([0.1, 1.0])


@st.composite
def _normalized_shape(draw: st.DrawFn) -> tuple[int, ...]:
    """One dimension of 1..64, or two or three small ones (at most 64 elements per row)."""
    ndim = draw(st.integers(1, 3))
    if ndim == 1:
        return (draw(features),)
    return tuple(draw(st.integers(1, 4)) for _ in range(ndim))


def _eps(draw: st.DrawFn, shape: tuple[int, ...]) -> dict[str, float]:
    eps = draw(_EPS) if math.prod(shape) >= SHORT_ROW else draw(SHORT_ROW_EPS)
    return {} if eps is None else {"eps": eps}


@st.composite
def _module_examples(draw: st.DrawFn) -> Example:
    shape = draw(_normalized_shape())
    lead = draw(batch_shape())
    # An int is torch's shorthand for a one-dimensional normalized_shape; both spellings must work.
    normalized: int | tuple[int, ...] = shape[0] if len(shape) == 1 and draw(st.booleans()) else shape
    init: dict[str, object] = {"normalized_shape": normalized, **_eps(draw, shape)}
    if draw(st.booleans()):
        init["elementwise_affine"] = draw(st.booleans())
    if draw(st.booleans()):
        init["bias"] = draw(st.booleans())
    return Example(init=init, args=(T((*lead, *shape), grad=True),), dtype=draw(float_dtypes), seed=draw(seeds))


@st.composite
def _function_examples(draw: st.DrawFn) -> Example:
    shape = draw(_normalized_shape())
    lead = draw(batch_shape())
    weight = T(shape, low=1.0, scale=0.5, grad=True) if draw(st.booleans()) else None
    bias = T(shape, grad=True) if draw(st.booleans()) else None
    return Example(
        args=(T((*lead, *shape), grad=True), list(shape), weight, bias),
        kwargs=_eps(draw, shape),
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


@st.composite
def _extremes(draw: st.DrawFn) -> tuple[T, int, dict[str, float], int, dict[str, float]]:
    """Rows of tiny spread (eps dominates, or a tiny eps amplifies them), huge rows, and extreme upstream gradients.

    The rows are centred at 0 and have at least SHORT_ROW elements: an offset, or a row too short to have a
    reliable spread, would give every float32 implementation an error of order |mean| * rstd**2 * 2**-24.
    The input's own gradient is compared only where rstd <= 1/sqrt(1e-3): it is a difference of terms of size
    rstd * |upstream|, so its float32 error grows with rstd, beyond an absolute tolerance that scales with the
    upstream gradient alone. The weight and bias gradients (sums of upstream * x_hat) are compared everywhere.
    """
    rows, size = draw(st.integers(1, 4)), draw(st.integers(SHORT_ROW, 64))
    spread = draw(st.sampled_from([1e-3, 1e-6, 1e4]))
    eps = draw(st.sampled_from([None, 1e-12, 1e-3]))
    x = T((rows, size), scale=spread, grad=spread > 1.0 or eps == 1e-3)
    extra = {"grad_scale": draw(st.sampled_from([1e-20, 1.0, 1e15]))}
    return x, size, {} if eps is None else {"eps": eps}, draw(seeds), extra


@st.composite
def _offset_rows(draw: st.DrawFn) -> tuple[T, int, dict[str, float], int, dict[str, float]]:
    """Float64 rows of spread 1e-3 around a mean of 1e4: E[x^2] - E[x]^2 cancels there, x - mean does not.

    Torch is within about 6e-10 of the exact result on such rows; a variance computed as E[x^2] - E[x]^2 is
    off by about 6e-4. (In float32 every implementation loses the row's spread to the rounding of the mean.)
    The input's gradient is not compared here: with rstd near 1e3 it is a difference of terms a thousand times its
    size, and two correct float64 implementations differ in it by about 2e-7 relative.
    """
    rows, size = draw(st.integers(1, 4)), draw(st.integers(SHORT_ROW, 64))
    eps = draw(st.sampled_from([None, 1e-12]))
    x = T((rows, size), low=1e4, scale=1e-3)
    return x, size, {} if eps is None else {"eps": eps}, draw(seeds), {"grad_scale": 1.0}


def _stability_cases(draw: st.DrawFn) -> tuple[T, int, dict[str, float], int, dict[str, float], str]:
    if draw(st.booleans()):
        return (*draw(_offset_rows()), "float64")
    return (*draw(_extremes()), "float32")


@st.composite
def _module_stability(draw: st.DrawFn) -> Example:
    x, size, eps, seed, extra, dtype = _stability_cases(draw)
    return Example(init={"normalized_shape": size, **eps}, args=(x,), dtype=dtype, seed=seed, extra=extra)


@st.composite
def _function_stability(draw: st.DrawFn) -> Example:
    x, size, eps, seed, extra, dtype = _stability_cases(draw)
    return Example(
        args=(x, [size]),
        kwargs={"weight": T((size,), low=1.0, scale=0.5, grad=True), "bias": T((size,), grad=True), **eps},
        dtype=dtype,
        seed=seed,
        extra=extra,
    )


ENTRIES = [
    Entry(
        name="LayerNorm",
        path="nn.LayerNorm",
        kind="module",
        page="layer_norm",
        checks=(*CALL_CHECKS, "parameters", "state_dict", "repr", "init", "dtype", "stability", "errors"),
        examples=_module_examples(),
        stability=_module_stability(),
        init_example=Example(init={"normalized_shape": (100, 1000)}),
        errors=(
            ErrorCase(
                "input's last dimension differs from normalized_shape",
                Example(init={"normalized_shape": 4}, args=(T((2, 5)),)),
            ),
            ErrorCase(
                "input's trailing dimensions differ from a two-dimensional normalized_shape",
                Example(init={"normalized_shape": (3, 4)}, args=(T((2, 4, 3)),)),
            ),
            ErrorCase(
                "input has fewer dimensions than normalized_shape",
                Example(init={"normalized_shape": (3, 4)}, args=(T((4,)),)),
            ),
        ),
    ),
    Entry(
        name="layer_norm",
        path="nn.functional.layer_norm",
        kind="function",
        page="layer_norm",
        checks=(*CALL_CHECKS, "dtype", "stability", "errors"),
        examples=_function_examples(),
        stability=_function_stability(),
        errors=(
            ErrorCase("input's last dimension differs from normalized_shape", Example(args=(T((2, 5)), [4]))),
            ErrorCase("weight's shape differs from normalized_shape", Example(args=(T((2, 4)), [4], T((3,))))),
            ErrorCase("bias's shape differs from normalized_shape", Example(args=(T((2, 4)), [4], T((4,)), T((5,))))),
        ),
    ),
]
