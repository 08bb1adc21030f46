"""Hypothesis strategies shared by the spec entries: shapes, sizes, dtypes, seeds and optimizer runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import strategies as st

from spec.entry import Example

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


_param_shapes = st.lists(st.integers(1, 8), max_size=2).map(tuple)
_grad_scales = st.floats(-6.0, 3.0).map(lambda e: 10.0**e)

#: Adjusts drawn hyperparameters (one dict: the constructor's or a param group's) to what the optimizer accepts.
Fixup = Callable[[st.DrawFn, dict[str, Any]], None]
#: May replace a run's gradient scales (and change ``init``) to reach a state random scales rarely do.
Special = Callable[[st.DrawFn, dict[str, Any], list[tuple[int, ...]], int], Any]


def optimizer_runs(
    hyper: Mapping[str, st.SearchStrategy[Any]], special: Special | None = None, fixup: Fixup | None = None
) -> st.SearchStrategy[Example]:
    """Short training runs for an optimizer entry (the ``extra`` layout is described in
    ``spec/components/adamw.py``): 1 to 4 parameters, perhaps in groups that override some of ``hyper``, 1 to 10
    steps of gradients spanning 1e-6..1e3 or left as they are, and ``zero_grad`` calls of every kind."""

    def hyperparameters(draw: st.DrawFn) -> dict[str, Any]:
        drawn = {name: draw(strategy) for name, strategy in hyper.items() if draw(st.booleans())}
        if fixup is not None:
            fixup(draw, drawn)
        return drawn

    @st.composite
    def runs(draw: st.DrawFn) -> Example:
        n_params = draw(st.integers(1, 4))
        shapes = [draw(_param_shapes) for _ in range(n_params)]
        groups = None
        params_as = "list"
        if n_params > 1 and draw(st.booleans()):
            labels = [draw(st.integers(0, 2)) for _ in range(n_params)]
            groups = [
                {"params": [i for i, lb in enumerate(labels) if lb == g], **hyperparameters(draw)}
                for g in sorted(set(labels))
            ]
        elif draw(st.booleans()):
            params_as = "generator"
        steps = draw(st.integers(1, 10))
        grads = [[draw(st.none() | _grad_scales | _grad_scales) for _ in shapes] for _ in range(steps)]
        zero_grad = [draw(st.sampled_from([None, None, "default", True, False])) for _ in range(steps)]
        init = hyperparameters(draw)
        if special is not None:
            grads = special(draw, init, shapes, steps) or grads
        return Example(
            init=init,
            dtype=draw(float_dtypes),
            seed=draw(seeds),
            extra={
                "shapes": shapes,
                "groups": groups,
                "params_as": params_as,
                "grads": grads,
                "zero_grad": zero_grad,
                "resume_at": draw(st.integers(0, steps)),
            },
        )

    return runs()
