"""``rms_norm``: root-mean-square normalisation over the trailing dimensions, with a hand-derived backward pass."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from impl.nn.functional._autograd import apply
from impl.nn.functional.layer_norm import check_norm_args

__all__ = ["rms_norm"]

# Half-precision inputs are normalised in float32 and rounded once at the end, as torch's kernels do.
_UPCAST = (torch.float16, torch.bfloat16)


class _RMSNorm(torch.autograd.Function):
    r"""RMS normalisation of the rows of an :math:`(M, N)` view of the input.

    Forward, per row :math:`x \in \mathbb{R}^N`:
    :math:`r = \big(\frac{1}{N}\sum_j x_j^2 + \epsilon\big)^{-1/2}`, :math:`\hat x = x\, r`, :math:`y = \hat x \odot w`.

    Derivation. Let :math:`g = \partial L/\partial y` and :math:`\hat g = g \odot w`. From
    :math:`\partial r/\partial x_k = -\frac{r^3}{N} x_k` we get
    :math:`\partial \hat x_j/\partial x_k = r\,\delta_{jk} - \frac{r}{N}\hat x_j \hat x_k`, hence

    .. math::
        \nabla_x = r\Big(\hat g - \hat x\, \overline{\hat g \odot \hat x}\Big), \qquad
        \nabla_w = \sum_{\text{rows}} g \odot \hat x,

    where :math:`\overline{\,\cdot\,}` is the mean over the :math:`N` normalised elements of a row. This is
    LayerNorm's gradient without the two mean-centring terms. Only ``x``, the per-row :math:`r` and ``w`` are saved.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor, norm_shape: tuple[int, ...], weight: Tensor | None, eps: float) -> Tensor:
        n = math.prod(norm_shape)
        out_dtype = input.dtype if weight is None else torch.promote_types(input.dtype, weight.dtype)
        x = input.reshape(-1, n)  # (M, N)
        if x.dtype in _UPCAST:
            x = x.float()
        rstd = x.square().mean(1, keepdim=True).add_(eps).rsqrt_()  # (M, 1)
        y = x * rstd  # x_hat, (M, N)
        if weight is not None:
            y = y * weight.reshape(n)  # promotes, e.g. a float64 weight on a float32 input
        ctx.save_for_backward(input, rstd, weight)
        ctx.norm_shape = norm_shape
        return y.to(out_dtype).view(input.shape)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, None, Tensor | None, None]:
        input, rstd, weight = ctx.saved_tensors
        n = math.prod(ctx.norm_shape)
        x = input.reshape(-1, n)
        g = grad_out.reshape(-1, n)  # (M, N)
        if g.dtype in _UPCAST or x.dtype in _UPCAST:
            g, x = g.float(), x.float()
        x_hat = x * rstd  # (M, N)
        grad_input = grad_weight = None
        if weight is not None and ctx.needs_input_grad[2]:
            grad_weight = (g * x_hat).sum(0).to(weight.dtype).view(ctx.norm_shape)
        if ctx.needs_input_grad[0]:
            g_hat = g * weight.reshape(n) if weight is not None else g.clone()  # (M, N), overwritten below
            c_hat = (g_hat * x_hat).mean(1, keepdim=True)  # (M, 1)
            grad_input = g_hat.addcmul_(x_hat, c_hat, value=-1).mul_(rstd)
            grad_input = grad_input.to(input.dtype).view(input.shape)
        return grad_input, None, grad_weight, None


def default_eps(dtype: torch.dtype) -> float:
    """The ``eps`` used when none is given: the machine epsilon of the type the norm is computed in.

    That is ``torch.finfo(dtype).eps`` for float32 and float64; half-precision inputs are computed in float32 and
    use float32's epsilon.
    """
    return torch.finfo(torch.float32 if dtype in _UPCAST else dtype).eps


def rms_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    r"""Apply Root Mean Square Layer Normalization over the trailing ``len(normalized_shape)`` dimensions.

    .. math::
        y = \frac{x}{\sqrt{\mathrm{E}[x^2] + \epsilon}} * \gamma

    Unlike :func:`layer_norm` the input is not re-centred and there is no bias.

    Args:
        input: :math:`(*, \text{normalized\_shape})`.
        normalized_shape: the trailing shape to normalise over (a list, tuple or ``torch.Size``).
        weight: optional :math:`\gamma` of shape ``normalized_shape``.
        eps: added to the mean square. Default: ``None``, the machine epsilon of the computation type
            (``torch.finfo(torch.float32).eps`` for float32 and half inputs, float64's for float64) -- not ``1e-6``.

    Shape:
        - Input: :math:`(*, S_1, \ldots, S_k)` where ``normalized_shape`` is :math:`(S_1, \ldots, S_k)`
        - Output: same shape as the input

    Example::

        >>> x = torch.tensor([[3.0, 4.0]])
        >>> rms_norm(x, (2,))  # rms = sqrt((9 + 16) / 2)
        tensor([[0.8485, 1.1314]])
    """
    shape = check_norm_args("rms_norm", input, normalized_shape, weight, None)
    return apply(_RMSNorm, input, shape, weight, default_eps(input.dtype) if eps is None else float(eps))
