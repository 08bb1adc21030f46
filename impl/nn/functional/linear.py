"""``linear``: an affine map of the last dimension, with a hand-derived backward pass."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from impl.nn.functional._autograd import apply, broadcasts_to

__all__ = ["linear"]


def _sum_to_shape(grad: Tensor, shape: torch.Size) -> Tensor:
    """Sum ``grad`` over the dimensions that broadcasting expanded from ``shape``."""
    if grad.shape == shape:
        return grad
    lead = grad.dim() - len(shape)
    dims = list(range(lead)) + [lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1]
    return grad.sum(dims, keepdim=True).reshape(shape) if dims else grad.reshape(shape)


class _Linear(torch.autograd.Function):
    r""":math:`y = x W^T + b` over the last dimension of ``x``.

    Derivation. Flatten the leading dimensions so that ``x`` is :math:`(M, K)`, ``W`` is :math:`(N, K)` and
    :math:`y_{mn} = \sum_k x_{mk} W_{nk} + b_n`. With upstream gradient :math:`G = \partial L / \partial y`
    (:math:`(M, N)`):

    .. math::
        \frac{\partial L}{\partial x_{mk}} = \sum_n G_{mn} W_{nk} \Rightarrow \nabla_x = G W, \qquad
        \frac{\partial L}{\partial W_{nk}} = \sum_m G_{mn} x_{mk} \Rightarrow \nabla_W = G^T x, \qquad
        \nabla_b = \sum_m G_{m,:}

    A bias of another broadcastable shape gets ``G`` summed over the dimensions it was broadcast along.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        ctx.bias_shape = None if bias is None else bias.shape
        ctx.save_for_backward(input, weight)
        if bias is None:
            # matmul folds the leading dimensions into one GEMM as below, with no Python reshape and view around it
            # (several microseconds, as much as a decoding step's GEMM)
            return torch.matmul(input, weight.t())
        x2d = input.reshape(math.prod(input.shape[:-1]), weight.shape[1])  # (M, K); a view when input is contiguous
        out_shape = (*input.shape[:-1], weight.shape[0])
        if bias.dim() != 1 or bias.shape[0] != weight.shape[0]:
            # any other broadcastable bias, materialised as (M, N) so it is still added inside the GEMM
            bias = bias.expand(out_shape).reshape(x2d.shape[0], weight.shape[0])
        return torch.addmm(bias, x2d, weight.t()).view(out_shape)  # (M, N), bias fused into the GEMM

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        input, weight = ctx.saved_tensors
        out_features, in_features = weight.shape
        g2d = grad_out.reshape(math.prod(grad_out.shape[:-1]), out_features)  # (M, N)
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = torch.matmul(grad_out, weight)  # (*, K)
        if ctx.needs_input_grad[1]:
            grad_weight = torch.mm(g2d.t(), input.reshape(g2d.shape[0], in_features))  # (N, K)
        if ctx.bias_shape is not None and ctx.needs_input_grad[2]:
            if len(ctx.bias_shape) == 1 and ctx.bias_shape[0] == out_features:
                grad_bias = g2d.sum(0)
            else:
                grad_bias = _sum_to_shape(grad_out, ctx.bias_shape)
        return grad_input, grad_weight, grad_bias


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    r"""Apply an affine transformation to the last dimension: :math:`y = x A^T + b`.

    Args:
        input: :math:`(*, \text{in\_features})`, any number of leading dimensions (including none or zero-size ones).
        weight: :math:`(\text{out\_features}, \text{in\_features})`, or :math:`(\text{in\_features})` for a single
            output that is then dropped from the result shape.
        bias: optional, broadcastable to the output, usually :math:`(\text{out\_features})`.

    Shape:
        - Input: :math:`(*, H_{in})`
        - Weight: :math:`(H_{out}, H_{in})` or :math:`(H_{in})`
        - Output: :math:`(*, H_{out})`, or :math:`(*)` for a 1-D weight

    Example::

        >>> x = torch.randn(8, 4, 16)
        >>> linear(x, torch.randn(32, 16), torch.zeros(32)).shape
        torch.Size([8, 4, 32])
    """
    if input.dim() == 0 or weight.dim() == 0:
        raise RuntimeError(
            f"both arguments to linear need to be at least 1D, but they are {input.dim()}D and {weight.dim()}D"
        )
    if weight.dim() > 2:
        raise RuntimeError(
            f"linear(): expected weight to be 1-D or 2-D (out_features, in_features), "
            f"but got weight of shape {list(weight.shape)}"
        )
    if input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(
            f"linear(): input has in_features={input.shape[-1]} (last dimension of input shape "
            f"{list(input.shape)}), but weight of shape {list(weight.shape)} expects in_features={weight.shape[-1]}"
        )
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != input.dtype):
        raise RuntimeError(
            f"linear(): expected input, weight and bias to have the same dtype, but got input {input.dtype}, "
            f"weight {weight.dtype}" + ("" if bias is None else f", bias {bias.dtype}")
        )
    squeeze = weight.dim() == 1
    w2d = weight.unsqueeze(0) if squeeze else weight
    out_shape = (*input.shape[:-1], w2d.shape[0])
    if bias is not None:
        target = input.shape[:-1] if squeeze else out_shape
        if not broadcasts_to(bias.shape, target):
            raise RuntimeError(
                f"linear(): bias of shape {list(bias.shape)} does not broadcast to the output shape {list(target)}"
            )
        if squeeze:
            bias = bias.unsqueeze(-1)
    out = apply(_Linear, input, w2d, bias)
    return out.squeeze(-1) if squeeze else out
