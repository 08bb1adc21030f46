"""linear always computes in float32, so a float64 input gives a float32 output.

The dtype check (float32 and float64) must catch the dtype; forward catches it on float64 examples.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "linear"
CATCHES = ("dtype", "forward")


def linear(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    return torch.nn.functional.linear(input.float(), weight.float(), None if bias is None else bias.float())


_ns = torch_like(functional={"linear": linear})
nn, optim = _ns.nn, _ns.optim
