"""utils.data: DataLoader, RandomSampler, WeightedRandomSampler, BatchSampler, DistributedSampler, random_split,
default_collate. Page: spec/pages/data.md; the check is ``conformance/checks/data.py``.

An example is a run: ``init`` holds the constructor's keyword arguments (each may be left to torch's default),
``seed`` the global seed both sides start from, and ``extra``:

* ``n``: the dataset's length; its samples are built by :func:`conformance.checks.data.sample` from their index,
  of the kind ``item`` (a tensor row, a (tensor, int) pair, a dict, an int; ``iterable`` is a stream of tensor rows
  derived from the implementation's own ``IterableDataset``);
* ``generator``: None, or the seed of a ``torch.Generator`` passed as ``generator=``;
* ``epochs``: how many times the loader or sampler is iterated;
* ``sampler`` (DataLoader): None, ``"random"`` (``sampler=RandomSampler(dataset)``) or ``"batch"``
  (``batch_sampler=BatchSampler(RandomSampler(dataset), *batch_sampler)``), from the implementation's classes;
* ``weights`` (WeightedRandomSampler): the weights, a list of floats;
* ``lengths`` (random_split): integer lengths summing to ``n``, or fractions summing to 1;
* ``size`` (default_collate): how many samples of kind ``item`` the batch holds (``record``: a dict with a field
  of every kind).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from spec.entry import Entry, ErrorCase, Example
from spec.strategies import seeds

_generators = st.none() | st.integers(0, 2**31 - 1)
_epochs = st.integers(1, 3)


def _bad(why: str, raises: str, extra: dict[str, Any], **init: Any) -> ErrorCase:
    return ErrorCase(why, Example(init=init, extra={"epochs": 1, **extra}), raises=(raises,))


@st.composite
def _loader_examples(draw: st.DrawFn) -> Example:
    item = draw(st.sampled_from(["tensor", "pair", "dict", "scalar", "iterable"]))
    n = draw(st.integers(0, 30))
    # A RandomSampler refuses an empty dataset (an error case), and so does shuffle=True, which makes one.
    random_ok = n > 0
    sampler = None if item == "iterable" else draw(st.sampled_from([None, None, "random", "batch"]))
    if not random_ok:
        sampler = None
    extra: dict[str, Any] = {
        "n": n,
        "item": item,
        "sampler": sampler,
        "generator": draw(_generators),
        "epochs": draw(_epochs),
    }
    init: dict[str, Any] = {}
    if sampler == "batch":
        extra["batch_sampler"] = (draw(st.integers(1, 8)), draw(st.booleans()))
    else:
        init["batch_size"] = draw(st.sampled_from([1, 2, 3, 4, 8, None]) | st.integers(1, 40))
        if init["batch_size"] is not None and draw(st.booleans()):
            init["drop_last"] = draw(st.booleans())
        if sampler is None and item != "iterable":
            init["shuffle"] = draw(st.sampled_from([None, False, True] if random_ok else [None, False]))
    return Example(init=init, seed=draw(seeds), extra=extra)


@st.composite
def _sampler_examples(draw: st.DrawFn) -> Example:
    init: dict[str, Any] = {}
    if draw(st.booleans()):
        init["replacement"] = draw(st.booleans())
    if draw(st.booleans()):
        init["num_samples"] = draw(st.integers(1, 80))  # past 32, a draw with replacement takes several chunks
    extra = {"n": draw(st.integers(1, 30)), "generator": draw(_generators), "epochs": draw(_epochs)}
    return Example(init=init, seed=draw(seeds), extra=extra)


_weight = st.sampled_from([0.0, 0.5, 1.0, 2.0, 1e-3, 10.0]) | st.floats(0.0, 5.0)


@st.composite
def _weighted_examples(draw: st.DrawFn) -> Example:
    weights = draw(st.lists(_weight, min_size=1, max_size=20).filter(lambda w: any(x > 0 for x in w)))
    init: dict[str, Any] = {}
    if draw(st.booleans()):
        init["replacement"] = draw(st.booleans())
    # without replacement at most one draw of each positive weight (torch goes on through the zero weights, in an
    # order the spec leaves open)
    most = sum(w > 0 for w in weights) if init.get("replacement") is False else 60
    init["num_samples"] = draw(st.integers(1, most))
    extra = {"weights": weights, "generator": draw(_generators), "epochs": draw(_epochs)}
    return Example(init=init, seed=draw(seeds), extra=extra)


@st.composite
def _batch_sampler_examples(draw: st.DrawFn) -> Example:
    init = {"batch_size": draw(st.integers(1, 12)), "drop_last": draw(st.booleans())}
    return Example(init=init, seed=draw(seeds), extra={"n": draw(st.integers(0, 40))})


@st.composite
def _distributed_examples(draw: st.DrawFn) -> Example:
    replicas = draw(st.integers(1, 4))
    init: dict[str, Any] = {"num_replicas": replicas, "rank": draw(st.integers(0, replicas - 1))}
    for name, strategy in (("shuffle", st.booleans()), ("seed", st.integers(0, 1000)), ("drop_last", st.booleans())):
        if draw(st.booleans()):
            init[name] = draw(strategy)
    return Example(init=init, seed=draw(seeds), extra={"n": draw(st.integers(0, 30)), "epochs": draw(_epochs)})


@st.composite
def _split_examples(draw: st.DrawFn) -> Example:
    n = draw(st.integers(0, 30))
    lengths: list[Any]
    if draw(st.booleans()):
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
        lengths = [b - a for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
    else:  # fractions: torch floors each part, then hands the remainder out one by one from the first part
        lengths = draw(st.sampled_from([[0.8, 0.2], [0.5, 0.5], [0.5, 0.3, 0.2], [0.25] * 4, [1.0], [0.1, 0.9]]))
    return Example(seed=draw(seeds), extra={"n": n, "lengths": lengths, "generator": draw(_generators)})


_COLLATED = ["tensor", "pair", "dict", "scalar", "float", "bool", "str", "list", "namedtuple", "numpy", "nested"]


@st.composite
def _collate_examples(draw: st.DrawFn) -> Example:
    # Half the batches are of records that hold a field of every kind: a dozen examples then meet every kind.
    item = draw(st.just("record") | st.sampled_from(_COLLATED))
    return Example(seed=draw(seeds), extra={"item": item, "size": draw(st.integers(1, 6))})


_LOADER_DRAWS = (
    "torch: each iter(loader) first draws a base seed, one int64 from the loader's generator (the global one "
    "without), before the sampler draws; a RandomSampler without a generator then seeds its own from the global one."
)
_SAMPLER_DRAWS = (
    "torch: without a generator each iter() seeds a fresh one from one int64 of the global generator; a randperm(n) "
    "per full pass over the data, a last one cut short; with replacement, randint in chunks of 32."
)

_ROWS = {"n": 5, "item": "tensor", "sampler": None}

ENTRIES = [
    Entry(
        name="DataLoader",
        path="utils.data.DataLoader",
        kind="data",
        page="data",
        checks=("batches", "errors"),
        examples=_loader_examples(),
        errors=(
            _bad("batch_size of 0", "ValueError", _ROWS, batch_size=0),
            _bad("shuffle with a sampler", "ValueError", {**_ROWS, "sampler": "random"}, shuffle=True),
            _bad(
                "batch_size with a batch_sampler",
                "ValueError",
                {**_ROWS, "sampler": "batch", "batch_sampler": (2, False)},
                batch_size=2,
            ),
            _bad("drop_last without batching", "ValueError", _ROWS, batch_size=None, drop_last=True),
            _bad("negative num_workers", "ValueError", _ROWS, num_workers=-1),
            _bad("negative timeout", "ValueError", _ROWS, timeout=-1),
            _bad("prefetch_factor without workers", "ValueError", _ROWS, prefetch_factor=2),
            _bad("shuffle of an IterableDataset", "ValueError", {**_ROWS, "item": "iterable"}, shuffle=True),
            _bad("shuffle of an empty dataset", "ValueError", {**_ROWS, "n": 0}, shuffle=True),
        ),
        extra={"run": "loader", "draws": _LOADER_DRAWS},
    ),
    Entry(
        name="RandomSampler",
        path="utils.data.RandomSampler",
        kind="data",
        page="data",
        checks=("batches", "errors"),
        examples=_sampler_examples(),
        errors=(
            _bad("num_samples of 0", "ValueError", {"n": 5}, num_samples=0),
            _bad("an empty dataset", "ValueError", {"n": 0}),
            _bad("replacement not a bool", "TypeError", {"n": 5}, replacement="yes"),
        ),
        extra={"run": "sampler", "draws": _SAMPLER_DRAWS},
    ),
    Entry(
        name="WeightedRandomSampler",
        path="utils.data.WeightedRandomSampler",
        kind="data",
        page="data",
        checks=("batches", "errors"),
        examples=_weighted_examples(),
        errors=(
            _bad("num_samples of 0", "ValueError", {"weights": [1.0, 2.0]}, num_samples=0),
            _bad("num_samples a bool", "ValueError", {"weights": [1.0, 2.0]}, num_samples=True),
            _bad("replacement not a bool", "ValueError", {"weights": [1.0, 2.0]}, num_samples=2, replacement=1),
            _bad("weights of two dimensions", "ValueError", {"weights": [[1.0, 2.0]]}, num_samples=2),
            _bad("a negative weight", "RuntimeError", {"weights": [1.0, -1.0]}, num_samples=2),
            _bad("weights that are all zero", "RuntimeError", {"weights": [0.0, 0.0]}, num_samples=1),
            _bad(
                "more samples without replacement than weights",
                "RuntimeError",
                {"weights": [1.0, 2.0]},
                num_samples=3,
                replacement=False,
            ),
        ),
        extra={
            "run": "weighted",
            "draws": "torch: each iter() is one torch.multinomial(weights as float64, num_samples, replacement, "
            "generator=generator), the global generator without one.",
        },
    ),
    Entry(
        name="BatchSampler",
        path="utils.data.BatchSampler",
        kind="data",
        page="data",
        checks=("batches", "errors"),
        examples=_batch_sampler_examples(),
        errors=(
            _bad("batch_size of 0", "ValueError", {"n": 5}, batch_size=0, drop_last=False),
            _bad("batch_size a bool", "ValueError", {"n": 5}, batch_size=True, drop_last=False),
            _bad("drop_last not a bool", "ValueError", {"n": 5}, batch_size=2, drop_last="no"),
        ),
        extra={"run": "batch_sampler"},
    ),
    Entry(
        name="DistributedSampler",
        path="utils.data.DistributedSampler",
        kind="data",
        page="data",
        checks=("batches", "errors"),
        examples=_distributed_examples(),
        errors=(
            _bad("rank past the last replica", "ValueError", {"n": 5}, num_replicas=2, rank=2),
            _bad("negative rank", "ValueError", {"n": 5}, num_replicas=2, rank=-1),
        ),
        extra={
            "run": "distributed",
            "draws": "torch: the shuffle draws from a generator of its own, seeded seed + epoch; no other state moves.",
        },
    ),
    Entry(
        name="random_split",
        path="utils.data.random_split",
        kind="data",
        page="data",
        checks=("batches", "errors"),
        examples=_split_examples(),
        errors=(
            _bad("lengths that do not add up to the dataset's", "ValueError", {"n": 5, "lengths": [2, 2]}),
            _bad("a negative fraction", "ValueError", {"n": 5, "lengths": [-0.5, 1.5]}),
        ),
        extra={"run": "split", "draws": "torch: one randperm(len(dataset)) from the generator (default: the global)."},
    ),
    Entry(
        name="default_collate",
        path="utils.data.default_collate",
        kind="data",
        page="data",
        checks=("batches", "errors"),
        examples=_collate_examples(),
        errors=(
            _bad("lists of different lengths", "RuntimeError", {"item": "ragged", "size": 3}),
            _bad("tensors of different shapes", "RuntimeError", {"item": "ragged_tensor", "size": 3}),
            _bad("a sample of an unsupported type", "TypeError", {"item": "object", "size": 2}),
        ),
        extra={"run": "collate"},
    ),
]
