"""SiLU computed as x * exp(x) / (1 + exp(x)): for x above about 89 (float32), inf / inf gives NaN.

Right for moderate inputs; the stability check's large inputs must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "SiLU"
CATCHES = ("stability",)


class SiLU(torch.nn.SiLU):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        e = torch.exp(input)
        return input * e / (1 + e)  # the bug: overflows where sigmoid does not


_ns = torch_like(nn={"SiLU": SiLU})
nn, optim = _ns.nn, _ns.optim
