"""Hypothesis strategies shared by the spec entries: shapes, sizes, dtypes and seeds."""

from __future__ import annotations

from hypothesis import strategies as st

#: Feature sizes drawn for a component's width (issue: 1 to 64).
features = st.integers(min_value=1, max_value=64)
#: Batch dimension sizes: 1 is always a candidate, 0 only where torch allows it (see ``batch_shape``).
batch_size = st.integers(min_value=1, max_value=8)
seeds = st.integers(min_value=0, max_value=2**31 - 1)
float_dtypes = st.sampled_from(["float32", "float64"])


def batch_shape(max_dims: int = 2, allow_empty: bool = True) -> st.SearchStrategy[tuple[int, ...]]:
    """Leading batch dimensions: none, or up to ``max_dims`` sizes in 1..8 (and 0 when ``allow_empty``)."""
    size = st.integers(min_value=0 if allow_empty else 1, max_value=8)
    return st.lists(size, min_size=0, max_size=max_dims).map(tuple)


def nonempty_batch_shape(max_dims: int = 2) -> st.SearchStrategy[tuple[int, ...]]:
    return batch_shape(max_dims, allow_empty=False)
