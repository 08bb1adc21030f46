"""linear's backward averages the bias gradient over the batch instead of summing it.

The forward value is right; only ``grad of bias`` is off by the number of rows, so backward must catch it
(any example with more than one row and a bias).
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "linear"
CATCHES = ("backward",)


class _Linear(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        out = x @ weight.T
        return out if bias is None else out + bias

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        x, weight = ctx.saved_tensors
        g2 = grad.reshape(-1, weight.shape[0])  # (rows, out)
        x2 = x.reshape(-1, weight.shape[1])  # (rows, in)
        grad_bias = g2.mean(0) if ctx.has_bias else None  # the bug: torch sums over rows
        return grad @ weight, g2.T @ x2, grad_bias


def linear(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    return _Linear.apply(input, weight, bias)


_ns = torch_like(functional={"linear": linear})
nn, optim = _ns.nn, _ns.optim
