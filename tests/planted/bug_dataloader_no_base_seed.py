"""DataLoader's iterator does not draw torch's base seed before the sampler draws.

The batches of a loader without shuffling are right, but every iter() leaves the global random state one draw
behind torch's, which moves the user's later dropout masks; with shuffling and a generator, the order itself
differs. The batches check must catch it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.utils.data

from tests.planted.torchlike import torch_like

COMPONENT = "DataLoader"
CATCHES = ("batches",)


class DataLoader(torch.utils.data.DataLoader):  # type: ignore[type-arg]
    def __iter__(self) -> Iterator[Any]:
        if isinstance(self.dataset, torch.utils.data.IterableDataset):
            yield from super().__iter__()
            return
        # the bug: torch's iterator first draws one int64 from the generator (the global one without)
        if self._auto_collation:
            for indices in self.batch_sampler:
                yield self.collate_fn([self.dataset[i] for i in indices])
        else:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])


_ns = torch_like(data={"DataLoader": DataLoader})
nn, optim, utils = _ns.nn, _ns.optim, _ns.utils
