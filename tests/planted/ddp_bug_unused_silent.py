"""DistributedDataParallel averages whatever gradients arrive and never notices a parameter left without one."""

from __future__ import annotations

from impl.nn.parallel import DistributedDataParallel as _Correct
from tests.planted.ddplike import ddp_like

CATCHES = ("unused_parameters",)


class DistributedDataParallel(_Correct):
    def _check_last_backward(self) -> None:
        self._reduced.clear()


nn = ddp_like(DistributedDataParallel)
