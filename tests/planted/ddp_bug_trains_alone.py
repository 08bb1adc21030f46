"""DistributedDataParallel without a process group trains one process alone instead of saying one is needed."""

from __future__ import annotations

from typing import Any

import torch.distributed as dist

from impl.nn.parallel import DistributedDataParallel as _Correct
from tests.planted.ddplike import ddp_like

CATCHES = ("no_process_group",)


class DistributedDataParallel(_Correct):
    def __init__(self, module: Any, *args: Any, **kwargs: Any) -> None:
        if dist.is_initialized():
            super().__init__(module, *args, **kwargs)
        else:
            super(_Correct, self).__init__()
            self.module = module

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)


nn = ddp_like(DistributedDataParallel)
