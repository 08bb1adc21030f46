"""softmax subtracts the row maximum from its input in place when no gradient is wanted, to save a buffer: the
values it returns are right, but the caller's logits are left shifted.

With gradients on, the input is left alone, so forward and backward pass; no_grad must catch the changed input.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "softmax"
CATCHES = ("no_grad",)


def softmax(input: torch.Tensor, dim: int, _stacklevel: int = 3, dtype: Any = None) -> torch.Tensor:
    if torch.is_grad_enabled() or input.numel() == 0:
        return torch.softmax(input, dim, dtype=dtype)
    shifted = input.sub_(input.amax(dim, keepdim=True))  # the bug: the caller's tensor is overwritten
    return torch.softmax(shifted, dim, dtype=dtype)


_ns = torch_like(functional={"softmax": softmax})
nn, optim = _ns.nn, _ns.optim
