"""AdamW accepts amsgrad=True (and keeps max_exp_avg_sq in its state) but divides by the current second moment.

Right until a gradient is smaller than earlier ones; the trajectory check must catch it with amsgrad=True.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.adamw_loop import LoopAdamW
from tests.planted.torchlike import torch_like

COMPONENT = "AdamW"
CATCHES = ("trajectory",)


class AdamW(LoopAdamW):
    def second_moment(self, state: dict[str, Any], v: torch.Tensor, amsgrad: bool) -> torch.Tensor:
        return v  # the bug: with amsgrad torch divides by the running maximum


_ns = torch_like(optim={"AdamW": AdamW})
nn, optim = _ns.nn, _ns.optim
