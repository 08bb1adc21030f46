"""batches: a data loader, sampler, split or collate function gives what torch's does, item for item, epoch after
epoch, and leaves the random state as torch's leaves it.

An entry of kind ``data`` says in ``extra["run"]`` what an example builds (see ``spec/components/data.py``):

* ``loader``: ``DataLoader(dataset, **init)`` over a dataset the harness holds, each epoch ``list(loader)``;
* ``sampler``: ``RandomSampler(dataset, **init)``, each epoch ``list(sampler)``;
* ``weighted``: ``WeightedRandomSampler(weights, **init)``, each epoch ``list(sampler)``;
* ``batch_sampler``: ``BatchSampler(range(n), **init)``;
* ``distributed``: ``DistributedSampler(dataset, **init)``, each epoch ``set_epoch(e)`` then ``list(sampler)``;
* ``split``: ``random_split(dataset, lengths)``, the items of each part;
* ``collate``: ``default_collate(batch)`` of a batch of samples of one kind.

Each side builds from its own classes (the implementation's ``RandomSampler`` for the implementation's loader) and
starts from the same random state: ``torch.manual_seed(example.seed)`` and, where the example has one, a generator
seeded alike. Outputs are compared exactly: a loader copies and stacks, it computes nothing, so its batches are
torch's bit for bit or wrong. So are ``len()`` and, after every epoch, the global random state and the
generator's: an implementation that draws one random number more or fewer than torch gives the right batches in
this epoch and other ones in the next, and moves every later dropout mask of the user's training.
"""

from __future__ import annotations

import collections
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from conformance.checks.base import CheckFailed, Context, check
from spec.entry import Example

_DATA = "utils.data"


def sample(kind: str, i: int) -> Any:
    """Sample ``i`` of a dataset whose samples are of ``kind``; its values name ``i``, so a batch shows its indices."""
    if kind in ("tensor", "iterable"):
        return torch.tensor([i, i + 0.5])
    if kind == "pair":
        return torch.full((3,), float(i)), i
    if kind == "dict":
        return {"x": torch.tensor([i, -i]), "name": f"s{i}", "w": i / 4}
    if kind == "scalar":
        return i
    if kind == "float":
        return i / 8
    if kind == "bool":
        return i % 3 == 0
    if kind == "str":
        return f"line {i}"
    if kind == "list":
        return [i, torch.tensor(float(i))]
    if kind == "namedtuple":
        return Point(torch.tensor([i]), i / 2)
    if kind == "numpy":
        import numpy as np

        return np.arange(3, dtype=np.int32) + i
    if kind == "nested":
        return {"ids": torch.arange(2) + i, "meta": (f"m{i}", [i, i + 1])}
    if kind == "record":  # one field of every kind above, so that one example meets them all
        return {k: sample(k, i) for k in RECORD}
    # Samples that no collate function can batch, for the error cases.
    if kind == "ragged":
        return [i] * (i + 1)
    if kind == "ragged_tensor":
        return torch.zeros(i + 1)
    if kind == "object":
        return object()
    raise ValueError(f"no sample kind {kind!r}")


Point = collections.namedtuple("Point", ["xy", "weight"])

#: The fields of a ``record`` sample.
RECORD = ("tensor", "pair", "dict", "scalar", "float", "bool", "str", "list", "namedtuple", "numpy", "nested")


class Rows:
    """A map-style dataset of ``n`` samples of ``kind``: plain ``__getitem__`` and ``__len__``, no base class, as
    torch's loader accepts."""

    def __init__(self, n: int, kind: str = "scalar") -> None:
        self.n, self.kind = n, kind

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Any:
        if not -self.n <= i < self.n:
            raise IndexError(f"sample {i} of a dataset of {self.n}")
        return sample(self.kind, i % self.n)


def stream(base: type, n: int, kind: str) -> Any:
    """An iterable-style dataset of ``n`` samples, derived from the side's own ``IterableDataset``."""

    class Stream(base):  # type: ignore[valid-type, misc]
        def __iter__(self) -> Iterator[Any]:
            return (sample(kind, i) for i in range(n))

        def __len__(self) -> int:
            return n

    return Stream()


@dataclass
class _Epoch:
    output: list[Any]
    length: int | None
    rng: torch.Tensor
    generator: torch.Tensor | None


@dataclass
class _Side:
    ctx: Context
    iut: bool
    call: Callable[..., Any]
    generator: torch.Generator | None

    def own(self) -> Any:
        return self.ctx.iut_component() if self.iut else self.ctx.ref_component()

    def cls(self, name: str) -> Any:
        path = f"{_DATA}.{name}"
        return self.ctx.get_iut(path) if self.iut else self.ctx.ref_impl.get(path)

    def epoch(self, output: list[Any], length: int | None = None) -> _Epoch:
        state = None if self.generator is None else self.generator.get_state()
        return _Epoch(output, length, torch.get_rng_state(), state)

    def length(self, obj: Any, what: str) -> int:
        return int(self.call(len, obj, what=f"len({what})"))


