"""DistributedSampler does not pad the indices to a multiple of the number of replicas.

When the dataset does not divide evenly, the first ranks get one index more than the last: the ranks then take
different numbers of steps, and a data-parallel run hangs in its next all-reduce. The batches check must catch it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.utils.data

from tests.planted.torchlike import torch_like

COMPONENT = "DistributedSampler"
CATCHES = ("batches",)


class DistributedSampler(torch.utils.data.DistributedSampler):  # type: ignore[type-arg]
    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)  # type: ignore[arg-type]
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = torch.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : len(indices) : self.num_replicas])  # the bug: not padded to total_size


_ns = torch_like(data={"DistributedSampler": DistributedSampler})
nn, optim, utils = _ns.nn, _ns.optim, _ns.utils
