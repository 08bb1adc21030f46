"""SiLU and silu: x * sigmoid(x), the activation of SwiGLU MLPs. The page is spec/pages/silu.md."""

from __future__ import annotations

from hypothesis import strategies as st

from spec.entry import CALL_CHECKS, Entry, Example, T
from spec.strategies import batch_shape, features, float_dtypes, seeds


def _input(draw: st.DrawFn, inplace: bool, scale: float = 4.0) -> T:
    # In place, the input is written to: a leaf that requires grad refuses that (torch raises), so it needs none.
    return T((*draw(batch_shape(3)), draw(features)), scale=scale, grad=not inplace)


@st.composite
def _inplace(draw: st.DrawFn) -> dict[str, bool]:
    """Left out (the default, False) in most examples, else given."""
    choice = draw(st.sampled_from([None, None, False, True]))
    return {} if choice is None else {"inplace": choice}


@st.composite
def _module_examples(draw: st.DrawFn) -> Example:
    init = draw(_inplace())
    return Example(
        init=init, args=(_input(draw, init.get("inplace", False)),), dtype=draw(float_dtypes), seed=draw(seeds)
    )


@st.composite
def _function_examples(draw: st.DrawFn) -> Example:
    kwargs = draw(_inplace())
    return Example(
        args=(_input(draw, kwargs.get("inplace", False)),), kwargs=kwargs, dtype=draw(float_dtypes), seed=draw(seeds)
    )


@st.composite
def _stability(draw: st.DrawFn) -> Example:
    """Inputs far into both tails (the sigmoid saturates to 0 and 1, exp(-x) overflows) and extreme upstream
    gradients; the module and the function take the same call."""
    scale = draw(st.sampled_from([10.0, 1e2, 1e4, 1e30]))
    x = T((draw(st.integers(1, 4)), draw(features)), scale=scale, grad=True)
    return Example(args=(x,), seed=draw(seeds), extra={"grad_scale": draw(st.sampled_from([1e-20, 1.0, 1e15]))})


ENTRIES = [
    Entry(
        name="SiLU",
        path="nn.SiLU",
        kind="module",
        page="silu",
        checks=(*CALL_CHECKS, "parameters", "state_dict", "repr", "dtype", "stability"),
        examples=_module_examples(),
        stability=_stability(),
    ),
    Entry(
        name="silu",
        path="nn.functional.silu",
        kind="function",
        page="silu",
        checks=(*CALL_CHECKS, "dtype", "stability"),
        examples=_function_examples(),
        stability=_stability(),
    ),
]
