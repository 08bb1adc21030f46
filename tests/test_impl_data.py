"""impl.utils.data against torch.utils.data: the same batches, lengths, errors and random draws, seed for seed.

Each check runs one recipe twice, once with each library's pieces, from the same seeds (``torch.manual_seed`` and an
equally seeded ``torch.Generator``), and compares everything that comes out: the batches of two epochs (structure,
types, dtypes, values), ``len``, the exception (type and message) where one is raised, the warnings, and the state of
the global and the explicit generators afterwards.
"""

from __future__ import annotations

import collections
import functools
import warnings
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import impl.utils.data as iud

LIBS = (iud, tud)


class Point(NamedTuple):
    x: Any
    y: Any


class Raised(NamedTuple):
    kind: type
    message: str


def assert_same(a: Any, b: Any, where: str = "result") -> None:
    """``a`` and ``b`` are equal in structure, types, dtypes and values (tensors by ``torch.equal``)."""
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype, f"{where}: {a.dtype} != {b.dtype}"
        assert a.shape == b.shape, f"{where}: {a.shape} != {b.shape}"
        assert torch.equal(a, b), f"{where}: {a} != {b}"
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b), f"{where}: {a} != {b}"
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def outcome(fn: Callable[[], Any]) -> Any:
    """What ``fn()`` returns, or the exception it raises as a ``Raised``."""
    try:
        return fn()
    except Exception as e:
        return Raised(type(e), str(e))


