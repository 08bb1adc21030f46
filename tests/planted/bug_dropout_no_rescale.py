"""Dropout zeroes elements with probability p but does not scale the survivors by 1 / (1 - p).

p = 0, p = 1 and eval mode are right; the random_mask check must catch the kept elements' values.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Dropout"
CATCHES = ("random_mask",)


class Dropout(torch.nn.Dropout):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return input
        return input * (torch.rand_like(input) >= self.p)  # the bug: survivors not rescaled


_ns = torch_like(nn={"Dropout": Dropout})
nn, optim = _ns.nn, _ns.optim
