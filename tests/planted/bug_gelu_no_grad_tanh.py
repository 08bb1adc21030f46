"""gelu takes the tanh approximation when no gradient is wanted: a "fast inference path" that is not the same
function.

Right whenever the input needs a gradient, so forward and backward pass; no_grad must catch the values, which
differ by up to about 5e-4.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "gelu"
CATCHES = ("no_grad",)


def gelu(input: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    if not torch.is_grad_enabled():
        approximate = "tanh"  # the bug: evaluation computes another function
    return torch.nn.functional.gelu(input, approximate=approximate)


_ns = torch_like(functional={"gelu": gelu})
nn, optim = _ns.nn, _ns.optim
