"""``softmax`` and ``log_softmax`` along one dimension, with hand-derived backward passes."""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
from torch import Tensor

from impl.kernels import usable
from impl.nn.functional._autograd import apply

__all__ = ["log_softmax", "softmax"]

# Half-precision inputs are reduced in float32 and rounded once, as torch's kernels do.
_UPCAST = (torch.float16, torch.bfloat16)
_LOG2E = 1.0 / math.log(2.0)


def _get_softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """torch's legacy rule for an omitted ``dim``: 0 for 0-, 1- and 3-dimensional inputs, else 1."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _shifted(x: Tensor, dim: int) -> Tensor:
    """``x - max(x)`` along ``dim`` in a fresh buffer: every exponent is then <= 0, so ``exp`` cannot overflow."""
    if x.numel() == 0:  # amax rejects an empty reduction
        return x.clone()
    return x - x.amax(dim, keepdim=True)


def _exp_(t: Tensor) -> Tensor:
    """In-place ``exp`` as ``exp2(t * log2(e))``: torch's CPU ``exp2`` is vectorised and several times faster than
    its ``exp``; the extra rounding of the product is below float32 resolution for the exponents that matter."""
    return t.mul_(_LOG2E).exp2_()


def _native_rows(kernel: str, dim: int, *tensors: Tensor, log: bool) -> Tensor | None:
    """A native softmax kernel (``kernel``: the forward or backward pass) over the rows of the last dimension, or None
    where no kernel applies (another dimension or dtype, an empty or a strided tensor); the first tensor's shape."""
    first = tensors[0]
    if dim != first.dim() - 1 or not first.numel():
        return None
    lib = usable(*tensors)
    if lib is None:
        return None
    out = torch.empty_like(first)
    n = first.shape[-1] if first.dim() else 1
    pointers = [t.data_ptr() for t in tensors]
    getattr(lib, kernel)(*pointers, out.data_ptr(), first.numel() // n, n, int(log), torch.get_num_threads())
    return out


class _Softmax(torch.autograd.Function):
    r""":math:`y_i = e^{x_i - m} / \sum_j e^{x_j - m}` along ``dim``, with :math:`m = \max_j x_j`.

    Derivation. The Jacobian is :math:`\partial y_i/\partial x_k = y_i(\delta_{ik} - y_k)`, so

    .. math::
        (\nabla_x)_k = \sum_i g_i\, y_i (\delta_{ik} - y_k) = y_k \Big(g_k - \sum_i g_i y_i\Big).

    Only the output :math:`y` is saved.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor, dim: int, dtype: torch.dtype | None) -> Tensor:
        out_dtype = dtype if dtype is not None else input.dtype
        x = input.to(out_dtype)
        y = _native_rows("nnspec_softmax_fwd", dim, x, log=False)
        if y is None:
            if x.dtype in _UPCAST:
                x = x.float()
            e = _exp_(_shifted(x, dim))
            # times 1 / sum: a multiply by a per-row constant is cheaper than a division
            y = e.mul_(e.sum(dim, keepdim=True).reciprocal_()).to(out_dtype)
        ctx.save_for_backward(y)
        ctx.dim = dim
        ctx.in_dtype = input.dtype
        return y

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, None, None]:
        (y,) = ctx.saved_tensors
        g = grad_out
        grad = _native_rows("nnspec_softmax_bwd", ctx.dim, g.contiguous(), y, log=False)
        if grad is not None:
            return grad.to(ctx.in_dtype), None, None
        if y.dtype in _UPCAST:
            y, g = y.float(), g.float()
        gy = g * y
        grad = gy.addcmul_(y, gy.sum(ctx.dim, keepdim=True), value=-1.0)  # y * (g - sum(g y))
        return grad.to(ctx.in_dtype), None, None


class _LogSoftmax(torch.autograd.Function):
    r""":math:`y_i = (x_i - m) - \log \sum_j e^{x_j - m}` along ``dim``, with :math:`m = \max_j x_j`.

    Derivation. :math:`\partial y_i/\partial x_k = \delta_{ik} - \mathrm{softmax}(x)_k` and
    :math:`\mathrm{softmax}(x) = e^{y}`, so

    .. math::
        (\nabla_x)_k = g_k - e^{y_k} \sum_i g_i.

    Only the output :math:`y` is saved.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor, dim: int, dtype: torch.dtype | None) -> Tensor:
        out_dtype = dtype if dtype is not None else input.dtype
        x = input.to(out_dtype)
        y = _native_rows("nnspec_softmax_fwd", dim, x, log=True)
        if y is None:
            if x.dtype in _UPCAST:
                x = x.float()
            s = _shifted(x, dim)
            y = s.sub_(torch.mul(s, _LOG2E).exp2_().sum(dim, keepdim=True).log_()).to(out_dtype)
        ctx.save_for_backward(y)
        ctx.dim = dim
        ctx.in_dtype = input.dtype
        return y

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, None, None]:
        (y,) = ctx.saved_tensors
        g = grad_out
        grad = _native_rows("nnspec_softmax_bwd", ctx.dim, g.contiguous(), y, log=True)
        if grad is not None:
            return grad.to(ctx.in_dtype), None, None
        if y.dtype in _UPCAST:
            y, g = y.float(), g.float()
        # softmax = exp(y), with the exact exp: y is an output the caller may also hold at another precision
        grad = torch.exp(y).mul_(g.sum(ctx.dim, keepdim=True)).neg_().add_(g)
        return grad.to(ctx.in_dtype), None, None


