"""Linear and linear: y = x W^T + b. The page is spec/pages/linear.md."""

from __future__ import annotations

from hypothesis import strategies as st

from spec.entry import CALL_CHECKS, Entry, ErrorCase, Example, T
from spec.strategies import batch_shape, features, float_dtypes, seeds


@st.composite
def _module_examples(draw: st.DrawFn) -> Example:
    in_f, out_f = draw(features), draw(features)
    lead = draw(batch_shape())
    return Example(
        init={"in_features": in_f, "out_features": out_f, "bias": draw(st.booleans())},
        args=(T((*lead, in_f), grad=True),),
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


@st.composite
def _function_examples(draw: st.DrawFn) -> Example:
    in_f, out_f = draw(features), draw(features)
    lead = draw(batch_shape())
    bias = T((out_f,), grad=True) if draw(st.booleans()) else None
    return Example(
        args=(T((*lead, in_f), grad=True), T((out_f, in_f), scale=in_f**-0.5, grad=True), bias),
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


@st.composite
def _stability_examples(draw: st.DrawFn) -> Example:
    """Tiny activations (down to float32's subnormal range in the weight gradient) and extreme upstream gradients.

    Huge activations are not drawn: y = x W^T sums products of random sign, so the float32 error of any
    implementation (torch's included) is about 2**-24 * |x| * |W| * sqrt(in_features), which an absolute
    tolerance that does not grow with |x| cannot cover.
    """
    in_f, out_f = draw(features), draw(features)
    scale = draw(st.sampled_from([1e-20, 1e-6, 1.0]))
    return Example(
        init={"in_features": in_f, "out_features": out_f},
        args=(T((draw(st.integers(1, 4)), in_f), scale=scale, grad=True),),
        dtype="float32",
        seed=draw(seeds),
        extra={"grad_scale": draw(st.sampled_from([1e-20, 1.0, 1e15]))},
    )


ENTRIES = [
    Entry(
        name="Linear",
        path="nn.Linear",
        kind="module",
        page="linear",
        checks=(*CALL_CHECKS, "parameters", "state_dict", "repr", "init", "dtype", "stability", "errors"),
        examples=_module_examples(),
        stability=_stability_examples(),
        init_example=Example(init={"in_features": 256, "out_features": 384}),
        errors=(
            ErrorCase(
                "input's last dimension differs from in_features",
                Example(init={"in_features": 4, "out_features": 3}, args=(T((2, 5)),)),
            ),
        ),
    ),
    Entry(
        name="linear",
        path="nn.functional.linear",
        kind="function",
        page="linear",
        checks=(*CALL_CHECKS, "dtype", "errors"),
        examples=_function_examples(),
        errors=(
            ErrorCase("weight's in_features differs from the input's", Example(args=(T((2, 5)), T((3, 4)), None))),
            ErrorCase("bias length differs from out_features", Example(args=(T((2, 4)), T((3, 4)), T((2,))))),
        ),
    ),
]
