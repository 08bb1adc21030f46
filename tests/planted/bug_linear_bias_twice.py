"""Linear adds its bias twice: ``y = x W^T + 2b``.

Wrong only when ``bias=True``; forward must catch it (and backward, which compares outputs first).
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Linear"
CATCHES = ("forward", "backward")


class Linear(torch.nn.Linear):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        out = super().forward(input)
        return out if self.bias is None else out + self.bias


_ns = torch_like(nn={"Linear": Linear})
nn, optim = _ns.nn, _ns.optim
