"""``gelu``: the Gaussian Error Linear Unit (exact and tanh forms), with hand-derived backward passes.

Both forms compute, in the forward pass, the output and the local derivative :math:`dy/dx` together (they share
every intermediate), and save only the derivative: the backward pass is then one multiplication, written into the
derivative's own buffer when the graph is not retained. The saved derivative takes the place of the input torch
would save, so a network holds no more memory.

On CPU every tensor op is a pass over memory, so the passes below are few, in place and fused (``add`` and
``addcmul`` take a 0-dim tensor where a constant is added, at the speed of a plain multiply).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from impl.kernels import pointer, usable
from impl.nn.functional._autograd import apply, graph_kept, once_differentiable_fast, scalar

__all__ = ["gelu"]

_LOG2E = 1.0 / math.log(2.0)
_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_KAPPA = 0.044715
_A2 = 2.0 * math.sqrt(2.0 / math.pi)  # 2u = x (_A2 + _B2 x^2) in the tanh form
_B2 = _A2 * _KAPPA
# Half-precision inputs are evaluated in float32 and rounded once, as torch's kernels do.
_UPCAST = (torch.float16, torch.bfloat16)

# logit(Phi(x)) / x in the variable t = _SHIFT - x^2 log2(e) / 2 (see _gelu_f32): the cubic's coefficients a0..a3,
# and b, that of 2^t t. Weighted minimax fit on x in [0, 7], the weight Phi (1 - Phi) measuring the error in Phi
# itself; _SHIFT is where the fit needs no constant times 2^t.
_SHIFT = -6.6
_LOGIT_PHI = (0.7317155774409995, -0.14848484595676184, -0.0033556497702661773, -4.5102639332099105e-05)
_LOGIT_PHI_EXP = -0.2536835836562928
# Inputs above 2 _CHUNK elements go through in chunks of _CHUNK (1 MiB per float32 intermediate); below, one chunk
# measures faster.
_CHUNK = 1 << 18
_HALF_LOG2E = 0.5 * _LOG2E
# Up to this many elements, an exact GELU without a graph (evaluation, decoding) is torch.special.ndtr times x: two op
# calls, element by element, cost less there than the dozen vectorised passes of _gelu_f32.
_SMALL = 1 << 14


def _gelu_f32(x: Tensor, need_grad: bool) -> tuple[Tensor, Tensor | None]:
    r"""Exact GELU of a float32 ``x``: :math:`y = x\,\Phi(x)` and, with ``need_grad``, :math:`dy/dx`.

    :math:`\Phi(x) = \sigma(F(x))`, :math:`\sigma` the logistic sigmoid, since :math:`F = \operatorname{logit}\Phi`
    is odd and smooth, and torch's CPU ``sigmoid`` is vectorised where ``erf`` is not (``torch.erf`` runs element by
    element; alone it costs nearly as much as this whole function). With :math:`t = s - x^2\log_2(e)/2`, so that
    :math:`2^t = 2^s e^{-x^2/2} = 2^s\sqrt{2\pi}\,\varphi(x)`,

    .. math::
        F(x) = x\,\Big(a_0 + t\,\big(a_1 + b\,2^t + t\,(a_2 + a_3 t)\big)\Big).

    The Gaussian that the derivative needs anyway shapes the fit too; the shift :math:`s` makes a single
    :math:`2^t t` term do the work of two. The error in :math:`\Phi` is below :math:`6\cdot10^{-8}` in exact
    arithmetic and :math:`1.6\cdot10^{-7}` evaluated in float32, over all of :math:`\mathbb{R}` (torch's own
    vectorised kernel uses an ``erf`` accurate to :math:`1.5\cdot10^{-7}`). Beyond the fitted range the cubic keeps
    :math:`|F|` growing, so :math:`\Phi` saturates to exactly 0 or 1, and :math:`F(\pm\infty) = \pm\infty`.

    Large inputs go through in chunks, so that each chunk's intermediates stay in cache between the passes.
    """
    f32 = torch.float32
    x = x.contiguous()
    flat = x.view(-1)  # (n,)
    n = flat.numel()
    y = torch.empty_like(flat)
    deriv = torch.empty_like(flat) if need_grad else None
    size = max(n, 1) if n <= 2 * _CHUNK else _CHUNK
    t_buf = torch.empty(size, dtype=f32, device=x.device)
    g_buf = deriv if deriv is not None else torch.empty(size, dtype=f32, device=x.device)
    shift, a0, a1, a2 = (scalar(v, f32, x.device) for v in (_SHIFT, *_LOGIT_PHI[:3]))
    a3, b = _LOGIT_PHI[3], _LOGIT_PHI_EXP
    for lo in range(0, n, size):
        hi = min(lo + size, n)
        xc, yc = flat[lo:hi], y[lo:hi]
        t = t_buf[: hi - lo]
        gauss = g_buf[lo:hi] if deriv is not None else g_buf[: hi - lo]
        torch.addcmul(shift, xc, xc, value=-_HALF_LOG2E, out=t)
        torch.exp2(t, out=gauss)  # 2^s exp(-x^2 / 2)
        # Horner; b 2^t joins at the t^1 level, so that 2^t = 0 never meets an infinite t (x^2 overflowing)
        torch.add(a2, t, alpha=a3, out=yc)
        torch.addcmul(a1, yc, t, out=yc).add_(gauss, alpha=b)
        torch.addcmul(a0, yc, t, out=yc)
        yc.mul_(xc).sigmoid_()  # Phi
        if deriv is not None:
            # dy/dx = Phi + x phi(x), phi(x) = 2^t / (2^s sqrt(2 pi)), in the Gaussian's buffer. (The constant
            # multiplies the Gaussian first: times a huge x it would overflow before meeting a zero Gaussian.)
            torch.addcmul(yc, gauss, xc, value=_INV_SQRT_2PI * 2.0**-_SHIFT, out=gauss)
        yc.mul_(xc)
    return y.view(x.shape), (None if deriv is None else deriv.view(x.shape))


def _gelu_erf(x: Tensor, need_grad: bool) -> tuple[Tensor, Tensor | None]:
    r"""Exact GELU with ``torch.erf`` (float64, where float32-level accuracy is not enough): :math:`y = x\,\Phi(x)`,
    :math:`\Phi(x) = \tfrac12(1 + \mathrm{erf}(x/\sqrt2))`, and with ``need_grad`` :math:`dy/dx`."""
    phi = torch.mul(x, _SQRT1_2).erf_().mul_(0.5).add_(0.5)
    deriv = None
    if need_grad:
        gauss = torch.mul(x, x).mul_(-_HALF_LOG2E).exp2_()  # exp(-x^2 / 2)
        deriv = torch.addcmul(phi, x, gauss, value=_INV_SQRT_2PI, out=gauss)
    return phi.mul_(x), deriv


def _gelu_tanh(x: Tensor, need_grad: bool) -> tuple[Tensor, Tensor | None]:
    r""":math:`y = x\,s`, :math:`s = \sigma(2u)`, and with ``need_grad``
    :math:`dy/dx = s + x\,s(1-s)\,(a + 3b\,x^2)` where :math:`2u = x(a + b\,x^2)`."""
    a = scalar(_A2, x.dtype, x.device)
    x2 = torch.mul(x, x)
    s = torch.add(a, x2, alpha=_B2).mul_(x).sigmoid_()  # sigma(x (a + b x^2))
    deriv = None
    if need_grad:
        # x (a + 3 b x^2) s (1 - s) + s, in x2's buffer: w <- w s; w <- w - w s; w <- w + s
        w = torch.add(a, x2, alpha=3.0 * _B2, out=x2).mul_(x).mul_(s)
        deriv = torch.addcmul(w, w, s, value=-1.0, out=w).add_(s)
    return s.mul_(x), deriv


def _native(x: Tensor, need_grad: bool, tanh_form: bool) -> tuple[Tensor, Tensor | None]:
    """Either form as a native kernel (:mod:`impl.kernels`): one pass writes the output and the derivative."""
    lib = usable(x)
    assert lib is not None
    y = torch.empty_like(x)
    deriv = torch.empty_like(x) if need_grad else None
    lib.nnspec_gelu_fwd(x.data_ptr(), y.data_ptr(), pointer(deriv), x.numel(), int(tanh_form), torch.get_num_threads())
    return y, deriv


def _native_exact(x: Tensor, need_grad: bool) -> tuple[Tensor, Tensor | None]:
    return _native(x, need_grad, False)


def _native_tanh(x: Tensor, need_grad: bool) -> tuple[Tensor, Tensor | None]:
    return _native(x, need_grad, True)


def _forms(x: Tensor, approximate: str) -> Callable[[Tensor, bool], tuple[Tensor, Tensor | None]]:
    if x.numel() and usable(x) is not None:
        return _native_tanh if approximate == "tanh" else _native_exact
    if approximate == "tanh":
        return _gelu_tanh
    return _gelu_f32 if x.dtype == torch.float32 else _gelu_erf


class _Gelu(torch.autograd.Function):
    r"""GELU with its derivative computed in the forward pass.

    Exact form, :math:`y = x\,\Phi(x)` with :math:`\Phi(x) = \tfrac12\big(1 + \mathrm{erf}(x/\sqrt2)\big)`.
    Derivation: product rule with :math:`\Phi'(x) = \varphi(x) = e^{-x^2/2}/\sqrt{2\pi}`,

    .. math::
        \frac{dy}{dx} = \Phi(x) + x\,\varphi(x).

    Tanh form, :math:`y = \tfrac12 x (1 + \tanh u)`, :math:`u = \sqrt{2/\pi}\,(x + \kappa x^3)`,
    :math:`\kappa = 0.044715`. Since :math:`\tfrac12(1 + \tanh u) = \sigma(2u)`, :math:`y = x\,s` with
    :math:`s = \sigma(2u)` (torch's CPU ``sigmoid`` is vectorised, its ``tanh`` much slower). Derivation:
    :math:`\sigma' = \sigma(1-\sigma)` and :math:`\frac{d(2u)}{dx} = 2\sqrt{2/\pi}\,(1 + 3\kappa x^2)`, so

    .. math::
        \frac{dy}{dx} = s + x\, s (1 - s)\, 2\sqrt{2/\pi}\,(1 + 3\kappa x^2).

    Backward: :math:`\nabla_x = g \odot dy/dx` for the upstream gradient :math:`g`; only :math:`dy/dx` is saved.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor, approximate: str) -> Tensor:
        x = input.float() if input.dtype in _UPCAST else input
        y, deriv = _forms(x, approximate)(x, True)
        ctx.save_for_backward(deriv)
        return y if y.dtype == input.dtype else y.to(input.dtype)

    @staticmethod
    @once_differentiable_fast  # the saved derivative is a constant to autograd: no double backward through it
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, None]:
        (deriv,) = ctx.saved_tensors
        # In the derivative's precision (float32 for half inputs). When the graph is freed after this pass the
        # derivative's buffer becomes the gradient: no new buffer.
        grad = torch.mul(grad_out, deriv) if graph_kept() else deriv.mul_(grad_out)
        return (grad if grad.dtype == grad_out.dtype else grad.to(grad_out.dtype)), None


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    r"""Apply the Gaussian Error Linear Unit element-wise.

    With ``approximate='none'``: :math:`\text{GELU}(x) = x\,\Phi(x)` where :math:`\Phi` is the standard normal CDF.
    With ``approximate='tanh'``: :math:`\text{GELU}(x) = 0.5\,x\,(1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715\,x^3)))`.

    :math:`\Phi` is evaluated with ``erf`` in float64 and, in float32 and half precision, as a logistic sigmoid
    accurate to :math:`1.6\cdot10^{-7}` (see ``_gelu_f32``); without a graph and up to 16384 elements (a decoding
    step), as ``torch.special.ndtr``.

    Args:
        input: any shape, floating point.
        approximate: ``'none'`` (exact) or ``'tanh'``. Default: ``'none'``.

    Shape:
        - Input: :math:`(*)`
        - Output: same shape as the input

    Example::

        >>> gelu(torch.tensor([-1.0, 0.0, 1.0]))
        tensor([-0.1587,  0.0000,  0.8413])
    """
    if not isinstance(approximate, str):
        raise TypeError(f"gelu(): argument 'approximate' must be str, not {type(approximate).__name__}")
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, but got {approximate!r}")
    if not input.is_floating_point():
        raise NotImplementedError(f"gelu(): expected a floating point input, but got {input.dtype}")
    if input.requires_grad and torch.is_grad_enabled():
        return apply(_Gelu, input, approximate)
    # No graph: skip the derivative and the autograd node.
    x = input.float() if input.dtype in _UPCAST else input
    form = _forms(x, approximate)
    if form is _gelu_f32 and x.numel() <= _SMALL:
        y = torch.special.ndtr(x).mul_(x)  # Phi(x) x
    else:
        y, _ = form(x, False)
    return y if y.dtype == input.dtype else y.to(input.dtype)
