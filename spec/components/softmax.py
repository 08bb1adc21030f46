"""Softmax, softmax and log_softmax: exp(x_i) / sum_j exp(x_j) along one dimension. The page is spec/pages/softmax.md.

``dim`` is always given: torch's implicit choice of dimension when it is left out is deprecated and not specified.
"""

from __future__ import annotations

import torch
from hypothesis import strategies as st

from spec.entry import CALL_CHECKS, Entry, ErrorCase, Example, T
from spec.strategies import features, float_dtypes, seeds

#: The functional forms' ``dtype`` argument: the input is cast to it before the operation. Only float64 is drawn:
#: a float32 result from a float64 input would be compared at the example's (float64) tolerance, which float32
#: arithmetic cannot meet.
_DTYPE_ARG = st.sampled_from([None, torch.float64])


@st.composite
def _shape_and_dim(draw: st.DrawFn, scale: float = 1.0) -> tuple[T, int]:
    """An input of 0 to 3 dimensions (batch sizes 0..8, feature size 1..64) and a dim of either sign."""
    ndim = draw(st.integers(0, 3))
    shape: tuple[int, ...] = ()
    if ndim:
        shape = (*(draw(st.integers(0, 8)) for _ in range(ndim - 1)), draw(features))
    # A 0-d tensor accepts dim 0 and -1, as if it had one dimension.
    rank = max(ndim, 1)
    dim = draw(st.integers(-rank, rank - 1))
    return T(shape, scale=scale, grad=True), dim


@st.composite
def _module_examples(draw: st.DrawFn) -> Example:
    x, dim = draw(_shape_and_dim(scale=3.0))
    return Example(init={"dim": dim}, args=(x,), dtype=draw(float_dtypes), seed=draw(seeds))


@st.composite
def _function_examples(draw: st.DrawFn) -> Example:
    x, dim = draw(_shape_and_dim(scale=3.0))
    dtype = draw(_DTYPE_ARG)
    kwargs: dict[str, object] = {"dim": dim} if dtype is None else {"dim": dim, "dtype": dtype}
    return Example(args=(x,), kwargs=kwargs, dtype=draw(float_dtypes), seed=draw(seeds))


def _grad_scale(draw: st.DrawFn) -> dict[str, float]:
    return {"grad_scale": draw(st.sampled_from([1e-20, 1.0, 1e15]))}


@st.composite
def _module_stability(draw: st.DrawFn) -> Example:
    """Logits of magnitude 1e4: exp overflows unless the maximum is subtracted first."""
    x, dim = draw(_shape_and_dim(scale=1e4))
    return Example(init={"dim": dim}, args=(x,), seed=draw(seeds), extra=_grad_scale(draw))


@st.composite
def _function_stability(draw: st.DrawFn) -> Example:
    x, dim = draw(_shape_and_dim(scale=1e4))
    return Example(args=(x,), kwargs={"dim": dim}, seed=draw(seeds), extra=_grad_scale(draw))


_BAD_DIM = Example(args=(T((3, 4)),), kwargs={"dim": 2})
_BAD_NEGATIVE_DIM = Example(args=(T((3, 4)),), kwargs={"dim": -3})
_FUNCTION_ERRORS = (
    ErrorCase("dim equal to the number of dimensions", _BAD_DIM),
    ErrorCase("dim below minus the number of dimensions", _BAD_NEGATIVE_DIM),
)


def _function(name: str) -> Entry:
    return Entry(
        name=name,
        path=f"nn.functional.{name}",
        kind="function",
        page="softmax",
        checks=(*CALL_CHECKS, "dtype", "stability", "errors"),
        examples=_function_examples(),
        stability=_function_stability(),
        errors=_FUNCTION_ERRORS,
    )


ENTRIES = [
    Entry(
        name="Softmax",
        path="nn.Softmax",
        kind="module",
        page="softmax",
        checks=(*CALL_CHECKS, "parameters", "state_dict", "repr", "dtype", "stability", "errors"),
        examples=_module_examples(),
        stability=_module_stability(),
        errors=(
            ErrorCase("dim equal to the number of dimensions", Example(init={"dim": 2}, args=(T((3, 4)),))),
            ErrorCase("dim below minus the number of dimensions", Example(init={"dim": -3}, args=(T((3, 4)),))),
        ),
    ),
    _function("softmax"),
    _function("log_softmax"),
]
