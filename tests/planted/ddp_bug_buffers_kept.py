"""DistributedDataParallel broadcasts buffers only at construction, not before each training forward."""

from __future__ import annotations

from typing import Any

from impl.nn.parallel import DistributedDataParallel as _Correct
from tests.planted.ddplike import ddp_like

CATCHES = ("buffers",)


class DistributedDataParallel(_Correct):
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        self._check_last_backward()
        return self.module(*args, **kwargs)


nn = ddp_like(DistributedDataParallel)
