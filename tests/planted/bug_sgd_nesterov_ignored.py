"""SGD accepts ``nesterov=True`` and then takes plain momentum steps.

The constructor's checks are torch's, so only the steps show it: the trajectory check must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.sgd_loop import LoopSGD
from tests.planted.torchlike import torch_like

COMPONENT = "SGD"
CATCHES = ("trajectory",)


class SGD(LoopSGD):
    def direction(self, g: torch.Tensor, buf: torch.Tensor, momentum: float, nesterov: bool) -> torch.Tensor:
        return buf  # the bug: no look-ahead


_ns = torch_like(optim={"SGD": SGD})
nn, optim = _ns.nn, _ns.optim
