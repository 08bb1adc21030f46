"""``layer_norm``: normalisation over the trailing dimensions, with a hand-derived backward pass."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

__all__ = ["layer_norm"]

# Half-precision inputs are normalised in float32 and rounded once at the end, as torch's kernels do.
_UPCAST = (torch.float16, torch.bfloat16)


class _LayerNorm(torch.autograd.Function):
    r"""Layer normalisation of the rows of a :math:`(M, N)` view of the input.

    Forward, per row :math:`x \in \mathbb{R}^N`:
    :math:`\mu = \frac{1}{N}\sum_j x_j`, :math:`\sigma^2 = \frac{1}{N}\sum_j (x_j-\mu)^2` (biased),
    :math:`r = (\sigma^2+\epsilon)^{-1/2}`, :math:`\hat x = (x-\mu) r`, :math:`y = \hat x \odot w + b`.

    Derivation. Let :math:`g = \partial L/\partial y` and :math:`\hat g = g \odot w`. Then
    :math:`\partial \hat x_j / \partial x_k = r(\delta_{jk} - \frac{1}{N}) - \frac{r}{N}\hat x_j \hat x_k`
    (using :math:`\partial\mu/\partial x_k = 1/N` and :math:`\partial r/\partial x_k = -\frac{r}{N}\hat x_k r`),
    hence the classic closed form

    .. math::
        \nabla_x = r\Big(\hat g - \overline{\hat g} - \hat x\, \overline{\hat g \odot \hat x}\Big), \qquad
        \nabla_w = \sum_{\text{rows}} g \odot \hat x, \qquad \nabla_b = \sum_{\text{rows}} g,

    where :math:`\overline{\,\cdot\,}` is the mean over the :math:`N` normalised elements of a row. Only ``x``,
    the per-row :math:`\mu` and :math:`r`, and ``w`` are saved; :math:`x - \mu` is recomputed in backward.
    """

    @staticmethod
    def forward(
        ctx: Any, input: Tensor, norm_shape: tuple[int, ...], weight: Tensor | None, bias: Tensor | None, eps: float
    ) -> Tensor:
        n = math.prod(norm_shape)
        m = math.prod(input.shape[: input.dim() - len(norm_shape)])
        x = input.reshape(m, n)  # (M, N)
        if x.dtype in _UPCAST:
            x = x.float()
        mean = x.mean(1, keepdim=True)  # (M, 1)
        y = x - mean  # (M, N): centred, then x_hat, then the output, all in this one buffer
        # biased variance as a squared 2-norm: one vectorised pass (torch.var_mean is far slower on CPU)
        rstd = torch.linalg.vector_norm(y, dim=1, keepdim=True).square_().div_(n).add_(eps).rsqrt_()  # (M, 1)
        y.mul_(rstd)
        if weight is not None and bias is not None:
            torch.addcmul(bias.reshape(n), y, weight.reshape(n), out=y)
        elif weight is not None:
            y.mul_(weight.reshape(n))
        elif bias is not None:
            y.add_(bias.reshape(n))
        ctx.save_for_backward(input, mean, rstd, weight)
        ctx.norm_shape = norm_shape
        ctx.bias_dtype = None if bias is None else bias.dtype
        if y.dtype != input.dtype:
            y = y.to(input.dtype)
        return y.view(input.shape)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, None, Tensor | None, Tensor | None, None]:
        input, mean, rstd, weight = ctx.saved_tensors
        norm_shape = ctx.norm_shape
        n = math.prod(norm_shape)
        m = math.prod(input.shape[: input.dim() - len(norm_shape)])
        x = input.reshape(m, n)
        g = grad_out.reshape(m, n)  # (M, N)
        if g.dtype in _UPCAST:
            g, x = g.float(), x.float()
        w = None
        if weight is not None:
            w = weight.reshape(n) if weight.dtype == g.dtype else weight.reshape(n).to(g.dtype)
        need_input, need_bias = ctx.needs_input_grad[0], ctx.needs_input_grad[3]
        need_weight = ctx.needs_input_grad[2] and w is not None
        grad_input = grad_weight = grad_bias = None
        if ctx.bias_dtype is not None and need_bias:
            grad_bias = _as_param_grad(g.sum(0), ctx.bias_dtype, norm_shape)
        if not (need_input or need_weight):
            return grad_input, None, grad_weight, grad_bias, None
        # One (M, N) buffer carries g * (x - mean), then the input gradient: on CPU a fresh buffer costs more
        # than a pass over one. (An addcmul whose first operand is a broadcast column is slow there, hence the
        # separate sub and mul_.)
        r = rstd.view(-1)  # (M,)
        buf = torch.sub(x, mean).mul_(g)  # g * (x - mean) = g * x_hat / rstd
        if need_weight:
            grad_weight = _as_param_grad(torch.mv(buf.t(), r), weight.dtype, norm_shape)  # sum_rows g * x_hat
        if need_input:
            # k = -rstd * mean_j(g_hat * x_hat) and c_g = mean_j(g_hat), with g_hat = g * w (beta=0: r is unused)
            if w is not None:
                inv_n = 1.0 / n if n else 0.0
                k = torch.addmv(r, buf, w, beta=0, alpha=-inv_n)
                c_g = torch.addmv(r, g, w, beta=0, alpha=inv_n).unsqueeze(1)  # (M, 1)
            else:
                k = buf.sum(1).div_(-max(n, 1))
                c_g = g.mean(1, keepdim=True)
            # grad / rstd = g_hat - c_g - c_hat * x_hat = g_hat - c_g + (x - mean) * k * rstd
            torch.sub(x, mean, out=buf).mul_(k.mul_(r).mul_(r).unsqueeze(1)).sub_(c_g)
            if w is not None:
                buf.addcmul_(g, w)
            else:
                buf.add_(g)
            grad_input = buf.mul_(rstd)
            if grad_input.dtype != input.dtype:
                grad_input = grad_input.to(input.dtype)
            grad_input = grad_input.view(input.shape)
        return grad_input, None, grad_weight, grad_bias, None


def _as_param_grad(grad: Tensor, dtype: torch.dtype, shape: tuple[int, ...]) -> Tensor:
    """A flat (N,) gradient in the parameter's dtype and shape."""
    if grad.dtype != dtype:
        grad = grad.to(dtype)
    return grad if len(shape) == 1 else grad.view(shape)


