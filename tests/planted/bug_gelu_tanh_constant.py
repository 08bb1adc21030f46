"""gelu's tanh approximation uses 0.04715 for the cubic coefficient; the formula's constant is 0.044715.

Only ``approximate="tanh"`` is affected; forward must catch it on such an example.
"""

from __future__ import annotations

import math

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "gelu"
CATCHES = ("forward", "backward", "dtype")


def gelu(input: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    if approximate != "tanh":
        return torch.nn.functional.gelu(input, approximate=approximate)
    inner = math.sqrt(2 / math.pi) * (input + 0.04715 * input**3)  # the bug: a digit dropped from 0.044715
    return 0.5 * input * (1 + torch.tanh(inner))


_ns = torch_like(functional={"gelu": gelu})
nn, optim = _ns.nn, _ns.optim
