"""dropout's backward passes the upstream gradient through every element, dropped ones included.

The output is right (masked and rescaled), so are p = 0 and p = 1; only the random_mask check, which compares the
input's gradient with the output's mask, can catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "dropout"
CATCHES = ("random_mask",)


class _Dropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, input: torch.Tensor, p: float) -> torch.Tensor:
        ctx.scale = 0.0 if p == 1 else 1 / (1 - p)
        keep = torch.rand_like(input) >= p
        return input * keep * ctx.scale

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return grad * ctx.scale, None  # the bug: the mask is not applied


def dropout(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    return _Dropout.apply(input, p)


_ns = torch_like(functional={"dropout": dropout})
nn, optim = _ns.nn, _ns.optim