def run(recipe: Callable[[ModuleType, torch.Generator], Any], lib: ModuleType, seed: int = 0) -> dict[str, Any]:
    """Everything that comes out of ``recipe(lib, generator)`` from fixed seeds: its result (or exception), its
    warnings and both generators' states afterwards."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed + 1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = outcome(lambda: recipe(lib, generator))
    return {
        "result": result,
        "warnings": [(w.category, str(w.message)) for w in caught],
        "global_state": torch.get_rng_state(),
        "generator_state": generator.get_state(),
    }


def assert_like_torch(recipe: Callable[[ModuleType, torch.Generator], Any], seed: int = 0) -> Any:
    """``recipe`` gives the same outcome with impl's pieces as with torch's; that outcome."""
    ours, theirs = run(recipe, iud, seed), run(recipe, tud, seed)
    assert_same(ours, theirs)
    return ours["result"]


def epochs(loader: Any, n: int = 2) -> dict[str, Any]:
    """``len(loader)`` and the batches of ``n`` epochs."""
    return {"len": outcome(lambda: len(loader)), "epochs": [list(loader) for _ in range(n)]}


def tensor_dataset(lib: ModuleType, n: int) -> Any:
    return lib.TensorDataset(torch.arange(2 * n, dtype=torch.float32).view(n, 2), torch.arange(n))


def counting(lib: ModuleType, n: int, with_len: bool = True, sample: Callable[[int], Any] = int) -> Any:
    """An iterable dataset of ``lib`` yielding ``sample(0) .. sample(n - 1)``."""

    class Count(lib.IterableDataset):  # type: ignore[name-defined, misc]
        def __iter__(self) -> Iterator[Any]:
            return (sample(i) for i in range(n))

    if with_len:
        Count.__len__ = lambda self: n  # type: ignore[attr-defined]
    return Count()


# ----------------------------------------------------------------------------------------------- DataLoader


@pytest.mark.parametrize("n", [0, 1, 5, 17])
@pytest.mark.parametrize("batch_size", [None, 1, 3, 8])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("use_generator", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_map_style_loader(n: int, batch_size: int | None, shuffle: bool, use_generator: bool, drop_last: bool) -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        loader = lib.DataLoader(
            tensor_dataset(lib, n),
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=drop_last,
            generator=g if use_generator else None,
        )
        return epochs(loader)

    assert_like_torch(recipe, seed=n + 7)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shuffle_draws_base_seed_then_permutation(seed: int) -> None:
    # a plain list dataset of ints: the batches are int64 tensors
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        loader = lib.DataLoader(list(range(10, 23)), batch_size=4, shuffle=True)
        first = iter(loader)  # the base seed is drawn here, before the sampler's permutation
        state_after_iter = torch.get_rng_state()
        return {"state": state_after_iter, "batches": list(first), "more": epochs(loader, 3)}

    assert_like_torch(recipe, seed)


def test_an_abandoned_epoch_leaves_the_same_state() -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        loader = lib.DataLoader(range(20), batch_size=3, shuffle=True, generator=g)
        it = iter(loader)
        head = [next(it), next(it)]
        return head, list(loader)

    assert_like_torch(recipe)


SAMPLERS: dict[str, Callable[[ModuleType, Any, torch.Generator], Any]] = {
    "sequential": lambda lib, ds, g: lib.SequentialSampler(ds),
    "random": lambda lib, ds, g: lib.RandomSampler(ds),
    "random-gen": lambda lib, ds, g: lib.RandomSampler(ds, generator=g),
    "random-more": lambda lib, ds, g: lib.RandomSampler(ds, num_samples=2 * len(ds) + 3),
    "random-fewer": lambda lib, ds, g: lib.RandomSampler(ds, num_samples=3, generator=g),
    "replacement": lambda lib, ds, g: lib.RandomSampler(ds, replacement=True),
    "replacement-70": lambda lib, ds, g: lib.RandomSampler(ds, replacement=True, num_samples=70, generator=g),
    "replacement-32": lambda lib, ds, g: lib.RandomSampler(ds, replacement=True, num_samples=32),
    "subset": lambda lib, ds, g: lib.SubsetRandomSampler([1, 4, 6, 2]),
    "subset-gen": lambda lib, ds, g: lib.SubsetRandomSampler([1, 4, 6, 2], generator=g),
    "weighted": lambda lib, ds, g: lib.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6, 1, 2, 0], 12),
    "weighted-nr": lambda lib, ds, g: lib.WeightedRandomSampler(
        torch.tensor([0.9, 0.4, 0.05, 0.2, 0.3, 0.1, 1.0]), 5, replacement=False, generator=g
    ),
    "distributed": lambda lib, ds, g: lib.DistributedSampler(ds, num_replicas=3, rank=1, seed=5),
}


@pytest.mark.parametrize("name", list(SAMPLERS))
@pytest.mark.parametrize("batch_size", [None, 4])
def test_loader_with_sampler(name: str, batch_size: int | None) -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        ds = tensor_dataset(lib, 9)
        sampler = SAMPLERS[name](lib, ds, g)
        return {
            "sampler": [list(sampler), outcome(lambda: len(sampler))],
            **epochs(lib.DataLoader(ds, batch_size, sampler=sampler)),
        }

    assert_like_torch(recipe, seed=3)


@pytest.mark.parametrize("name", list(SAMPLERS))
@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_with_batch_sampler(name: str, drop_last: bool) -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        ds = tensor_dataset(lib, 9)
        batches = lib.BatchSampler(SAMPLERS[name](lib, ds, g), 4, drop_last)
        return {"indices": [list(batches), len(batches)], **epochs(lib.DataLoader(ds, batch_sampler=batches))}

    assert_like_torch(recipe, seed=4)


def test_a_sampler_that_draws_eagerly_draws_before_the_base_seed() -> None:
    class Eager:  # its __iter__ is no generator function: it draws as soon as the loader's iterator is made
        def __iter__(self) -> Iterator[list[int]]:
            return iter(torch.randperm(7).view(-1, 1).tolist())

        def __len__(self) -> int:
            return 7

    assert_like_torch(lambda lib, g: epochs(lib.DataLoader(list(range(7)), batch_sampler=Eager())))


def test_getitems_fetches_whole_batches() -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        calls: list[list[int]] = []

        class Batched(lib.Dataset):  # type: ignore[name-defined, misc]
            def __getitem__(self, i: int) -> Any:
                raise AssertionError("a batched fetch must not index one by one")

            def __getitems__(self, indices: list[int]) -> list[Any]:
                calls.append(list(indices))
                return [{"i": i, "sq": torch.tensor([i * i])} for i in indices]

            def __len__(self) -> int:
                return 10

        return epochs(lib.DataLoader(Batched(), batch_size=4, shuffle=True, generator=g)), calls

    assert_like_torch(recipe)


def test_getitems_through_subset_and_unbatched_loading() -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        sub = lib.Subset(tensor_dataset(lib, 10), [9, 0, 3, 3, 5])
        return epochs(lib.DataLoader(sub, batch_size=2, shuffle=True)), epochs(lib.DataLoader(sub, batch_size=None))

    assert_like_torch(recipe)


@pytest.mark.parametrize(
    "sample",
    [
        lambda i: i,
        lambda i: float(i) / 2,
        lambda i: i % 2 == 0,
        lambda i: f"s{i}",
        lambda i: b"b",
        lambda i: (i, torch.tensor([i, -i])),
        lambda i: {"a": i, "b": [torch.full((2,), i), f"{i}"]},
        lambda i: Point(np.int64(i), np.array([i, i + 1.0])),
        lambda i: np.float32(i),
        lambda i: [i, (float(i), f"{i}")],
    ],
    ids=["int", "float", "bool", "str", "bytes", "tuple", "dict", "namedtuple-numpy", "np-scalar", "nested"],
)
@pytest.mark.parametrize("batch_size", [None, 3])
def test_collation_through_the_loader(sample: Callable[[int], Any], batch_size: int | None) -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        return epochs(lib.DataLoader([sample(i) for i in range(7)], batch_size=batch_size, shuffle=True))

    assert_like_torch(recipe)


@pytest.mark.parametrize("n", [0, 1, 7, 8])
@pytest.mark.parametrize("batch_size", [None, 1, 4])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("with_len", [False, True])
def test_iterable_dataset(n: int, batch_size: int | None, drop_last: bool, with_len: bool) -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        ds = counting(lib, n, with_len, sample=lambda i: {"x": torch.tensor([i, 2 * i]), "i": i})
        return epochs(lib.DataLoader(ds, batch_size=batch_size, drop_last=drop_last, generator=g))

    assert_like_torch(recipe)


def test_iterable_dataset_longer_than_its_len_warns() -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        class Liar(lib.IterableDataset):  # type: ignore[name-defined, misc]
            def __iter__(self) -> Iterator[int]:
                return iter(range(5))

            def __len__(self) -> int:
                return 2

            def __repr__(self) -> str:
                return "Liar()"

        loader = lib.DataLoader(Liar(), batch_size=None)
        return len(loader), list(loader)

    assert_like_torch(recipe)


def test_torch_iterable_dataset_stands_in_for_impls() -> None:
    ds = counting(tud, 5)
    assert_same(list(iud.DataLoader(ds, batch_size=2)), list(tud.DataLoader(ds, batch_size=2)))
    with pytest.raises(ValueError, match="shuffle"):
        iud.DataLoader(ds, shuffle=True)


def test_pin_memory_warns_without_an_accelerator() -> None:
    if torch.accelerator.is_available():
        pytest.skip("the warning is for machines without an accelerator")
    assert_like_torch(lambda lib, g: epochs(lib.DataLoader(list(range(4)), 2, pin_memory=True, pin_memory_device="x")))


def test_custom_collate_fn() -> None:
    assert_like_torch(lambda lib, g: epochs(lib.DataLoader(list(range(7)), 3, shuffle=True, collate_fn=sum)))


def test_signature_is_torchs() -> None:
    import inspect

    for name in ["DataLoader", "RandomSampler", "BatchSampler", "DistributedSampler", "WeightedRandomSampler"]:
        ours, theirs = inspect.signature(getattr(iud, name)), inspect.signature(getattr(tud, name))
        assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
            (p.name, p.kind, p.default) for p in theirs.parameters.values()
        ], name
    ours_split, theirs_split = inspect.signature(iud.random_split), inspect.signature(tud.random_split)
    assert [(p.name, p.default) for p in ours_split.parameters.values()] == [
        (p.name, p.default) for p in theirs_split.parameters.values()
    ]


# Each bad argument (or combination), with a word its message must name.
BAD_LOADERS: dict[str, tuple[Callable[[ModuleType], Any], str]] = {
    "num_workers<0": (lambda lib: lib.DataLoader(range(4), num_workers=-1), "num_workers"),
    "timeout<0": (lambda lib: lib.DataLoader(range(4), timeout=-1), "timeout"),
    "prefetch_factor": (lambda lib: lib.DataLoader(range(4), prefetch_factor=2), "prefetch_factor"),
    "persistent_workers": (lambda lib: lib.DataLoader(range(4), persistent_workers=True), "persistent_workers"),
    "multiprocessing_context": (
        lambda lib: lib.DataLoader(range(4), multiprocessing_context="spawn"),
        "multiprocessing_context",
    ),
    "sampler+shuffle": (lambda lib: lib.DataLoader(range(4), shuffle=True, sampler=[0, 1]), "shuffle"),
    "batch_sampler+batch_size": (
        lambda lib: lib.DataLoader(range(4), batch_size=2, batch_sampler=[[0, 1]]),
        "batch_size",
    ),
    "batch_sampler+shuffle": (lambda lib: lib.DataLoader(range(4), shuffle=True, batch_sampler=[[0]]), "shuffle"),
    "batch_sampler+sampler": (lambda lib: lib.DataLoader(range(4), sampler=[0], batch_sampler=[[0]]), "sampler"),
    "batch_sampler+drop_last": (
        lambda lib: lib.DataLoader(range(4), drop_last=True, batch_sampler=[[0]]),
        "drop_last",
    ),
    "batch_size=None+drop_last": (lambda lib: lib.DataLoader(range(4), batch_size=None, drop_last=True), "drop_last"),
    "batch_size=0": (lambda lib: lib.DataLoader(range(4), batch_size=0), "batch_size"),
    "batch_size=-2": (lambda lib: lib.DataLoader(range(4), batch_size=-2), "batch_size"),
    "batch_size=2.0": (lambda lib: lib.DataLoader(range(4), batch_size=2.0), "batch_size"),
    "drop_last=1": (lambda lib: lib.DataLoader(range(4), drop_last=1), "drop_last"),
    "shuffle-empty": (lambda lib: lib.DataLoader([], shuffle=True), "num_samples"),
    "iterable+shuffle": (lambda lib: lib.DataLoader(counting(lib, 3), shuffle=True), "shuffle"),
    "iterable+sampler": (lambda lib: lib.DataLoader(counting(lib, 3), sampler=[0]), "sampler"),
    "iterable+batch_sampler": (lambda lib: lib.DataLoader(counting(lib, 3), batch_sampler=[[0]]), "batch_sampler"),
    "iterable-no-len": (lambda lib: len(lib.DataLoader(counting(lib, 3, with_len=False))), "len"),
    "timeout>0": (lambda lib: list(lib.DataLoader(range(4), timeout=1)), "timeout"),
    "set-batch_size": (lambda lib: setattr(lib.DataLoader(range(4)), "batch_size", 2), "batch_size"),
    "set-dataset": (lambda lib: setattr(lib.DataLoader(range(4)), "dataset", []), "dataset"),
    "unequal-lists": (lambda lib: list(lib.DataLoader([[1, 2], [3]], batch_size=2)), "equal size"),
    "unsupported": (lambda lib: list(lib.DataLoader([object(), object()], batch_size=2)), "default_collate"),
}


@pytest.mark.parametrize("name", list(BAD_LOADERS))
def test_loader_errors(name: str) -> None:
    make, word = BAD_LOADERS[name]
    raised = assert_like_torch(lambda lib, g: make(lib))
    assert isinstance(raised, Raised), f"{name} should raise"
    assert word in raised.message, raised.message


def test_workers_are_not_implemented() -> None:
    tud.DataLoader(list(range(4)), num_workers=2)  # type: ignore[arg-type]  # torch accepts them
    with pytest.raises(NotImplementedError, match="num_workers must be 0"):
        iud.DataLoader(list(range(4)), num_workers=2)  # type: ignore[arg-type]
    # torch's argument checks come first
    for make in (
        lambda lib: lib.DataLoader(range(4), num_workers=2, prefetch_factor=-1),
        lambda lib: lib.DataLoader(range(4), num_workers=2, multiprocessing_context="no-such-method"),
        lambda lib: lib.DataLoader(range(4), num_workers=2, multiprocessing_context=3),
        lambda lib: lib.DataLoader(range(4), num_workers=2, shuffle=True, sampler=[0]),
    ):
        raised = assert_like_torch(functools.partial(lambda make, lib, g: make(lib), make))
        assert isinstance(raised, Raised) and raised.kind in (ValueError, TypeError), raised


# ------------------------------------------------------------------------------------------------- samplers


@pytest.mark.parametrize("name", list(SAMPLERS))
@pytest.mark.parametrize("n", [1, 9])
def test_sampler_draws(name: str, n: int) -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        sampler = SAMPLERS[name](lib, list(range(n)), g)
        return [list(sampler), list(sampler), outcome(lambda: len(sampler))]

    assert_like_torch(recipe, seed=n)


@pytest.mark.parametrize("n", [0, 1, 5, 8, 11])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler(n: int, replicas: int, shuffle: bool, drop_last: bool) -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        out = []
        for rank in range(replicas):
            sampler = lib.DistributedSampler(
                list(range(n)), num_replicas=replicas, rank=rank, shuffle=shuffle, seed=3, drop_last=drop_last
            )
            for epoch in (0, 1, 5):
                sampler.set_epoch(epoch)
                out.append((rank, epoch, outcome(functools.partial(list, sampler)), len(sampler), sampler.total_size))
        return out

    assert_like_torch(recipe)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.DistributedSampler(range(4), num_replicas=2, rank=2),
        lambda lib: lib.DistributedSampler(range(4), num_replicas=2, rank=-1),
        lambda lib: lib.DistributedSampler(range(4)),  # no process group
        lambda lib: lib.DistributedSampler(range(4), num_replicas=2),
        lambda lib: lib.RandomSampler(range(4), replacement=1),
        lambda lib: lib.RandomSampler(range(4), num_samples=0),
        lambda lib: lib.RandomSampler(range(4), num_samples=2.5),
        lambda lib: lib.RandomSampler([]),
        lambda lib: lib.WeightedRandomSampler([1.0, 2.0], 0),
        lambda lib: lib.WeightedRandomSampler([1.0, 2.0], True),
        lambda lib: lib.WeightedRandomSampler([1.0, 2.0], 2, replacement=None),
        lambda lib: lib.WeightedRandomSampler([[1.0, 2.0]], 2),
        lambda lib: list(lib.WeightedRandomSampler([1.0, 2.0], 3, replacement=False)),
        lambda lib: lib.BatchSampler(range(4), 0, False),
        lambda lib: lib.BatchSampler(range(4), True, False),
        lambda lib: lib.BatchSampler(range(4), 2, None),
        lambda lib: list(lib.Sampler()),
        lambda lib: len(lib.BatchSampler(iter(range(4)), 2, False)),
    ],
)
def test_sampler_errors(make: Callable[[ModuleType], Any]) -> None:
    assert isinstance(assert_like_torch(lambda lib, g: make(lib)), Raised)


def test_distributed_sampler_asks_the_process_group() -> None:
    import torch.distributed as dist

    if not dist.is_available():
        pytest.skip("torch.distributed is not available")
    raised = assert_like_torch(lambda lib, g: lib.DistributedSampler(range(4)))
    assert isinstance(raised, Raised) and "process group" in raised.message


# ------------------------------------------------------------------------------------------------- datasets


@pytest.mark.parametrize(
    "lengths",
    [[3, 7], [10], [0, 10], [5, 5, 0], [0.3, 0.7], [0.5, 0.5], [0.1] * 10, [0.33, 0.33, 0.34], [0.05, 0.95], [1.0]],
)
@pytest.mark.parametrize("use_generator", [False, True])
def test_random_split(lengths: list[float], use_generator: bool) -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        kwargs = {"generator": g} if use_generator else {}
        parts = lib.random_split(range(10), lengths, **kwargs)
        return [(list(p.indices), len(p), [p[i] for i in range(len(p))]) for p in parts]

    assert_like_torch(recipe)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_random_split_small(n: int) -> None:
    assert_like_torch(lambda lib, g: [list(p) for p in lib.random_split(list(range(n)), [0.5, 0.5], generator=g)])


@pytest.mark.parametrize("lengths", [[3, 6], [3, 8], [0.5, 0.6], [1.2, -0.2], [0.4, 0.4]])
def test_random_split_errors(lengths: list[float]) -> None:
    raised = assert_like_torch(lambda lib, g: lib.random_split(range(10), lengths))
    assert isinstance(raised, Raised) and raised.kind is ValueError


def test_datasets() -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        t = tensor_dataset(lib, 4)
        cat = lib.ConcatDataset([t, [(torch.zeros(2), torch.tensor(9))], tensor_dataset(lib, 2)])
        total = t + t
        sub = lib.Subset(cat, [6, 0, 4])
        stacked = lib.StackDataset(t, list("abcd"))
        keyed = lib.StackDataset(a=t, b=list("abcd"))
        return [
            len(t),
            t[1],
            t[torch.tensor([0, 2])],
            len(cat),
            cat.cumulative_sizes,
            [cat[i] for i in range(-7, 7)],
            outcome(lambda: cat[-8]),
            outcome(lambda: cat[7]),
            type(total).__name__,
            len(total),
            total[5],
            len(sub),
            sub[0],
            sub.__getitems__([0, 2]),
            len(stacked),
            stacked[2],
            stacked.__getitems__([1, 3]),
            keyed[0],
            keyed.__getitems__([3]),
            lib.ConcatDataset.cumsum([[1], [2, 3], []]),
        ]

    assert_like_torch(recipe)


def test_chain_dataset() -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        chain = counting(lib, 2) + counting(lib, 3, sample=float)
        bad = lib.ChainDataset([counting(lib, 2), [1, 2]])
        return [type(chain).__name__, list(chain), len(chain), outcome(lambda: list(bad)), outcome(lambda: len(bad))]

    assert_like_torch(recipe)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.Dataset()[0],
        lambda lib: lib.TensorDataset(torch.zeros(3), torch.zeros(4)),
        lambda lib: lib.ConcatDataset([]),
        lambda lib: lib.ConcatDataset([counting(lib, 2)]),
        lambda lib: lib.StackDataset(),
        lambda lib: lib.StackDataset([1], [1, 2]),
        lambda lib: lib.StackDataset([1], b=[2]),
        lambda lib: lib.StackDataset(a=[1], b=[1, 2]),
        lambda lib: lib.IterableDataset(),
        lambda lib: type("Sub", (lib.Subset,), {"__getitem__": lambda self, i: 0})([1], [0]),
    ],
)
def test_dataset_errors(make: Callable[[ModuleType], Any]) -> None:
    assert isinstance(assert_like_torch(lambda lib, g: make(lib)), Raised)


def test_cummulative_sizes_is_deprecated() -> None:
    assert_like_torch(lambda lib, g: lib.ConcatDataset([[1, 2], [3]]).cummulative_sizes)


def test_subclass_with_getitems_is_fine() -> None:
    def recipe(lib: ModuleType, g: torch.Generator) -> Any:
        class Doubled(lib.Subset):  # type: ignore[name-defined, misc]
            def __getitem__(self, i: int) -> Any:
                return 2 * self.dataset[self.indices[i]]

            def __getitems__(self, indices: list[int]) -> list[Any]:
                return [self[i] for i in indices]

        return epochs(lib.DataLoader(Doubled(list(range(5)), [4, 2, 0]), batch_size=2))

    assert_like_torch(recipe)


# ------------------------------------------------------------------------------------------------ collation

BATCHES: dict[str, list[Any]] = {
    "tensors": [torch.arange(3), torch.arange(3, 6)],
    "scalar-tensors": [torch.tensor(1.5), torch.tensor(2.5)],
    "ints": [0, 1, 2],
    "floats": [0.5, 1.0],
    "bools": [True, False],
    "int-then-float": [1, 2.5],
    "float-then-int": [1.5, 2],
    "strings": ["a", "bc"],
    "bytes": [b"a", b"b"],
    "tuples": [(0, 1.5, "x"), (2, 3.5, "y")],
    "lists": [[0, 1], [2, 3]],
    "dicts": [{"A": 0, "B": torch.ones(2)}, {"A": 100, "B": torch.zeros(2)}],
    "ordered-dicts": [collections.OrderedDict(b=1, a=2), collections.OrderedDict(b=3, a=4)],
    "namedtuples": [Point(0, torch.ones(1)), Point(1, torch.zeros(1))],
    "numpy-arrays": [np.array([0, 1]), np.array([2, 3])],
    "numpy-float32": [np.ones((2, 2), dtype=np.float32), np.zeros((2, 2), dtype=np.float32)],
    "numpy-scalars": [np.float64(0.5), np.float64(1.5)],
    "numpy-int-scalars": [np.int32(1), np.int32(2)],
    "numpy-bools": [np.bool_(True), np.bool_(False)],
    "numpy-0d": [np.array(1.5), np.array(2.5)],
    "nested": [{"x": [(1, "a")], "y": Point(np.array([1.0]), 2)}, {"x": [(2, "b")], "y": Point(np.array([3.0]), 4)}],
    "ranges": [range(2), range(2, 4)],
    # errors
    "unequal": [[1, 2], [3]],
    "unsupported": [object(), object()],
    "none": [None, None],
    "numpy-strings": [np.array(["a"]), np.array(["b"])],
    "numpy-objects": [np.array([object()]), np.array([object()])],
    "mismatched-shapes": [torch.zeros(2), torch.zeros(3)],
    "sets": [{1}, {2}],
}


@pytest.mark.parametrize("name", list(BATCHES))
def test_default_collate(name: str) -> None:
    batch = BATCHES[name]
    assert_same(outcome(lambda: iud.default_collate(batch)), outcome(lambda: tud.default_collate(batch)))


@pytest.mark.parametrize("name", list(BATCHES))
def test_default_convert(name: str) -> None:
    for sample in BATCHES[name]:
        ours = outcome(functools.partial(iud.default_convert, sample))
        assert_same(ours, outcome(functools.partial(tud.default_convert, sample)))
    assert_same(iud.default_convert(BATCHES[name]), tud.default_convert(BATCHES[name]))


def test_default_convert_keeps_numpy_strings_and_converts_arrays() -> None:
    for data in [np.array(["a", "b"]), np.str_("a"), np.array([1.5]), (np.int8(3), [np.zeros(2)]), "text", 3]:
        assert_same(iud.default_convert(data), tud.default_convert(data))


def test_collate_of_tensors_shares_nothing_with_the_batch() -> None:
    batch = [torch.zeros(2), torch.ones(2)]
    out = iud.default_collate(batch)
    out += 5
    assert torch.equal(batch[0], torch.zeros(2))


def test_get_worker_info() -> None:
    assert tud.get_worker_info() is None
    assert iud.get_worker_info() is None  # type: ignore[func-returns-value]
