"""BatchSampler's ``len()`` counts the last, short batch even with ``drop_last=True``.

Its batches are right; a training loop that sizes its schedule by ``len(loader)`` runs one step too many. The
batches check must catch it.
"""

from __future__ import annotations

import torch
import torch.utils.data

from tests.planted.torchlike import torch_like

COMPONENT = "BatchSampler"
CATCHES = ("batches",)


class BatchSampler(torch.utils.data.BatchSampler):
    def __len__(self) -> int:
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size  # type: ignore[arg-type]  # the bug


_ns = torch_like(data={"BatchSampler": BatchSampler})
nn, optim, utils = _ns.nn, _ns.optim, _ns.utils
