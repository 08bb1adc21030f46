"""DistributedDataParallel's state_dict is the wrapped module's own, without the ``module.`` prefix."""

from __future__ import annotations

from typing import Any

from impl.nn.parallel import DistributedDataParallel as _Correct
from tests.planted.ddplike import ddp_like

CATCHES = ("state_dict",)


class DistributedDataParallel(_Correct):
    def state_dict(self, *args: Any, **kwargs: Any) -> Any:
        return self.module.state_dict(*args, **kwargs)


nn = ddp_like(DistributedDataParallel)
