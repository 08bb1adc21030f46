"""Dropout and dropout: zero each element with probability p, scale the rest by 1/(1-p).

The value checks (forward, backward, dtype) use settings whose result is deterministic: eval mode /
``training=False`` with any p, or training with p = 0 (identity) or p = 1 (zeros). The random behaviour itself is
checked by distribution in the ``random_mask`` check, which reads ``extra["random_mask"]``.
The page is spec/pages/dropout.md.
"""

from __future__ import annotations

from hypothesis import strategies as st

from spec.entry import CALL_CHECKS, Entry, ErrorCase, Example, T
from spec.strategies import batch_shape, features, float_dtypes, seeds

#: random_mask's view of dropout: p is passed as ``p``, the function's switch is ``training``, and the output is
#: the input scaled elementwise, so the input's gradient is the upstream gradient masked like the output. The
#: input (128 x 800 = 102400 elements, all in [1, 2) so that none is zero before dropout) gives the drop-rate
#: z-test its resolution.
_MASK_INPUT = T((128, 800), fill="uniform", low=1.0, high=2.0, grad=True)
_MODULE_MASK = {"p": "p", "example": Example(args=(_MASK_INPUT,)), "elementwise": 0}
_FUNCTION_MASK = {"p": "p", "training": "training", "example": Example(args=(_MASK_INPUT,)), "elementwise": 0}


@st.composite
def _deterministic_p(draw: st.DrawFn) -> tuple[float, bool]:
    """(p, training): any p in [0, 1] when not training, else p = 0 or p = 1, whose outputs are not random."""
    if draw(st.booleans()):
        return draw(st.floats(0.0, 1.0)), False
    return draw(st.sampled_from([0.0, 1.0])), True


def _input(draw: st.DrawFn) -> T:
    return T((*draw(batch_shape(3)), draw(features)), grad=True)


@st.composite
def _module_examples(draw: st.DrawFn) -> Example:
    p, training = draw(_deterministic_p())
    return Example(init={"p": p}, args=(_input(draw),), train=training, dtype=draw(float_dtypes), seed=draw(seeds))


@st.composite
def _function_examples(draw: st.DrawFn) -> Example:
    p, training = draw(_deterministic_p())
    return Example(
        args=(_input(draw),), kwargs={"p": p, "training": training}, dtype=draw(float_dtypes), seed=draw(seeds)
    )


ENTRIES = [
    Entry(
        name="Dropout",
        path="nn.Dropout",
        kind="module",
        page="dropout",
        checks=(*CALL_CHECKS, "parameters", "state_dict", "repr", "dtype", "errors", "random_mask"),
        examples=_module_examples(),
        errors=(
            ErrorCase("p below 0", Example(init={"p": -0.1}, args=(T((2, 3)),)), raises=("ValueError",)),
            ErrorCase("p above 1", Example(init={"p": 1.1}, args=(T((2, 3)),)), raises=("ValueError",)),
        ),
        extra={"random_mask": _MODULE_MASK},
    ),
    Entry(
        name="dropout",
        path="nn.functional.dropout",
        kind="function",
        page="dropout",
        checks=(*CALL_CHECKS, "dtype", "errors", "random_mask"),
        examples=_function_examples(),
        errors=(
            ErrorCase("p below 0", Example(args=(T((2, 3)),), kwargs={"p": -0.1}), raises=("ValueError",)),
            ErrorCase("p above 1", Example(args=(T((2, 3)),), kwargs={"p": 1.1}), raises=("ValueError",)),
        ),
        extra={"random_mask": _FUNCTION_MASK},
    ),
]
