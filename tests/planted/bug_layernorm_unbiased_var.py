"""LayerNorm normalizes by the unbiased variance (divides by n - 1); torch uses the biased one (divides by n).

Every output is off by a factor sqrt((n - 1) / n) before the affine part; forward must catch it.
"""

from __future__ import annotations

import math

import torch

from tests.planted.torchlike import affine, torch_like

COMPONENT = "LayerNorm"
CATCHES = ("forward", "backward", "dtype")


class LayerNorm(torch.nn.LayerNorm):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(-len(self.normalized_shape), 0))
        mean = input.mean(dims, keepdim=True)
        n = math.prod(self.normalized_shape)
        var = ((input - mean) ** 2).sum(dims, keepdim=True) / (n - 1)  # the bug: torch divides by n
        return affine((input - mean) / torch.sqrt(var + self.eps), self.weight, self.bias)


_ns = torch_like(nn={"LayerNorm": LayerNorm})
nn, optim = _ns.nn, _ns.optim