def _check_shapes(input: Tensor, normalized_shape: tuple[int, ...], weight: Tensor | None, bias: Tensor | None) -> None:
    if len(normalized_shape) == 0:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, "
            "but got normalized_shape = []"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                f"{list(t.shape)} and normalized_shape = {list(normalized_shape)}"
            )
    k = len(normalized_shape)
    if input.dim() < k or tuple(input.shape[input.dim() - k :]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[*, {', '.join(map(str, normalized_shape))}], but got input of size {list(input.shape)}"
        )


def layer_norm(
    input: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    r"""Apply Layer Normalization over the trailing ``len(normalized_shape)`` dimensions.

    .. math::
        y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} * \gamma + \beta

    The mean and the biased variance are taken over the last ``len(normalized_shape)`` dimensions.

    Args:
        input: :math:`(*, \text{normalized\_shape})`.
        normalized_shape: the trailing shape to normalise over (a list, tuple or ``torch.Size``).
        weight: optional :math:`\gamma` of shape ``normalized_shape``.
        bias: optional :math:`\beta` of shape ``normalized_shape``.
        eps: added to the variance for numerical stability. Default: ``1e-5``.

    Shape:
        - Input: :math:`(*, S_1, \ldots, S_k)` where ``normalized_shape`` is :math:`(S_1, \ldots, S_k)`
        - Output: same shape as the input

    Example::

        >>> x = torch.randn(4, 10, 32)
        >>> layer_norm(x, (32,), torch.ones(32), torch.zeros(32)).shape
        torch.Size([4, 10, 32])
    """
    if isinstance(normalized_shape, int) or not isinstance(normalized_shape, (list, tuple, torch.Size)):
        raise TypeError(
            f"layer_norm(): argument 'normalized_shape' must be a list, tuple or torch.Size of ints, "
            f"not {type(normalized_shape).__name__}"
        )
    shape = tuple(int(s) for s in normalized_shape)
    _check_shapes(input, shape, weight, bias)
    if not input.is_floating_point():
        raise NotImplementedError(f"layer_norm(): expected a floating point input, but got {input.dtype}")
    return _LayerNorm.apply(input, shape, weight, bias, eps)
