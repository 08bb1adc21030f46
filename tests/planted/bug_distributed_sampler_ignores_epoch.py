"""DistributedSampler's ``set_epoch`` does nothing, so every epoch is shuffled alike.

The first epoch is right; from the second on, torch shuffles with ``seed + epoch``. The batches check must catch it.
"""

from __future__ import annotations

import torch
import torch.utils.data

from tests.planted.torchlike import torch_like

COMPONENT = "DistributedSampler"
CATCHES = ("batches",)


class DistributedSampler(torch.utils.data.DistributedSampler):  # type: ignore[type-arg]
    def set_epoch(self, epoch: int) -> None:
        pass  # the bug: the epoch never reaches the shuffle's seed


_ns = torch_like(data={"DistributedSampler": DistributedSampler})
nn, optim, utils = _ns.nn, _ns.optim, _ns.utils
