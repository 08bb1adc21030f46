"""SGD dampens the gradient at a parameter's first step too: the buffer starts at (1 - dampening) * g.

That is the textbook recursion from a zero buffer, but torch copies the first gradient undamped. With momentum and
dampening drawn, the trajectory check must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.sgd_loop import LoopSGD
from tests.planted.torchlike import torch_like

COMPONENT = "SGD"
CATCHES = ("trajectory",)


class SGD(LoopSGD):
    def first_buffer(self, g: torch.Tensor, dampening: float) -> torch.Tensor:
        return (1 - dampening) * g  # the bug: torch's first buffer is g itself


_ns = torch_like(optim={"SGD": SGD})
nn, optim = _ns.nn, _ns.optim