def _prepare(name: str, input: Tensor, dim: int | None, stacklevel: int, dtype: torch.dtype | None) -> int:
    if dim is None:
        dim = _get_softmax_dim(name, input.dim(), stacklevel + 1)
    ndim = max(input.dim(), 1)
    if not -ndim <= dim < ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got {dim})")
    eff = dtype if dtype is not None else input.dtype
    if not eff.is_floating_point:
        raise NotImplementedError(f"{name}(): expected a floating point input or dtype, but got {eff}")
    return dim % ndim if input.dim() > 0 else 0


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: torch.dtype | None = None) -> Tensor:
    r"""Apply :math:`\text{Softmax}(x_i) = \frac{\exp(x_i)}{\sum_j \exp(x_j)}` along ``dim``.

    Computed as :math:`\exp(x_i - \max_j x_j) / \sum_j \exp(x_j - \max_j x_j)` so large logits do not overflow.
    A row that is entirely :math:`-\infty` gives NaN, as in torch.

    Args:
        input: any shape, floating point.
        dim: the dimension along which the values sum to 1. ``None`` (deprecated) picks 0 for 0-, 1- and
            3-dimensional inputs and 1 otherwise, with a warning.
        dtype: if given, ``input`` is cast to it before the operation (and the result has it).

    Shape:
        - Input: :math:`(*)`
        - Output: same shape as the input

    Example::

        >>> softmax(torch.tensor([[1.0, 2.0, 3.0]]), dim=-1)
        tensor([[0.0900, 0.2447, 0.6652]])
    """
    d = _prepare("softmax", input, dim, _stacklevel, dtype)
    return apply(_Softmax, input, d, dtype)


def log_softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: torch.dtype | None = None
) -> Tensor:
    r"""Apply :math:`\log\big(\frac{\exp(x_i)}{\sum_j \exp(x_j)}\big)` along ``dim``.

    Computed as :math:`(x_i - m) - \log\sum_j \exp(x_j - m)` with :math:`m = \max_j x_j`, which is exact for
    logits of any magnitude.

    Args:
        input: any shape, floating point.
        dim: the dimension to normalise over; ``None`` follows the same deprecated rule as :func:`softmax`.
        dtype: if given, ``input`` is cast to it before the operation (and the result has it).

    Shape:
        - Input: :math:`(*)`
        - Output: same shape as the input

    Example::

        >>> log_softmax(torch.tensor([0.0, 0.0]), dim=0)
        tensor([-0.6931, -0.6931])
    """
    d = _prepare("log_softmax", input, dim, _stacklevel, dtype)
    return apply(_LogSoftmax, input, d, dtype)
