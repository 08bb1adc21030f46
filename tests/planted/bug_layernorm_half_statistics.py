"""layer_norm computes in the input's dtype: in bfloat16 and float16 the mean and variance are summed and the
output normalised in half precision, where torch accumulates in float32 and rounds once.

Exact enough in float32 and float64, so forward, backward and dtype pass; half must catch the lost accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tests.planted.torchlike import affine, torch_like

COMPONENT = "LayerNorm"
CATCHES = ("half",)


class LayerNorm(torch.nn.LayerNorm):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        dims: Sequence[int] = tuple(range(-len(self.normalized_shape), 0))
        mean = input.mean(dims, keepdim=True)  # the bug: every step below rounds to the input's dtype
        var = (input - mean).pow(2).mean(dims, keepdim=True)
        return affine((input - mean) * torch.rsqrt(var + self.eps), self.weight, self.bias)


_ns = torch_like(nn={"LayerNorm": LayerNorm})
nn, optim = _ns.nn, _ns.optim