def _with_generator(side: _Side, kwargs: dict[str, Any]) -> dict[str, Any]:
    return kwargs if side.generator is None else {**kwargs, "generator": side.generator}


def _loader(side: _Side, example: Example) -> list[_Epoch]:
    x = example.extra
    n, kind = x["n"], x["item"]
    dataset = stream(side.cls("IterableDataset"), n, kind) if kind == "iterable" else Rows(n, kind)
    kwargs = dict(example.init)
    if x.get("sampler") == "random":
        kwargs["sampler"] = side.call(side.cls("RandomSampler"), dataset, what="RandomSampler(dataset)")
    elif x.get("sampler") == "batch":
        inner = side.call(side.cls("RandomSampler"), dataset, what="RandomSampler(dataset)")
        batch, drop_last = x["batch_sampler"]
        kwargs["batch_sampler"] = side.call(
            side.cls("BatchSampler"), inner, batch, drop_last, what=f"BatchSampler(sampler, {batch}, {drop_last})"
        )
    what = f"DataLoader({_shown(example)})"
    loader = side.call(side.own(), dataset, what=what, **_with_generator(side, kwargs))
    length = side.length(loader, what)
    return [side.epoch(side.call(list, loader, what=f"iterating {what}"), length) for _ in range(x["epochs"])]


def _sampler(side: _Side, example: Example) -> list[_Epoch]:
    x = example.extra
    what = f"RandomSampler({_shown(example)})"
    sampler = side.call(side.own(), Rows(x["n"]), what=what, **_with_generator(side, dict(example.init)))
    length = side.length(sampler, what)
    return [side.epoch(side.call(list, sampler, what=f"iterating {what}"), length) for _ in range(x["epochs"])]


def _weighted(side: _Side, example: Example) -> list[_Epoch]:
    x = example.extra
    what = f"WeightedRandomSampler({_shown(example)})"
    sampler = side.call(side.own(), x["weights"], what=what, **_with_generator(side, dict(example.init)))
    length = side.length(sampler, what)
    return [side.epoch(side.call(list, sampler, what=f"iterating {what}"), length) for _ in range(x["epochs"])]


def _batch_sampler(side: _Side, example: Example) -> list[_Epoch]:
    what = f"BatchSampler({_shown(example)})"
    sampler = side.call(side.own(), range(example.extra["n"]), what=what, **example.init)
    length = side.length(sampler, what)
    return [side.epoch(side.call(list, sampler, what=f"iterating {what}"), length)]


def _distributed(side: _Side, example: Example) -> list[_Epoch]:
    x = example.extra
    what = f"DistributedSampler({_shown(example)})"
    sampler = side.call(side.own(), Rows(x["n"]), what=what, **example.init)
    length = side.length(sampler, what)
    epochs = []
    for e in range(x["epochs"]):
        side.call(sampler.set_epoch, e, what=f"{what}.set_epoch({e})")
        epochs.append(side.epoch(side.call(list, sampler, what=f"iterating {what} in epoch {e}"), length))
    return epochs


def _split(side: _Side, example: Example) -> list[_Epoch]:
    x = example.extra
    what = f"random_split({_shown(example)})"
    with warnings.catch_warnings():  # torch warns of a part of length 0; a warning is not what is specified
        warnings.simplefilter("ignore", UserWarning)
        parts = side.call(side.own(), Rows(x["n"]), x["lengths"], what=what, **_with_generator(side, {}))
    parts = side.call(list, parts, what=f"the parts of {what}")
    items = [side.call(lambda p: [p[i] for i in range(len(p))], part, what=f"the items of {what}") for part in parts]
    return [side.epoch(items)]


def _collate(side: _Side, example: Example) -> list[_Epoch]:
    x = example.extra
    batch = [sample(x["item"], i) for i in range(x["size"])]
    return [side.epoch([side.call(side.own(), batch, what=f"default_collate({_shown(example)})")])]


RUNS: dict[str, Callable[[_Side, Example], list[_Epoch]]] = {
    "loader": _loader,
    "sampler": _sampler,
    "weighted": _weighted,
    "batch_sampler": _batch_sampler,
    "distributed": _distributed,
    "split": _split,
    "collate": _collate,
}

# What each output list holds, for the messages.
_ITEMS = {
    "loader": "batch",
    "sampler": "index",
    "weighted": "index",
    "batch_sampler": "batch",
    "distributed": "index",
    "split": "part",
}


