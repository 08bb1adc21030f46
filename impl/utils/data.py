"""Datasets, samplers, collation and a ``DataLoader``: the single-process part of ``torch.utils.data``.

Each piece behaves as torch 2.13's does: the same arguments and defaults, the same errors (type and message), the
same batches, and the same random draws in the same order, so that with equal seeds impl's loader and torch's yield
equal batches and leave their generators in equal states, epoch after epoch. Loading runs in the main process only
(``num_workers=0``); datapipes are not supported. It builds on tensors (``torch.randperm``, ``torch.randint``,
``torch.multinomial``, ``torch.stack``, ``torch.Generator``) and the standard library.
"""

from __future__ import annotations

import bisect
import copy
import functools
import itertools
import math
import multiprocessing
import multiprocessing.context
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, MutableSequence, Sequence, Sized
from typing import Any, Generic, TypeVar, cast

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


def _len(obj: object) -> int:
    """``len(obj)`` for an object that is only known to be sized at run time (a dataset, a sampler)."""
    return len(cast(Sized, obj))


def _is_iterable_dataset(dataset: object) -> bool:
    """Whether ``dataset`` is an iterable-style dataset: impl's :class:`IterableDataset`, or torch's.

    torch's class is recognised by name, so that a torch dataset can stand in for an impl one without this module
    importing ``torch.utils.data``.
    """
    if isinstance(dataset, IterableDataset):
        return True
    return any(
        klass.__module__ == "torch.utils.data.dataset" and klass.__qualname__ == "IterableDataset"
        for klass in type(dataset).__mro__
    )


# ----------------------------------------------------------------------------------------------------- datasets


class Dataset(Generic[_T_co]):
    r"""An abstract map-style dataset: a map from keys (usually the integers ``0 .. len - 1``) to samples.

    Subclasses overwrite :meth:`__getitem__`, and usually :meth:`__len__`, which the default samplers of
    :class:`DataLoader` need. They may also define ``__getitems__(indices)``, returning the list of samples of a
    batch of indices at once, which :class:`DataLoader` then uses instead of one :meth:`__getitem__` per index.
    ``a + b`` concatenates two datasets into a :class:`ConcatDataset`.

    Example::

        >>> class Squares(Dataset[int]):
        ...     def __getitem__(self, index):
        ...         return index * index
        ...     def __len__(self):
        ...         return 4
        >>> ds = Squares() + Squares()
        >>> len(ds), ds[5]
        (8, 1)
    """

    def __getitem__(self, index: Any) -> _T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    # No default `__getitems__`: DataLoader takes any `__getitems__` it finds as a batched fetch.
    # No default `__len__` either: `list(dataset)` and friends fall back to iteration when there is none, which a
    # `__len__` raising NotImplementedError would break (torch's NOTE [ Lack of Default `__len__` ... ]).

    def __add__(self, other: Dataset[_T_co]) -> ConcatDataset[_T_co]:  # type: ignore[misc]
        return ConcatDataset([self, other])


class IterableDataset(Dataset[_T_co], Iterable[_T_co]):
    r"""An abstract iterable-style dataset: a stream of samples, for data that cannot be indexed.

    Subclasses overwrite :meth:`__iter__`. A :class:`DataLoader` over one iterates it once per epoch, in the main
    process; it takes no ``shuffle``, ``sampler`` or ``batch_sampler``. ``a + b`` chains two iterable datasets into
    a :class:`ChainDataset`.

    Example::

        >>> class Count(IterableDataset[int]):
        ...     def __init__(self, start, end):
        ...         self.start, self.end = start, end
        ...     def __iter__(self):
        ...         return iter(range(self.start, self.end))
        >>> list(DataLoader(Count(3, 7), batch_size=3))
        [tensor([3, 4, 5]), tensor([6])]
        >>> list(Count(0, 2) + Count(5, 6))
        [0, 1, 5]
    """

    def __add__(self, other: Dataset[_T_co]) -> ChainDataset:  # type: ignore[override, misc]
        return ChainDataset([self, other])


