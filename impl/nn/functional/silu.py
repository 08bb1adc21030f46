"""``silu``: the Sigmoid Linear Unit (swish), with a hand-derived backward pass.

As for GELU, the forward pass computes the output and the local derivative together (they share the sigmoid) and
saves only the derivative, so the backward pass is one multiplication.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from impl.nn.functional._autograd import apply, graph_kept, once_differentiable_fast

__all__ = ["silu"]

# Half-precision inputs are evaluated in float32 and rounded once, as torch's kernels do.
_UPCAST = (torch.float16, torch.bfloat16)


def _silu(x: Tensor, need_grad: bool) -> tuple[Tensor, Tensor | None]:
    r""":math:`y = x\,\sigma(x)` and, with ``need_grad``, :math:`dy/dx = \sigma(x)\,(1 + x\,(1 - \sigma(x)))`."""
    s = torch.sigmoid(x)
    deriv = None
    if need_grad:
        # s (1 + x (1 - s)) = s + x s - x s^2: w <- x s; w <- w - w s; w <- w + s
        w = torch.mul(x, s)
        deriv = torch.addcmul(w, w, s, value=-1.0).add_(s)
    return s.mul_(x), deriv


class _Silu(torch.autograd.Function):
    r"""SiLU with its derivative computed in the forward pass.

    :math:`y = x\,\sigma(x)`, :math:`\sigma(x) = 1/(1 + e^{-x})`. Derivation: product rule with
    :math:`\sigma' = \sigma(1 - \sigma)`,

    .. math::
        \frac{dy}{dx} = \sigma(x) + x\,\sigma(x)\,(1 - \sigma(x)) = \sigma(x)\,\big(1 + x\,(1 - \sigma(x))\big).

    Backward: :math:`\nabla_x = g \odot dy/dx` for the upstream gradient :math:`g`; only :math:`dy/dx` is saved.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor) -> Tensor:
        x = input.float() if input.dtype in _UPCAST else input
        y, deriv = _silu(x, True)
        ctx.save_for_backward(deriv)
        return y if y.dtype == input.dtype else y.to(input.dtype)

    @staticmethod
    @once_differentiable_fast  # the saved derivative is a constant to autograd: no double backward through it
    def backward(ctx: Any, grad_out: Tensor) -> Tensor:
        (deriv,) = ctx.saved_tensors
        grad = torch.mul(grad_out, deriv) if graph_kept() else deriv.mul_(grad_out)
        return grad if grad.dtype == grad_out.dtype else grad.to(grad_out.dtype)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    r"""Apply the Sigmoid Linear Unit element-wise: :math:`\text{SiLU}(x) = x\,\sigma(x)`.

    The activation of LLaMA-style SwiGLU MLPs, :math:`W_2(\text{SiLU}(W_1 x) \odot W_3 x)`.

    Args:
        input: any shape, floating point.
        inplace: write the result into ``input`` and return it (``input`` must not be a leaf that requires grad,
            as for torch). Default: ``False``.

    Shape:
        - Input: :math:`(*)`
        - Output: same shape as the input

    Raises:
        NotImplementedError: for an input that is not floating point (as torch).

    Example::

        >>> silu(torch.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.2689,  0.0000,  0.7311])
    """
    if not input.is_floating_point():
        raise NotImplementedError(f"silu(): expected a floating point input, but got {input.dtype}")
    if inplace:
        if input.requires_grad and torch.is_grad_enabled():
            if input.is_leaf:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            # In place inside a graph: compute out of place, then copy, so that autograd records the write.
            return input.copy_(apply(_Silu, input))
        x = input.float() if input.dtype in _UPCAST else input
        y, _ = _silu(x, False)
        return input.copy_(y)
    if input.requires_grad and torch.is_grad_enabled():
        return apply(_Silu, input)
    x = input.float() if input.dtype in _UPCAST else input
    y, _ = _silu(x, False)
    return y if y.dtype == input.dtype else y.to(input.dtype)
