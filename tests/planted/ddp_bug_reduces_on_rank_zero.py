"""DistributedDataParallel all-reduces on rank 0 only: rank 0 waits in a collective that the others never join.

The check must fail when the group's timeout runs out, and the run must end, not hang.
"""

from __future__ import annotations

import torch

from impl.nn.parallel import DistributedDataParallel as _Correct
from tests.planted.ddplike import ddp_like

CATCHES = ("gradient_mean",)


class DistributedDataParallel(_Correct):
    def _average(self, p: torch.Tensor) -> None:
        if self.rank == 0:
            super()._average(p)


nn = ddp_like(DistributedDataParallel)
