"""WeightedRandomSampler always draws with replacement.

With ``replacement=False`` an index must come at most once per epoch (each draw removes it); drawing with
replacement repeats heavy indices and moves the generator differently, and asked for more samples than there are
weights it does not refuse. The batches and errors checks must catch it.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.utils.data

from tests.planted.torchlike import torch_like

COMPONENT = "WeightedRandomSampler"
CATCHES = ("batches", "errors")


class WeightedRandomSampler(torch.utils.data.WeightedRandomSampler):
    def __iter__(self) -> Iterator[int]:
        drawn = torch.multinomial(self.weights, self.num_samples, True, generator=self.generator)  # the bug: True
        yield from drawn.tolist()


_ns = torch_like(data={"WeightedRandomSampler": WeightedRandomSampler})
nn, optim, utils = _ns.nn, _ns.optim, _ns.utils
