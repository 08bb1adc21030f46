"""GELU and gelu: x * Phi(x), or its tanh approximation. The page is spec/pages/gelu.md."""

from __future__ import annotations

from hypothesis import strategies as st

from spec.entry import CALL_CHECKS, Entry, ErrorCase, Example, T
from spec.strategies import batch_shape, features, float_dtypes, seeds


@st.composite
def _approximate(draw: st.DrawFn) -> dict[str, str]:
    """Left out (the default, ``"none"``), or given as ``"none"`` or ``"tanh"``."""
    choice = draw(st.sampled_from([None, "none", "tanh"]))
    return {} if choice is None else {"approximate": choice}


def _input(draw: st.DrawFn, scale: float = 2.0) -> T:
    return T((*draw(batch_shape(3)), draw(features)), scale=scale, grad=True)


@st.composite
def _module_examples(draw: st.DrawFn) -> Example:
    return Example(init=draw(_approximate()), args=(_input(draw),), dtype=draw(float_dtypes), seed=draw(seeds))


@st.composite
def _function_examples(draw: st.DrawFn) -> Example:
    return Example(args=(_input(draw),), kwargs=draw(_approximate()), dtype=draw(float_dtypes), seed=draw(seeds))


@st.composite
def _extremes(draw: st.DrawFn) -> tuple[dict[str, str], T, int, dict[str, float]]:
    """Inputs far into both tails (Phi(x) underflows, tanh saturates) and extreme upstream gradients."""
    scale = draw(st.sampled_from([10.0, 1e2, 1e4]))
    x = T((draw(st.integers(1, 4)), draw(features)), scale=scale, grad=True)
    return draw(_approximate()), x, draw(seeds), {"grad_scale": draw(st.sampled_from([1e-20, 1.0, 1e15]))}


@st.composite
def _module_stability(draw: st.DrawFn) -> Example:
    approximate, x, seed, extra = draw(_extremes())
    return Example(init=approximate, args=(x,), seed=seed, extra=extra)


@st.composite
def _function_stability(draw: st.DrawFn) -> Example:
    approximate, x, seed, extra = draw(_extremes())
    return Example(args=(x,), kwargs=approximate, seed=seed, extra=extra)


ENTRIES = [
    Entry(
        name="GELU",
        path="nn.GELU",
        kind="module",
        page="gelu",
        checks=(*CALL_CHECKS, "parameters", "state_dict", "repr", "dtype", "stability", "errors"),
        examples=_module_examples(),
        stability=_module_stability(),
        errors=(
            ErrorCase(
                "approximate is neither 'none' nor 'tanh'", Example(init={"approximate": "erf"}, args=(T((3,)),))
            ),
        ),
    ),
    Entry(
        name="gelu",
        path="nn.functional.gelu",
        kind="function",
        page="gelu",
        checks=(*CALL_CHECKS, "dtype", "stability", "errors"),
        examples=_function_examples(),
        stability=_function_stability(),
        errors=(
            ErrorCase(
                "approximate is neither 'none' nor 'tanh'", Example(args=(T((3,)),), kwargs={"approximate": "erf"})
            ),
        ),
    ),
]
