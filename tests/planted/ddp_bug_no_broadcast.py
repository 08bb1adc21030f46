"""DistributedDataParallel does not copy rank 0's parameters at construction: ranks seeded apart stay apart."""

from __future__ import annotations

from typing import Any

import torch.distributed as dist

from impl.nn.parallel import DistributedDataParallel as _Correct
from tests.planted.ddplike import ddp_like

CATCHES = ("broadcast",)


class DistributedDataParallel(_Correct):
    def __init__(self, module: Any, *args: Any, **kwargs: Any) -> None:
        broadcast = dist.broadcast
        dist.broadcast = lambda *a, **k: None  # type: ignore[assignment]
        try:
            super().__init__(module, *args, **kwargs)
        finally:
            dist.broadcast = broadcast


nn = ddp_like(DistributedDataParallel)
