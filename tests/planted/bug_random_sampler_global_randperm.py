"""RandomSampler without a generator permutes with the global generator directly.

torch seeds a fresh generator from one int64 of the global one and permutes with that; drawing the permutation
from the global generator gives another order and leaves the global state elsewhere. The batches check must
catch it.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.utils.data

from tests.planted.torchlike import torch_like

COMPONENT = "RandomSampler"
CATCHES = ("batches",)


class RandomSampler(torch.utils.data.RandomSampler):
    def __iter__(self) -> Iterator[int]:
        if self.generator is not None or self.replacement:
            yield from super().__iter__()
            return
        n = len(self.data_source)  # type: ignore[arg-type]
        for _ in range(self.num_samples // n):
            yield from torch.randperm(n).tolist()  # the bug: no generator of its own
        yield from torch.randperm(n).tolist()[: self.num_samples % n]


_ns = torch_like(data={"RandomSampler": RandomSampler})
nn, optim, utils = _ns.nn, _ns.optim, _ns.utils
