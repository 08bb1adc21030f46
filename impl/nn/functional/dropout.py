"""``dropout``: random zeroing with rescaling, with a hand-derived backward pass."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from impl.nn.functional._autograd import apply

__all__ = ["dropout"]


class _Dropout(torch.autograd.Function):
    r"""Inverted dropout :math:`y = x \odot m`, :math:`m_i = b_i / (1-p)`, :math:`b_i \sim \text{Bernoulli}(1-p)`.

    Derivation. The mask does not depend on :math:`x`, so :math:`\partial y_i/\partial x_i = m_i` and
    :math:`\nabla_x = G \odot m`. The scaled mask :math:`m` is saved from forward (it *is* the random draw; redrawing
    it would give a different function). ``p = 1`` uses :math:`m = 0`.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor, p: float, inplace: bool) -> Tensor:
        if p == 1.0:
            noise = torch.zeros((), dtype=input.dtype, device=input.device).expand(input.shape)
        else:
            # Drawn from torch's generator in the same way as torch's CPU kernel, so torch.manual_seed governs it.
            noise = torch.empty_like(input).bernoulli_(1.0 - p).div_(1.0 - p)
        ctx.save_for_backward(noise)
        if inplace:
            ctx.mark_dirty(input)
            return input.mul_(noise)
        return input * noise

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, None, None]:
        (noise,) = ctx.saved_tensors
        return grad_out * noise, None, None


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    r"""During training, zero each element of ``input`` with probability ``p`` and scale the rest by :math:`1/(1-p)`.

    The draws come from torch's default generator, so ``torch.manual_seed`` makes them reproducible. Outside
    training (or with ``p = 0``) the input is returned unchanged.

    Args:
        input: any shape, floating point.
        p: probability of an element to be zeroed, in :math:`[0, 1]`. Default: ``0.5``.
        training: apply dropout if ``True``. Default: ``True``.
        inplace: overwrite ``input`` with the result. Default: ``False``.

    Shape:
        - Input: :math:`(*)`
        - Output: same shape as the input

    Example::

        >>> _ = torch.manual_seed(0)
        >>> y = dropout(torch.ones(1000), p=0.2)
        >>> sorted(set(y.tolist()))
        [0.0, 1.25]
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    return apply(_Dropout, input, float(p), inplace)
