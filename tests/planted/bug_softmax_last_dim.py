"""Softmax always normalizes over the last dimension, whatever ``dim`` it was given.

Right for dim=-1 (the GPT's case); forward must catch any other dim on an input of two or more dimensions.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Softmax"
CATCHES = ("forward", "backward", "dtype")


class Softmax(torch.nn.Softmax):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        rank = max(input.dim(), 1)
        if self.dim is not None and not -rank <= self.dim < rank:
            raise IndexError(f"Dimension out of range (got {self.dim})")
        return torch.softmax(input, -1)


_ns = torch_like(nn={"Softmax": Softmax})
nn, optim = _ns.nn, _ns.optim
