"""``gelu``: the Gaussian Error Linear Unit (exact and tanh forms), with hand-derived backward passes."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

__all__ = ["gelu"]

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LOG2E = 1.0 / math.log(2.0)
_KAPPA = 0.044715
_A2 = 2.0 * math.sqrt(2.0 / math.pi)  # 2u = x (_A2 + _B2 x^2)
_B2 = _A2 * _KAPPA
# Half-precision inputs are evaluated in float32 and rounded once, as torch's kernels do.
_UPCAST = (torch.float16, torch.bfloat16)


def _compute_dtype(t: Tensor) -> Tensor:
    return t.float() if t.dtype in _UPCAST else t


class _GeluErf(torch.autograd.Function):
    r"""Exact GELU :math:`y = x\,\Phi(x)`, :math:`\Phi(x) = \tfrac12\big(1 + \mathrm{erf}(x/\sqrt2)\big)`.

    Derivation. Product rule with :math:`\Phi'(x) = \varphi(x) = e^{-x^2/2}/\sqrt{2\pi}`:

    .. math::
        \frac{dy}{dx} = \Phi(x) + x\,\varphi(x).

    Only ``x`` is saved. Each pass works in place on one fresh buffer: on CPU a new buffer costs more than a pass.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor) -> Tensor:
        ctx.save_for_backward(input)
        x = _compute_dtype(input)
        y = torch.mul(x, _SQRT1_2).erf_()
        torch.addcmul(x, x, y, out=y).mul_(0.5)  # 0.5 (x + x erf(x / sqrt 2))
        return y if y.dtype == input.dtype else y.to(input.dtype)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Tensor:
        (input,) = ctx.saved_tensors
        x = _compute_dtype(input)
        gauss = torch.mul(x, x).mul_(-0.5 * _LOG2E).exp2_()  # exp(-x^2 / 2) = sqrt(2 pi) phi(x)
        grad = torch.mul(x, _SQRT1_2).erf_().mul_(0.5).add_(0.5)  # Phi(x)
        grad.addcmul_(x, gauss, value=_INV_SQRT_2PI)  # + x phi(x)
        del gauss
        grad.mul_(grad_out)
        return grad if grad.dtype == input.dtype else grad.to(input.dtype)


class _GeluTanh(torch.autograd.Function):
    r"""Tanh-approximate GELU :math:`y = \tfrac12 x (1 + \tanh u)`, :math:`u = \sqrt{2/\pi}\,(x + \kappa x^3)`,
    :math:`\kappa = 0.044715`.

    Since :math:`\tfrac12(1 + \tanh u) = \sigma(2u)`, this is :math:`y = x\,s` with :math:`s = \sigma(2u)` (torch's
    CPU ``sigmoid`` is vectorised, its ``tanh`` much slower).

    Derivation. :math:`\sigma' = \sigma(1-\sigma)` and :math:`\frac{d(2u)}{dx} = 2\sqrt{2/\pi}\,(1 + 3\kappa x^2)`, so

    .. math::
        \frac{dy}{dx} = s + x\, s (1 - s)\, 2\sqrt{2/\pi}\,(1 + 3\kappa x^2).
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor) -> Tensor:
        ctx.save_for_backward(input)
        x = _compute_dtype(input)
        # 2u = x (a + b x^2), a = 2 sqrt(2/pi), b = a kappa
        y = torch.mul(x, x).mul_(_B2).add_(_A2).mul_(x).sigmoid_()
        y.mul_(x)
        return y if y.dtype == input.dtype else y.to(input.dtype)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Tensor:
        (input,) = ctx.saved_tensors
        x = _compute_dtype(input)
        x2 = torch.mul(x, x)
        s = torch.mul(x2, _B2).add_(_A2).mul_(x).sigmoid_()  # sigma(2u)
        # x * d(2u)/dx = x (a + 3 b x^2), reusing x2's buffer
        t = x2.mul_(3.0 * _B2).add_(_A2).mul_(x)
        # s + t s (1 - s) = s + t s - t s^2: t <- t s (1 - s), then add s
        t.mul_(s)
        t.addcmul_(t, s, value=-1.0).add_(s)
        del s
        t.mul_(grad_out)
        return t if t.dtype == input.dtype else t.to(input.dtype)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    r"""Apply the Gaussian Error Linear Unit element-wise.

    With ``approximate='none'``: :math:`\text{GELU}(x) = x\,\Phi(x)` where :math:`\Phi` is the standard normal CDF.
    With ``approximate='tanh'``: :math:`\text{GELU}(x) = 0.5\,x\,(1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715\,x^3)))`.

    Args:
        input: any shape, floating point.
        approximate: ``'none'`` (exact, via ``erf``) or ``'tanh'``. Default: ``'none'``.

    Shape:
        - Input: :math:`(*)`
        - Output: same shape as the input

    Example::

        >>> gelu(torch.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.1587,  0.0000,  0.8413])
    """
    if not isinstance(approximate, str):
        raise TypeError(f"gelu(): argument 'approximate' must be str, not {type(approximate).__name__}")
    if approximate == "none":
        fn: Any = _GeluErf
    elif approximate == "tanh":
        fn = _GeluTanh
    else:
        raise RuntimeError(f"approximate argument must be either none or tanh, but got {approximate!r}")
    if not input.is_floating_point():
        raise NotImplementedError(f"gelu(): expected a floating point input, but got {input.dtype}")
    return fn.apply(input)
