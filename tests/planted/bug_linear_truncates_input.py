"""linear silently drops the input's trailing features when there are more than the weight expects.

Correct inputs give correct results; the errors check must catch that a 5-feature input to a 4-feature weight
does not raise.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "linear"
CATCHES = ("errors",)


def linear(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    return torch.nn.functional.linear(input[..., : weight.shape[-1]], weight, bias)


_ns = torch_like(functional={"linear": linear})
nn, optim = _ns.nn, _ns.optim
