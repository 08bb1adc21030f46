"""silu's backward pass drops the product rule's second term: the gradient is g * sigmoid(x).

The forward pass is right; the gradient is off by up to 0.22 near |x| = 1.5. The backward check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "silu"
CATCHES = ("backward",)


class _Silu(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return torch.nn.functional.silu(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad * torch.sigmoid(x)  # the bug: the x * s * (1 - s) term is missing


def silu(input: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    if inplace:
        return torch.nn.functional.silu(input, inplace=True)
    return _Silu.apply(input)


_ns = torch_like(functional={"silu": silu})
nn, optim = _ns.nn, _ns.optim
