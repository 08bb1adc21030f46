"""LayerNorm's extra_repr leaves eps out: "LayerNorm((8,), elementwise_affine=True, bias=True)".

The numbers are torch's; only the printed model hides a setting (a wrong eps goes unnoticed in ``print(model)``).
The repr check must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "LayerNorm"
CATCHES = ("repr",)


class LayerNorm(torch.nn.LayerNorm):
    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"


_ns = torch_like(nn={"LayerNorm": LayerNorm})
nn, optim = _ns.nn, _ns.optim
