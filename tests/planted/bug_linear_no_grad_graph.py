"""linear turns gradients back on inside: under ``torch.no_grad()`` its output still carries a graph (memory held
for a backward pass that evaluation never runs).

Values are right everywhere; no_grad must catch the output that requires grad.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "linear"
CATCHES = ("no_grad",)


def linear(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    with torch.enable_grad():  # the bug: ignores the caller's torch.no_grad()
        return torch.nn.functional.linear(input, weight, bias)


_ns = torch_like(functional={"linear": linear})
nn, optim = _ns.nn, _ns.optim