class TensorDataset(Dataset[tuple[Tensor, ...]]):
    r"""A dataset of tensors indexed together along their first dimension: sample ``i`` is ``(t[i] for t in tensors)``.

    Args:
        *tensors (Tensor): tensors with the same size of the first dimension.

    Raises:
        AssertionError: ``"Size mismatch between tensors"`` when the first dimensions differ.

    Example::

        >>> ds = TensorDataset(torch.arange(3), torch.tensor([10.0, 20.0, 30.0]))
        >>> len(ds), ds[1]
        (3, (tensor(1), tensor(20.)))
    """

    tensors: tuple[Tensor, ...]

    def __init__(self, *tensors: Tensor) -> None:
        if any(tensors[0].size(0) != tensor.size(0) for tensor in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(tensor[index] for tensor in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class StackDataset(Dataset[Any]):
    r"""Datasets of equal length stacked side by side: sample ``i`` is a tuple (or a dict) of their samples ``i``.

    Args:
        *args (Dataset): datasets whose samples are returned as a tuple.
        **kwargs (Dataset): datasets whose samples are returned as a dict, under their keyword.

    Raises:
        ValueError: when both ``args`` and ``kwargs`` are given, when neither is, or when the lengths differ.

    Example::

        >>> ds = StackDataset(image=[0.5, 0.25], label=[1, 0])
        >>> ds[1]
        {'image': 0.25, 'label': 0}
    """

    datasets: tuple[Any, ...] | dict[str, Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args:
            if kwargs:
                raise ValueError(
                    "Supported either ``tuple``- (via ``args``) or"
                    "``dict``- (via ``kwargs``) like input/output, but both types are given."
                )
            self._length = _len(args[0])
            if any(self._length != _len(dataset) for dataset in args):
                raise ValueError("Size mismatch between datasets")
            self.datasets = args
        elif kwargs:
            values = list(kwargs.values())
            self._length = _len(values[0])
            if any(self._length != _len(dataset) for dataset in values):
                raise ValueError("Size mismatch between datasets")
            self.datasets = kwargs
        else:
            raise ValueError("At least one dataset should be passed")

    def __getitem__(self, index: Any) -> Any:
        if isinstance(self.datasets, dict):
            return {k: dataset[index] for k, dataset in self.datasets.items()}
        return tuple(dataset[index] for dataset in self.datasets)

    def __getitems__(self, indices: list[Any]) -> list[Any]:
        # a part that fetches batches itself is asked for the whole batch at once
        def column(dataset: Any) -> list[Any]:
            if callable(getattr(dataset, "__getitems__", None)):
                items = dataset.__getitems__(indices)
                if len(items) != len(indices):
                    raise ValueError(
                        f"Nested dataset's output size mismatch. Expected {len(indices)}, got {len(items)}"
                    )
                return list(items)
            return [dataset[idx] for idx in indices]

        if isinstance(self.datasets, dict):
            dict_batch: list[dict[str, Any]] = [{} for _ in indices]
            for k, dataset in self.datasets.items():
                for data, d_sample in zip(column(dataset), dict_batch, strict=True):
                    d_sample[k] = data
            return dict_batch
        list_batch: list[list[Any]] = [[] for _ in indices]
        for dataset in self.datasets:
            for data, t_sample in zip(column(dataset), list_batch, strict=True):
                t_sample.append(data)
        return [tuple(sample) for sample in list_batch]

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset[_T_co]):
    r"""Map-style datasets concatenated end to end; indices run through them in order, negative ones from the end.

    Args:
        datasets (iterable): the datasets to concatenate; none of them may be an :class:`IterableDataset`.

    Raises:
        AssertionError: when ``datasets`` is empty or holds an :class:`IterableDataset`.

    Example::

        >>> ds = ConcatDataset([[0, 1, 2], [10, 11]])
        >>> len(ds), ds.cumulative_sizes, ds[3], ds[-1]
        (5, [3, 5], 10, 11)
    """

    datasets: list[Dataset[_T_co]]
    cumulative_sizes: list[int]

    @staticmethod
    def cumsum(sequence: Iterable[Any]) -> list[int]:
        """The running totals of the lengths of ``sequence``'s items."""
        return list(itertools.accumulate(_len(e) for e in sequence))

    def __init__(self, datasets: Iterable[Dataset[Any]]) -> None:
        super().__init__()
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if _is_iterable_dataset(d):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> _T_co:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return self.datasets[dataset_idx][sample_idx]

    @property
    def cummulative_sizes(self) -> list[int]:
        """Deprecated spelling of :attr:`cumulative_sizes`."""
        warnings.warn("`cummulative_sizes` attribute is renamed to `cumulative_sizes`", FutureWarning, stacklevel=2)
        return self.cumulative_sizes


class ChainDataset(IterableDataset[Any]):
    r"""Iterable datasets chained one after another, lazily.

    Args:
        datasets (iterable of IterableDataset): the datasets to chain.

    Raises:
        AssertionError: on iteration or ``len``, for a member that is not an :class:`IterableDataset`.

    Example::

        >>> class Stream(IterableDataset[int]):
        ...     def __init__(self, items):
        ...         self.items = items
        ...     def __iter__(self):
        ...         return iter(self.items)
        >>> list(ChainDataset([Stream([1, 2]), Stream([3])]))
        [1, 2, 3]
    """

    def __init__(self, datasets: Iterable[Dataset[Any]]) -> None:
        super().__init__()
        self.datasets = datasets

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            if not _is_iterable_dataset(d):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from cast(Iterable[Any], d)

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not _is_iterable_dataset(d):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += _len(d)
        return total


class Subset(Dataset[_T_co]):
    r"""The samples of ``dataset`` at ``indices``, in that order.

    A subclass that overrides ``__getitem__`` must override ``__getitems__`` too (which :class:`DataLoader`
    prefers), or it raises NotImplementedError when built.

    Args:
        dataset (Dataset): the whole dataset.
        indices (sequence): the indices in ``dataset`` of the subset's samples.

    Example::

        >>> sub = Subset([10, 11, 12, 13], [3, 0])
        >>> len(sub), sub[0], sub.__getitems__([1, 0])
        (2, 13, [10, 13])
    """

    dataset: Dataset[_T_co]
    indices: Sequence[int]

    def __init__(self, dataset: Dataset[_T_co], indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices
        # DataLoader fetches through __getitems__, which would silently bypass an overridden __getitem__
        if type(self).__getitem__ is not Subset.__getitem__ and type(self).__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{type(self).__name__} overrides __getitem__ but not __getitems__. "
                "When subclassing Subset and overriding __getitem__, you must also override "
                "__getitems__ to ensure DataLoader works correctly with your custom logic. "
                "A simple implementation:\n\n"
                "def __getitems__(self, indices):\n"
                "    return [self.__getitem__(idx) for idx in indices]"
            )

    def __getitem__(self, idx: Any) -> _T_co:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list[_T_co]:
        if callable(getattr(self.dataset, "__getitems__", None)):
            getitems = cast(Callable[[list[int]], list[_T_co]], self.dataset.__getitems__)  # type: ignore[attr-defined]
            return getitems([self.indices[idx] for idx in indices])
        return [self.dataset[self.indices[idx]] for idx in indices]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset: Dataset[_T],
    lengths: Sequence[int | float],
    generator: torch.Generator | None = torch.default_generator,
) -> list[Subset[_T]]:
    r"""Randomly split a dataset into non-overlapping :class:`Subset` s of the given lengths.

    ``lengths`` are either integers summing to ``len(dataset)``, or fractions summing to 1: each split then gets
    ``floor(frac * len(dataset))`` samples, and the remainder is handed out one by one to the splits in turn from
    the first (with a warning for each split left empty). The split draws one ``torch.randperm(len(dataset))``.

    Args:
        dataset (Dataset): the dataset to split.
        lengths (sequence): lengths or fractions of the splits.
        generator (Generator): the generator of the permutation. Default: torch's default generator.

    Raises:
        ValueError: when a fraction is outside ``[0, 1]``, or when the lengths do not sum to ``len(dataset)``.

    Example::

        >>> parts = random_split(range(10), [0.5, 0.3, 0.2], generator=torch.Generator().manual_seed(0))
        >>> [len(p) for p in parts]
        [5, 3, 2]
        >>> sorted(i for p in parts for i in p)
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    """
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        subset_lengths: list[int] = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            subset_lengths.append(math.floor(_len(dataset) * frac))
        remainder = _len(dataset) - sum(subset_lengths)
        for i in range(remainder):
            subset_lengths[i % len(subset_lengths)] += 1
        lengths = subset_lengths
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(
                    f"Length of split at index {i} is 0. This might result in an empty dataset.", stacklevel=2
                )

    if sum(lengths) != _len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")

    int_lengths = cast(Sequence[int], lengths)
    indices = torch.randperm(sum(int_lengths), generator=generator).tolist()
    return [
        Subset(dataset, indices[offset - length : offset])
        for offset, length in zip(itertools.accumulate(int_lengths), int_lengths, strict=True)
    ]


# ----------------------------------------------------------------------------------------------------- samplers


class Sampler(Generic[_T_co]):
    r"""The base of all samplers: an iterable of dataset indices, or of lists of them (batches).

    Subclasses provide :meth:`__iter__`, and may provide ``__len__`` (which ``len(DataLoader)`` needs).

    Example::

        >>> class Backwards(Sampler[int]):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter(range(self.n - 1, -1, -1))
        ...     def __len__(self):
        ...         return self.n
        >>> list(DataLoader(torch.arange(10, 14), sampler=Backwards(4), batch_size=2))
        [tensor([13, 12]), tensor([11, 10])]
    """

    def __iter__(self) -> Iterator[_T_co]:
        raise NotImplementedError

    # No default `__len__`: see the note in Dataset.


class SequentialSampler(Sampler[int]):
    r"""The indices ``0 .. len(data_source) - 1`` in order.

    Args:
        data_source (Sized): the dataset to sample from.

    Example::

        >>> list(SequentialSampler(["a", "b", "c"]))
        [0, 1, 2]
    """

    data_source: Sized

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    r"""Random indices: a shuffle of the dataset (without replacement), or independent draws (with replacement).

    Without replacement, each full pass over the dataset is one ``torch.randperm``, and the last, partial pass is
    the start of one more. With replacement, draws come from ``torch.randint`` in chunks of 32, then the remainder.
    Without a ``generator``, each iteration seeds a fresh one from a draw of torch's default generator.

    Args:
        data_source (Sized): the dataset to sample from.
        replacement (bool): draw with replacement. Default: ``False``.
        num_samples (int, optional): how many indices to draw. Default: ``len(data_source)``.
        generator (Generator, optional): the generator of the draws.

    Raises:
        TypeError: when ``replacement`` is not a bool.
        ValueError: when ``num_samples`` (or the dataset's length, by default) is not a positive integer.

    Example::

        >>> sampler = RandomSampler(range(5), generator=torch.Generator().manual_seed(0))
        >>> sorted(sampler)
        [0, 1, 2, 3, 4]
        >>> len(RandomSampler(range(5), replacement=True, num_samples=40))
        40
    """

    data_source: Sized
    replacement: bool

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        """How many indices an iteration yields: ``num_samples``, else the dataset's current length."""
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        if self.generator is None:
            seed = int(torch.empty((), dtype=torch.int64).random_().item())
            generator = torch.Generator()
            generator.manual_seed(seed)
        else:
            generator = self.generator

        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from torch.randint(high=n, size=(32,), dtype=torch.int64, generator=generator).tolist()
            yield from torch.randint(
                high=n, size=(self.num_samples % 32,), dtype=torch.int64, generator=generator
            ).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from torch.randperm(n, generator=generator).tolist()
            yield from torch.randperm(n, generator=generator).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    r"""The given indices in a random order (one ``torch.randperm`` per iteration).

    Args:
        indices (sequence): the indices to shuffle.
        generator (Generator, optional): the generator of the permutation. Default: torch's default generator.

    Example::

        >>> sorted(SubsetRandomSampler([7, 3, 9], generator=torch.Generator().manual_seed(0)))
        [3, 7, 9]
    """

    indices: Sequence[int]

    def __init__(self, indices: Sequence[int], generator: torch.Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in torch.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    r"""Indices ``0 .. len(weights) - 1`` drawn with the given (unnormalised) weights, by ``torch.multinomial``.

    Args:
        weights (sequence): a weight for each index; they need not sum to one.
        num_samples (int): how many indices to draw.
        replacement (bool): draw with replacement; without it an index is drawn at most once. Default: ``True``.
        generator (Generator, optional): the generator of the draws.

    Raises:
        ValueError: when ``num_samples`` is not a positive integer, ``replacement`` not a bool, or ``weights`` not 1-D.

    Example::

        >>> sampler = WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 6, generator=torch.Generator().manual_seed(0))
        >>> len(list(sampler)), set(sampler) <= {1, 3}
        (6, True)
        >>> sorted(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 2, replacement=False))
        [1, 3]
    """

    weights: Tensor
    num_samples: int
    replacement: bool

    def __init__(
        self,
        weights: Sequence[float] | Tensor,
        num_samples: int,
        replacement: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights_tensor = torch.as_tensor(weights, dtype=torch.double)
        if len(weights_tensor.shape) != 1:
            raise ValueError(
                f"weights should be a 1d sequence but given weights have shape {tuple(weights_tensor.shape)}"
            )
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rand_tensor = torch.multinomial(self.weights, self.num_samples, self.replacement, generator=self.generator)
        yield from iter(rand_tensor.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    r"""Groups the indices of another sampler into lists of ``batch_size``.

    Args:
        sampler (Sampler or Iterable): the sampler of the indices; any iterable.
        batch_size (int): the size of a batch.
        drop_last (bool): drop the last batch if it is short.

    Raises:
        ValueError: when ``batch_size`` is not a positive integer or ``drop_last`` not a bool.

    Example::

        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
        >>> list(BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=True))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    """

    def __init__(self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool) -> None:
        # no isinstance check of `sampler`: an object with only `__getitem__` is iterable too
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        sampler_iter = iter(self.sampler)
        if self.drop_last:
            # zip over batch_size references to one iterator stops at the first short batch
            for batch in zip(*[sampler_iter] * self.batch_size, strict=False):
                yield [*batch]
        else:
            batch_ = [*itertools.islice(sampler_iter, self.batch_size)]
            while batch_:
                yield batch_
                batch_ = [*itertools.islice(sampler_iter, self.batch_size)]

    def __len__(self) -> int:
        if self.drop_last:
            return _len(self.sampler) // self.batch_size
        return (_len(self.sampler) + self.batch_size - 1) // self.batch_size


class DistributedSampler(Sampler[int]):
    r"""The share of one rank out of ``num_replicas`` of a (possibly shuffled) dataset's indices.

    The indices (a ``torch.randperm`` from a generator seeded with ``seed + epoch`` when ``shuffle``, else in order)
    are padded by repeating them from the start until they divide evenly among the replicas, or with ``drop_last``
    cut to the largest length that does; rank ``r`` takes every ``num_replicas``-th from ``r`` on. Call
    :meth:`set_epoch` before each epoch to reshuffle. ``num_replicas`` and ``rank`` default to the world size and
    rank of the initialised default process group of ``torch.distributed``.

    Args:
        dataset: the dataset to sample from.
        num_replicas (int, optional): the number of processes taking part.
        rank (int, optional): this process's rank, in ``[0, num_replicas - 1]``.
        shuffle (bool): shuffle the indices. Default: ``True``.
        seed (int): the seed of the shuffle, the same on every rank. Default: ``0``.
        drop_last (bool): drop the tail instead of padding. Default: ``False``.

    Raises:
        RuntimeError: when ``num_replicas`` or ``rank`` is left out and ``torch.distributed`` is not available.
        ValueError: when ``rank`` is out of range (or left out with no default process group initialised).

    Example::

        >>> [list(DistributedSampler(range(5), num_replicas=2, rank=r, shuffle=False)) for r in range(2)]
        [[0, 2, 4], [1, 3, 0]]
        >>> [list(DistributedSampler(range(5), 2, r, shuffle=False, drop_last=True)) for r in range(2)]
        [[0, 2], [1, 3]]
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size()
        if rank is None:
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            rank = dist.get_rank()
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        if self.drop_last and _len(self.dataset) % self.num_replicas != 0:
            # the nearest length below that divides evenly, so that every rank gets as many samples
            self.num_samples = math.ceil((_len(self.dataset) - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(_len(self.dataset) / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        if self.shuffle:
            # the same permutation on every rank: seeded from the shared seed and epoch only
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices: list[int] = torch.randperm(_len(self.dataset), generator=g).tolist()
        else:
            indices = list(range(_len(self.dataset)))

        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[: self.total_size]
        if len(indices) != self.total_size:
            raise AssertionError(f"Number of indices ({len(indices)}) does not match total_size ({self.total_size})")

        indices = indices[self.rank : self.total_size : self.num_replicas]
        if len(indices) != self.num_samples:
            raise AssertionError(
                f"Number of subsampled indices ({len(indices)}) does not match num_samples ({self.num_samples})"
            )
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        r"""Set the epoch, which with ``shuffle`` seeds the next iteration's permutation (``seed + epoch``).

        Args:
            epoch (int): the epoch number.
        """
        self.epoch = epoch


class _InfiniteConstantSampler(Sampler[None]):
    """``None`` forever: the sampler of an :class:`IterableDataset`, whose samples need no keys."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


# ---------------------------------------------------------------------------------------------------- collation

_np_str_obj_array_pattern = re.compile(r"[SaUO]")

_default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)

_CollateFnMap = dict[type | tuple[type, ...], Callable[..., Any]]


def _map_sequence(data: Sequence[Any], fn: Callable[[Any], Any]) -> Any:
    """``fn`` over a sequence's items, in a sequence of the same type where that type allows it, else a list."""
    try:
        if isinstance(data, MutableSequence):
            clone = copy.copy(data)  # a copy keeps whatever else the sequence type carries
            for i, item in enumerate(data):
                clone[i] = fn(item)
            return clone
        return type(data)([fn(item) for item in data])  # type: ignore[call-arg]
    except TypeError:
        # e.g. `range`, which cannot be built from a list
        return [fn(item) for item in data]


def default_convert(data: Any) -> Any:
    r"""Convert each NumPy array or scalar in ``data`` to a tensor, recursing into mappings and sequences.

    The conversion of unbatched samples (``DataLoader(batch_size=None)``): a tensor is returned as it is, a NumPy
    array (except one of strings or objects) or scalar becomes ``torch.as_tensor`` of it, a mapping, namedtuple or
    sequence is rebuilt with its items converted (a plain tuple becomes a list), and anything else (numbers,
    strings) is returned unchanged.

    Args:
        data: a single sample.

    Example::

        >>> import numpy as np
        >>> default_convert({"x": np.array([0, 1]), "y": (1, "a")})
        {'x': tensor([0, 1]), 'y': [1, 'a']}
    """
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if elem_type.__module__ == "numpy" and elem_type.__name__ not in ("str_", "string_"):
        # arrays of strings and objects have no tensor counterpart
        if elem_type.__name__ == "ndarray" and _np_str_obj_array_pattern.search(data.dtype.str) is not None:
            return data
        return torch.as_tensor(data)
    if isinstance(data, Mapping):
        try:
            if isinstance(data, MutableMapping):
                # a copy keeps whatever else the mapping type carries
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return elem_type({key: default_convert(data[key]) for key in data})
        except TypeError:
            # the mapping type supports neither copy/update nor construction from a dict
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # torch's backwards compatibility: a list
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _map_sequence(data, default_convert)
    return data


def _collate(batch: Sequence[Any], *, collate_fn_map: _CollateFnMap | None = None) -> Any:
    """torch's ``collate``: the collate function of ``collate_fn_map`` for the type of ``batch[0]``, or a recursion
    into mappings, namedtuples and sequences."""
    elem = batch[0]
    elem_type = type(elem)

    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)

    if isinstance(elem, Mapping):
        try:
            if isinstance(elem, MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: _collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
                return clone
            return elem_type({key: _collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
        except TypeError:
            return {key: _collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(_collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch, strict=False)))
    if isinstance(elem, Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch, strict=False))  # read twice below when the clone fails
        if isinstance(elem, tuple):
            return [_collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]
        try:
            if isinstance(elem, MutableSequence):
                seq_clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    seq_clone[i] = _collate(samples, collate_fn_map=collate_fn_map)
                return seq_clone
            return elem_type([_collate(samples, collate_fn_map=collate_fn_map) for samples in transposed])
        except TypeError:
            return [_collate(samples, collate_fn_map=collate_fn_map) for samples in transposed]

    raise TypeError(_default_collate_err_msg_format.format(elem_type))


def _collate_tensor_fn(batch: Sequence[Tensor], *, collate_fn_map: _CollateFnMap | None = None) -> Tensor:
    elem = batch[0]
    if elem.is_nested:
        raise RuntimeError(
            "Batches of nested tensors are not currently supported by the default collate_fn; "
            "please provide a custom collate_fn to handle them appropriately."
        )
    if elem.layout in {torch.sparse_coo, torch.sparse_csr, torch.sparse_bsr, torch.sparse_csc, torch.sparse_bsc}:
        raise RuntimeError(
            "Batches of sparse tensors are not currently supported by the default collate_fn; "
            "please provide a custom collate_fn to handle them appropriately."
        )
    return torch.stack(list(batch), 0)


def _collate_numpy_array_fn(batch: Sequence[Any], *, collate_fn_map: _CollateFnMap | None = None) -> Any:
    elem = batch[0]
    if _np_str_obj_array_pattern.search(elem.dtype.str) is not None:
        raise TypeError(_default_collate_err_msg_format.format(elem.dtype))
    return _collate([torch.as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _collate_numpy_scalar_fn(batch: Sequence[Any], *, collate_fn_map: _CollateFnMap | None = None) -> Tensor:
    return torch.as_tensor(batch)


def _collate_float_fn(batch: Sequence[float], *, collate_fn_map: _CollateFnMap | None = None) -> Tensor:
    return torch.tensor(batch, dtype=torch.float64)


def _collate_int_fn(batch: Sequence[int], *, collate_fn_map: _CollateFnMap | None = None) -> Tensor:
    # no dtype: bools give a bool tensor, and a float later in the batch a float32 one, as in torch
    return torch.tensor(batch)


def _collate_str_fn(batch: Sequence[Any], *, collate_fn_map: _CollateFnMap | None = None) -> Sequence[Any]:
    return batch


@functools.cache
def _default_collate_fn_map() -> _CollateFnMap:
    """torch's ``default_collate_fn_map``, in its order (which decides between a type's bases); built on first use,
    so that numpy is imported only when a batch is collated, and only if it is installed."""
    fn_map: _CollateFnMap = {Tensor: _collate_tensor_fn}
    try:
        import numpy as np
    except ImportError:
        pass
    else:
        fn_map[np.ndarray] = _collate_numpy_array_fn  # and np.memmap, a subclass
        fn_map[(np.bool_, np.number, np.object_)] = _collate_numpy_scalar_fn  # string scalars are left out
    fn_map[float] = _collate_float_fn
    fn_map[int] = _collate_int_fn
    fn_map[str] = _collate_str_fn
    fn_map[bytes] = _collate_str_fn
    return fn_map


def default_collate(batch: Sequence[Any]) -> Any:
    r"""Merge a list of samples into a batch, with a new outer dimension of the batch size.

    The type of the first sample decides: tensors are stacked (``torch.stack``); NumPy arrays are converted and
    stacked, NumPy scalars converted (``torch.as_tensor``); Python floats become a ``float64`` tensor and ints (and
    bools) ``torch.tensor`` of the batch (``int64``, or ``bool``); strings and bytes are kept as the list; a mapping
    is collated key by key, a namedtuple field by field, and any other sequence position by position, as a list for
    a tuple (torch's backwards compatibility). Sequences must be of equal length (RuntimeError); any other type
    raises TypeError.

    Args:
        batch: the list of samples.

    Example::

        >>> default_collate([0, 1, 2, 3])
        tensor([0, 1, 2, 3])
        >>> default_collate(["a", "b", "c"])
        ['a', 'b', 'c']
        >>> default_collate([{"A": 0, "B": 1}, {"A": 100, "B": 100}])
        {'A': tensor([  0, 100]), 'B': tensor([  1, 100])}
        >>> default_collate([(0, 1.5), (2, 3.5)])
        [tensor([0, 2]), tensor([1.5000, 3.5000], dtype=torch.float64)]
    """
    return _collate(batch, collate_fn_map=_default_collate_fn_map())


def _pin_memory(data: Any) -> Any:
    """``data`` with its tensors (and objects with a ``pin_memory`` method) copied into pinned memory."""
    if isinstance(data, Tensor) or hasattr(data, "pin_memory"):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, Mapping):
        try:
            if isinstance(data, MutableMapping):
                clone = copy.copy(data)
                clone.update({k: _pin_memory(sample) for k, sample in data.items()})
                return clone
            return type(data)({k: _pin_memory(sample) for k, sample in data.items()})  # type: ignore[call-arg]
        except TypeError:
            return {k: _pin_memory(sample) for k, sample in data.items()}
    if isinstance(data, tuple):
        if hasattr(data, "_fields"):  # namedtuple
            return type(data)(*(_pin_memory(sample) for sample in data))
        return type(data)(_pin_memory(sample) for sample in data)
    if isinstance(data, Sequence):
        return _map_sequence(data, _pin_memory)
    return data


def get_worker_info() -> None:
    """The information of the current loading worker process: always ``None``, as impl loads in the main process.

    Example::

        >>> get_worker_info() is None
        True
    """
    return None


# --------------------------------------------------------------------------------------------------- DataLoader


class _Fetcher:
    """What both fetchers hold: the dataset, whether indices come in batches, the collate function, drop_last."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable[[Any], Any], drop_last: bool) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last


class _MapDatasetFetcher(_Fetcher):
    """Fetches (and collates) the samples of an index, or of a batch of indices, from a map-style dataset."""

    def fetch(self, possibly_batched_index: Any) -> Any:
        if self.auto_collation:
            if hasattr(self.dataset, "__getitems__") and self.dataset.__getitems__:
                data = self.dataset.__getitems__(possibly_batched_index)
            else:
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher(_Fetcher):
    """Fetches (and collates) the next sample, or the next batch of samples, from an iterable-style dataset."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable[[Any], Any], drop_last: bool) -> None:
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


class _SingleProcessDataLoaderIter:
    """One epoch of a :class:`DataLoader`, loaded in the main process."""

    def __init__(self, loader: DataLoader[Any]) -> None:
        self._dataset = loader.dataset
        self._is_iterable = loader._is_iterable
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers

        if loader.pin_memory and loader.pin_memory_device:
            warnings.warn(
                "pin_memory_device is deprecated, the current accelerator will be used as the device,"
                f"ignore pin_memory_device='{loader.pin_memory_device}'.",
                stacklevel=2,
            )
        if loader.pin_memory and not torch.accelerator.is_available():
            warnings.warn(
                "'pin_memory' argument is set as true but no accelerator is found, "
                "then device pinned memory won't be used.",
                stacklevel=2,
            )
        self._pin_memory = loader.pin_memory and torch.accelerator.is_available()
        accelerator = torch.accelerator.current_accelerator() if self._pin_memory else None
        if accelerator is not None and accelerator.type == "mps":
            # pinning fails on MPS (pytorch#86060)
            self._pin_memory = False
            warnings.warn(
                "'pin_memory' argument is set as true but not supported on MPS now, "
                "device pinned memory won't be used.",
                stacklevel=2,
            )

        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        # The order of these two is torch's, and the random draws depend on it: a sampler whose __iter__ is eager
        # draws before the base seed, a generator-function sampler (RandomSampler) only at the first batch.
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = int(torch.empty((), dtype=torch.int64).random_(generator=loader.generator).item())
        self._num_yielded = 0

        if self._timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._dataset_fetcher: _MapDatasetFetcher | _IterableDatasetFetcher
        if self._is_iterable:
            self._dataset_fetcher = _IterableDatasetFetcher(
                self._dataset, self._auto_collation, self._collate_fn, self._drop_last
            )
        else:
            self._dataset_fetcher = _MapDatasetFetcher(
                self._dataset, self._auto_collation, self._collate_fn, self._drop_last
            )

    def __iter__(self) -> _SingleProcessDataLoaderIter:
        return self

    def __next__(self) -> Any:
        index = next(self._sampler_iter)  # may raise StopIteration
        data = self._dataset_fetcher.fetch(index)  # may raise StopIteration
        if self._pin_memory:
            data = _pin_memory(data)
        self._num_yielded += 1
        if (
            self._is_iterable
            and self._IterableDataset_len_called is not None
            and self._num_yielded > self._IterableDataset_len_called
        ):
            warnings.warn(
                f"Length of IterableDataset {self._dataset} was reported to be {self._IterableDataset_len_called}"
                f"(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ",
                stacklevel=2,
            )
        return data

    def __len__(self) -> int:
        return _len(self._index_sampler)

    def __getstate__(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


class DataLoader(Generic[_T_co]):
    r"""Combines a dataset and a sampler into an iterable of batches, loaded in the main process.

    Each ``iter(loader)`` is one epoch. It first draws a base seed from ``generator`` (torch's default generator
    when ``None``), as torch's loader does for its workers, and then walks the sampler: with ``shuffle=True``, a
    :class:`RandomSampler` with ``generator``, which draws at the first batch. The batches and the random state
    afterwards are therefore those of ``torch.utils.data.DataLoader`` with the same seeds.

    Without ``batch_size`` (``None``), samples are returned one by one through :func:`default_convert`; otherwise a
    :class:`BatchSampler` groups the sampler's indices and :func:`default_collate` merges the samples (fetched with
    the dataset's ``__getitems__`` when it has one). An :class:`IterableDataset` is iterated, and its samples
    batched, in order.

    Args:
        dataset (Dataset): the dataset to load from.
        batch_size (int, optional): the samples per batch; ``None`` disables batching. Default: ``1``.
        shuffle (bool, optional): reshuffle the data at every epoch. Default: ``False``.
        sampler (Sampler or Iterable, optional): the order of the indices; excludes ``shuffle``.
        batch_sampler (Sampler or Iterable, optional): yields batches of indices; excludes ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers (int): the number of loading processes; impl supports ``0`` only. Default: ``0``.
        collate_fn (Callable, optional): merges a list of samples into a batch. Default: :func:`default_collate`
            (:func:`default_convert` without batching).
        pin_memory (bool): copy the batches' tensors into pinned memory (when an accelerator is present).
            Default: ``False``.
        drop_last (bool): drop the last batch if it is short. Default: ``False``.
        timeout (float): the timeout of workers; must be ``0`` for loading in the main process. Default: ``0``.
        worker_init_fn (Callable, optional): called in each worker; kept for torch's signature.
        multiprocessing_context (str or BaseContext, optional): the start method of workers; needs workers.
        generator (Generator, optional): the generator of the base seed and of the shuffle.
        prefetch_factor (int, optional, keyword-only): batches loaded ahead by each worker; needs workers.
        persistent_workers (bool, keyword-only): keep workers between epochs; needs workers. Default: ``False``.
        pin_memory_device (str, keyword-only): deprecated; the current accelerator is used. Default: ``""``.
        in_order (bool, keyword-only): return batches in order with workers; kept for torch's signature.
            Default: ``True``.

    Raises:
        ValueError: for the argument combinations torch rejects (negative ``num_workers`` or ``timeout``, worker
            options without workers, ``sampler`` with ``shuffle``, ``batch_sampler`` with ``batch_size``,
            ``shuffle``, ``sampler`` or ``drop_last``, ``batch_size=None`` with ``drop_last``, an
            :class:`IterableDataset` with ``shuffle``, ``sampler`` or ``batch_sampler``), with torch's messages.
        NotImplementedError: for ``num_workers > 0``, once the arguments have passed torch's checks.

    Example::

        >>> loader = DataLoader(TensorDataset(torch.arange(6), torch.arange(6) * 10), batch_size=4)
        >>> len(loader)
        2
        >>> for x, y in loader:
        ...     print(x, y)
        tensor([0, 1, 2, 3]) tensor([ 0, 10, 20, 30])
        tensor([4, 5]) tensor([40, 50])
        >>> g = torch.Generator().manual_seed(0)
        >>> sorted(torch.cat(list(DataLoader(range(5), batch_size=2, shuffle=True, generator=g))).tolist())
        [0, 1, 2, 3, 4]
    """

    dataset: Dataset[_T_co]
    batch_size: int | None
    num_workers: int
    pin_memory: bool
    drop_last: bool
    timeout: float
    sampler: Sampler[Any] | Iterable[Any]
    batch_sampler: Sampler[list[Any]] | Iterable[list[Any]] | None
    pin_memory_device: str
    prefetch_factor: int | None
    generator: torch.Generator | None
    collate_fn: Callable[[Any], Any]
    persistent_workers: bool
    _IterableDataset_len_called: int | None
    __initialized = False

    def __init__(
        self,
        dataset: Dataset[_T_co],
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler[Any] | Iterable[Any] | None = None,
        batch_sampler: Sampler[list[Any]] | Iterable[list[Any]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: str | multiprocessing.context.BaseContext | None = None,
        generator: torch.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing."
                "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        elif num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context  # checked by the property's setter
        self.in_order = in_order

        # The dataset is checked before the samplers, so that a user learns first that an iterable-style dataset
        # takes no sampler at all, before fixing the sampler's own errors.
        self._is_iterable = _is_iterable_dataset(dataset)
        if self._is_iterable:
            # `shuffle=False` was once the default, so only a true value is refused
            if shuffle not in {False, None}:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}"
                )
            elif batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified "
                    f"batch_sampler option, but got batch_sampler={batch_sampler}"
                )
        else:
            shuffle = bool(shuffle)

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if self._is_iterable:
                # an iterable dataset needs no keys; an endless sampler leaves the end to the dataset
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(cast(Sized, dataset), generator=generator)
            else:
                sampler = SequentialSampler(cast(Sized, dataset))

        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(cast(Iterable[int], sampler), batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator

        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers

        self.__initialized = True
        self._IterableDataset_len_called = None  # set by __len__ for an iterable dataset, to warn of overruns
        self._iterator = None

        if num_workers > 0:
            raise NotImplementedError("impl's DataLoader runs in the main process only: num_workers must be 0")

    @property
    def multiprocessing_context(self) -> multiprocessing.context.BaseContext | None:
        """The start method of the workers, as a context (``None``: the system's default)."""
        return self.__multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(
        self, multiprocessing_context: str | multiprocessing.context.BaseContext | None
    ) -> None:
        if multiprocessing_context is not None:
            if self.num_workers > 0:
                if isinstance(multiprocessing_context, str):
                    valid_start_methods = multiprocessing.get_all_start_methods()
                    if multiprocessing_context not in valid_start_methods:
                        raise ValueError(
                            "multiprocessing_context option "
                            f"should specify a valid start method in {valid_start_methods!r}, but got "
                            f"multiprocessing_context={multiprocessing_context!r}"
                        )
                    multiprocessing_context = multiprocessing.get_context(multiprocessing_context)
                if not isinstance(multiprocessing_context, multiprocessing.context.BaseContext):
                    raise TypeError(
                        "multiprocessing_context option should be a valid context "
                        "object or a string specifying the start method, but got "
                        f"multiprocessing_context={multiprocessing_context}"
                    )
            else:
                raise ValueError(
                    "multiprocessing_context can only be used with "
                    "multi-process loading (num_workers > 0), but got "
                    f"num_workers={self.num_workers}"
                )
        self.__multiprocessing_context = multiprocessing_context

    def __setattr__(self, attr: str, val: Any) -> None:
        # the samplers were built from these: changing one afterwards would leave them inconsistent
        if self.__initialized and attr in (
            "batch_size",
            "batch_sampler",
            "sampler",
            "drop_last",
            "dataset",
            "persistent_workers",
        ):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    def __iter__(self) -> _SingleProcessDataLoaderIter:
        return _SingleProcessDataLoaderIter(self)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Sampler[Any] | Iterable[Any]:
        # what the fetcher is fed from: batches of indices with auto-collation, else single indices
        if self.batch_sampler is not None:
            return self.batch_sampler
        return self.sampler

    def __len__(self) -> int:
        if self._is_iterable:
            # an estimate from the dataset's own length (which it may not have: TypeError, as in torch)
            length = self._IterableDataset_len_called = _len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return _len(self._index_sampler)
