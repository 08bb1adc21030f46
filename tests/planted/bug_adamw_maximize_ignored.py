"""AdamW ignores maximize=True: it descends where it should ascend.

The trajectory check must catch the first step with maximize=True.
"""

from __future__ import annotations

import torch

from tests.planted.adamw_loop import LoopAdamW
from tests.planted.torchlike import torch_like

COMPONENT = "AdamW"
CATCHES = ("trajectory",)


class AdamW(LoopAdamW):
    def direction(self, grad: torch.Tensor, maximize: bool) -> torch.Tensor:
        return grad  # the bug: torch negates the gradient when maximizing


_ns = torch_like(optim={"AdamW": AdamW})
nn, optim = _ns.nn, _ns.optim
