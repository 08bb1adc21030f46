"""KVCache: the keys and values of past positions for cached decoding, which torch lacks. The page is
spec/pages/kv_cache.md; the reference is the plain implementation in spec/reference/kv_cache.py.

An example is a cache's shape and a script of steps, as a model's forward passes make them: a prompt or a chunk
(every layer, in order, gets the same number of new positions), one token, a lone layer's update, an update past
max_len (refused), a reset. The ``decoding`` check plays the script on both caches (conformance/checks/cache.py).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from spec.entry import Entry, ErrorCase, Example
from spec.reference.kv_cache import KVCache as Reference
from spec.strategies import float_dtypes, seeds

Step = tuple[Any, ...]


@st.composite
def _examples(draw: st.DrawFn) -> Example:
    init = {
        "n_layer": draw(st.integers(1, 3)),
        "batch_size": draw(st.integers(1, 3)),
        "n_kv_head": draw(st.integers(1, 4)),
        "head_dim": draw(st.integers(1, 8)),
        "max_len": draw(st.integers(1, 24)),
    }
    n_layer, max_len = init["n_layer"], init["max_len"]
    lengths = [0] * n_layer
    steps: list[Step] = []
    for _ in range(draw(st.integers(1, 7))):
        move = draw(st.sampled_from(["chunk", "chunk", "token", "token", "layer", "overflow", "reset"]))
        room = max_len - max(lengths)
        if move == "overflow":  # refused, and the layer kept as it was
            layer = draw(st.integers(0, n_layer - 1))
            steps.append(("overflow", layer, max_len - lengths[layer] + draw(st.integers(1, 3))))
        elif move == "reset" or (room == 0 and move != "layer"):
            steps.append(("reset",))
            lengths = [0] * n_layer
        elif move == "layer":  # one layer alone: the layers must not share their positions
            layer = draw(st.integers(0, n_layer - 1))
            if lengths[layer] < max_len:
                new = draw(st.integers(1, max_len - lengths[layer]))
                steps.append(("update", layer, new))
                lengths[layer] += new
        else:
            new = 1 if move == "token" else draw(st.integers(1, room))
            steps.extend(("update", layer, new) for layer in range(n_layer))
            lengths = [n + new for n in lengths]
    dtype = draw(float_dtypes)
    extra: dict[str, Any] = {"steps": tuple(steps)}
    if dtype == "float32" and draw(st.integers(0, 3)) == 0:
        extra["input_dtype"] = "float64"  # stored in the cache's dtype
    return Example(init=init, dtype=dtype, seed=draw(seeds), extra=extra)


_SHAPE = {"n_layer": 2, "batch_size": 2, "n_kv_head": 3, "head_dim": 4, "max_len": 6}


def _bad(why: str, steps: tuple[Step, ...], raises: tuple[str, ...] = ("ValueError",), **init: Any) -> ErrorCase:
    return ErrorCase(why, Example(init={**_SHAPE, **init}, extra={"steps": steps}), raises=raises)


ENTRIES = [
    Entry(
        name="KVCache",
        path="nn.KVCache",
        kind="cache",
        page="kv_cache",
        checks=("decoding", "errors"),
        examples=_examples(),
        reference=Reference,
        errors=(
            _bad("more positions than max_len", (("update", 0, 4), ("update", 0, 3))),
            _bad("a prompt longer than max_len", (("update", 1, 7),)),
            _bad("keys and values of different shapes", (("update_shapes", 0, (2, 3, 2, 4), (2, 3, 1, 4)),)),
            _bad("keys of another head_dim", (("update_shapes", 0, (2, 3, 2, 5), (2, 3, 2, 5)),)),
            _bad("keys of another number of heads", (("update_shapes", 0, (2, 1, 2, 4), (2, 1, 2, 4)),)),
            _bad("keys of another batch size", (("update_shapes", 0, (1, 3, 2, 4), (1, 3, 2, 4)),)),
            _bad("keys without a head dimension", (("update_shapes", 0, (2, 2, 4), (2, 2, 4)),)),
            _bad("a layer beyond n_layer", (("update", 2, 1),), raises=("IndexError",)),
            _bad("max_len of 0", (), max_len=0),
            _bad("n_layer of 0", (), n_layer=0),
            _bad("a negative head_dim", (), head_dim=-1),
        ),
    ),
]