def _shown(example: Example) -> str:
    """The example as the call's arguments read, for messages."""
    x = example.extra
    dataset = [f"a dataset of {x['n']} {x.get('item', 'int')} samples"] if "n" in x else []
    shown = {k: v for k, v in x.items() if k not in ("n", "item", "epochs")}
    args = [f"{k}={v!r}" for k, v in {**shown, **example.init}.items()]
    return ", ".join([*dataset, *args, f"seed={example.seed}"])


def _direct(fn: Callable[..., Any], *args: Any, what: str = "", **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def run_side(ctx: Context, example: Example, iut: bool, direct: bool = False) -> list[_Epoch]:
    """The example's run on one side, from the example's random state (the caller's is restored afterwards). With
    ``direct`` the side's calls are made as they are, so that an error case sees what they raise."""
    call = _direct if direct else (ctx.iut if iut else ctx.ref)
    seed = example.extra.get("generator")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(example.seed)
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        return RUNS[ctx.entry.extra["run"]](_Side(ctx, iut, call, generator), example)


def _show(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        text = f"tensor({value.tolist()}, dtype={value.dtype})"
    else:
        text = f"{type(value).__name__} {value!r}"
    return text if len(text) <= 200 else text[:197] + "..."


def difference(got: Any, want: Any, where: str) -> str | None:
    """Where ``got`` departs from torch's ``want`` (types, dtypes, shapes, values, keys, lengths), or None."""
    if isinstance(want, torch.Tensor):
        same = (
            isinstance(got, torch.Tensor)
            and got.dtype == want.dtype
            and got.shape == want.shape
            and torch.equal(got, want)
        )
        return None if same else f"{where} is {_show(got)}; torch's is {_show(want)}"
    if type(got) is not type(want):
        return f"{where} is {_show(got)}; torch's is {_show(want)}"
    if isinstance(want, Mapping):
        if list(got) != list(want):
            return f"{where} has the keys {list(got)}; torch's has {list(want)}"
        return next((d for k in want if (d := difference(got[k], want[k], f"{where}[{k!r}]"))), None)
    if isinstance(want, list | tuple):
        if len(got) != len(want):
            return f"{where} has {len(got)} items; torch's has {len(want)}: {_show(got)} against {_show(want)}"
        return next(
            (d for i, (g, w) in enumerate(zip(got, want, strict=True)) if (d := difference(g, w, f"{where}[{i}]"))),
            None,
        )
    return None if got == want else f"{where} is {_show(got)}; torch's is {_show(want)}"


def _compare(ctx: Context, example: Example, got: list[_Epoch], want: list[_Epoch]) -> None:
    run = ctx.entry.extra["run"]
    item = _ITEMS.get(run, "output")
    for e, (g, w) in enumerate(zip(got, want, strict=True)):
        epoch = f"epoch {e + 1} of {len(want)}" if len(want) > 1 else ""
        when, after = (f"in {epoch}", f"after {epoch}") if epoch else ("", "after the run")
        call = f"{ctx.entry.name}({_shown(example)})"
        at = f"{call} {when}".rstrip()
        if g.length != w.length:
            raise CheckFailed(f"{call}: len() is {g.length}; torch's is {w.length}")
        if len(g.output) != len(w.output) and run in _ITEMS:
            raise CheckFailed(f"{at}: {len(g.output)} {_plural(item)} where torch gives {len(w.output)}")
        for i, (a, b) in enumerate(zip(g.output, w.output, strict=True)):
            label = f"{item} {i}" if run in _ITEMS else "the output"
            if (diff := difference(a, b, label)) is not None:
                raise CheckFailed(f"{at}: {diff}")
        hint = ctx.entry.extra.get("draws", "")
        if not torch.equal(g.rng, w.rng):
            raise CheckFailed(
                f"{call}: {after} the global random state differs from torch's: the implementation "
                f"drew other random numbers, or as many in another way. {hint}".strip()
            )
        if g.generator is not None and w.generator is not None and not torch.equal(g.generator, w.generator):
            raise CheckFailed(
                f"{call}: {after} the generator's state differs from torch's: the implementation "
                f"drew other random numbers from it. {hint}".strip()
            )


def _plural(item: str) -> str:
    return {"batch": "batches", "index": "indices", "part": "parts"}.get(item, item + "s")


@check("batches", examples=lambda entry: entry.examples if entry.kind == "data" else None)
def batches(ctx: Context, example: Example | None) -> None:
    """Every epoch's items, len() and the random state afterwards are torch's, exactly."""
    assert example is not None
    want = run_side(ctx, example, iut=False)
    got = run_side(ctx, example, iut=True)
    _compare(ctx, example, got, want)
