"""Dropout reseeds its own generator on every call, so it drops the same elements every time.

Rate, scaling and gradient masking are right for any single call; the random_mask check's test that two calls draw
independent masks must catch it.
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
        if self.p == 1:
            return input * 0
        gen = torch.Generator(device=input.device).manual_seed(1234)  # the bug: the same mask on every call
        keep = torch.rand(input.shape, generator=gen, device=input.device) >= self.p
        return input * keep / (1 - self.p)


_ns = torch_like(nn={"Dropout": Dropout})
nn, optim = _ns.nn, _ns.optim
