"""DistributedDataParallel all-reduces the gradients but never divides by the world size: N times the mean."""

from __future__ import annotations

import torch
import torch.distributed as dist

from impl.nn.parallel import DistributedDataParallel as _Correct
from tests.planted.ddplike import ddp_like

CATCHES = ("gradient_mean", "no_sync", "training")


class DistributedDataParallel(_Correct):
    def _average(self, p: torch.Tensor) -> None:
        if self._sync and p.grad is not None:
            dist.all_reduce(p.grad, group=self.process_group)
            self._reduced.add(id(p))


nn = ddp_like(DistributedDataParallel)
