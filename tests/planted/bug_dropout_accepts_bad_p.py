"""Dropout does not validate p: ``Dropout(p=-0.1)`` and ``Dropout(p=1.1)`` are accepted.

torch raises ValueError; the errors check must catch the silent acceptance.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Dropout"
CATCHES = ("errors",)


class Dropout(torch.nn.Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p, self.inplace = p, inplace  # the bug: no check that 0 <= p <= 1

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p <= 0:
            return input
        keep = (torch.rand_like(input) >= self.p).to(input.dtype)
        return input * keep / max(1 - self.p, 1e-12)


_ns = torch_like(nn={"Dropout": Dropout})
nn, optim = _ns.nn, _ns.optim
