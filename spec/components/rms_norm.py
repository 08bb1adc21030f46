"""RMSNorm and rms_norm: y = x / sqrt(mean(x^2) + eps) * weight. The page is spec/pages/rms_norm.md."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from spec.components.layer_norm import SHORT_ROW, SHORT_ROW_EPS
from spec.entry import CALL_CHECKS, Entry, ErrorCase, Example, T
from spec.strategies import batch_shape, float_dtypes, seeds

# The normalised shape: one trailing dimension (the GPT case) or two; sizes 1..64 and at most 64 elements.
_norm_shape = st.one_of(
    st.tuples(st.integers(1, 64)),
    st.tuples(st.integers(1, 8), st.integers(1, 8)),
)
# None is the default and the interesting case: the dtype's machine epsilon, not 1e-6.
_EPS = st.sampled_from([None, None, 1e-6, 1e-5, 0.1])


def _eps(draw: st.DrawFn, shape: tuple[int, ...]) -> float | None:
    """As for LayerNorm: a row of a few elements can have a mean square near 0, where the input gradient cancels
    (for one element it is r * g * eps / (x^2 + eps)) and any float32 implementation, torch's included, is off by
    about r * |g| * 2**-24 with r = 1/sqrt(mean(x^2) + eps); so such rows get an eps that bounds r. The default eps
    on short rows is the stability check's business."""
    return draw(_EPS) if math.prod(shape) >= SHORT_ROW else draw(SHORT_ROW_EPS)


@st.composite
def _module_examples(draw: st.DrawFn) -> Example:
    shape = draw(_norm_shape)
    lead = draw(batch_shape())
    as_int = len(shape) == 1 and draw(st.booleans())
    return Example(
        init={
            "normalized_shape": shape[0] if as_int else shape,
            "eps": _eps(draw, shape),
            "elementwise_affine": draw(st.booleans()),
        },
        args=(T((*lead, *shape), grad=True),),
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


@st.composite
def _function_examples(draw: st.DrawFn) -> Example:
    shape = draw(_norm_shape)
    lead = draw(batch_shape())
    weight = T(shape, low=1.0, scale=0.5, grad=True) if draw(st.booleans()) else None
    return Example(
        args=(T((*lead, *shape), grad=True), shape, weight, _eps(draw, shape)),
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


@st.composite
def _stability_examples(draw: st.DrawFn) -> Example:
    # Tiny rows make eps dominate (1e-4 in float32, 1e-9 in float64: mean(x^2) below the machine epsilon), so a
    # wrong default eps shows; rows of 1e15 put x^2 near float32's largest value.
    dtype = draw(float_dtypes)
    tiny = 1e-4 if dtype == "float32" else 1e-9
    scale = draw(st.sampled_from([tiny, tiny, 1e-20, 1e6, 1e15]))
    n = draw(st.integers(1, 64))
    return Example(
        init={"normalized_shape": n, "eps": draw(st.sampled_from([None, None, 1e-6]))},
        args=(T((draw(st.integers(1, 4)), n), scale=scale, grad=True),),
        dtype=dtype,
        seed=draw(seeds),
        extra={"grad_scale": draw(st.sampled_from([1e-6, 1.0, 1e6]))},
    )


ENTRIES = [
    Entry(
        name="RMSNorm",
        path="nn.RMSNorm",
        kind="module",
        page="rms_norm",
        checks=(*CALL_CHECKS, "parameters", "state_dict", "repr", "init", "dtype", "stability", "errors"),
        examples=_module_examples(),
        stability=_stability_examples(),
        init_example=Example(init={"normalized_shape": 384}),
        errors=(
            ErrorCase(
                "input's trailing shape differs from normalized_shape",
                Example(init={"normalized_shape": 4}, args=(T((2, 5)),)),
            ),
            ErrorCase(
                "input has fewer dimensions than normalized_shape",
                Example(init={"normalized_shape": (2, 3)}, args=(T((3,)),)),
            ),
        ),
    ),
    Entry(
        name="rms_norm",
        path="nn.functional.rms_norm",
        kind="function",
        page="rms_norm",
        checks=(*CALL_CHECKS, "dtype", "errors"),
        examples=_function_examples(),
        errors=(
            ErrorCase("normalized_shape differs from the input's trailing shape", Example(args=(T((2, 4)), (5,)))),
            ErrorCase("weight's shape differs from normalized_shape", Example(args=(T((2, 4)), (4,), T((5,))))),
            ErrorCase("empty normalized_shape", Example(args=(T((2, 4)), ()))),
        ),
    ),
]
