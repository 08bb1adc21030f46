"""L2 regularization coupled into the gradient (Adam + L2) instead of AdamW's decoupled weight decay.

The decay term passes through the moment estimates and is rescaled by the adaptive denominator; with weight_decay >
0 the trajectory check must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.adamw_loop import LoopAdamW
from tests.planted.torchlike import torch_like

COMPONENT = "AdamW"
CATCHES = ("trajectory",)


class AdamW(LoopAdamW):
    def decay(self, x: torch.Tensor, g: torch.Tensor, lr: float, weight_decay: float) -> tuple[torch.Tensor, ...]:
        return x, g + weight_decay * x  # the bug: torch shrinks x by lr * weight_decay instead


_ns = torch_like(optim={"AdamW": AdamW})
nn, optim = _ns.nn, _ns.optim
