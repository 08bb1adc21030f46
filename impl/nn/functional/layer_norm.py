"""``layer_norm``: normalisation over the trailing dimensions, with a hand-derived backward pass."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from impl.kernels import pointer, usable
from impl.nn.functional._autograd import apply, once_differentiable_fast, scalar

__all__ = ["layer_norm"]

# Half-precision inputs are normalised in float32 and rounded once at the end, as torch's kernels do.
_UPCAST = (torch.float16, torch.bfloat16)


class _LayerNorm(torch.autograd.Function):
    r"""Layer normalisation of the rows of a :math:`(*, N)` view of the input (the normalised dimensions flattened).

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

    where :math:`\overline{\,\cdot\,}` is the mean over the :math:`N` normalised elements of a row. The row sums
    :math:`\sum_j \hat g_j = g\,w` and :math:`\sum_j \hat g_j \hat x_j = (g \odot \hat x)\,w` are matrix-vector
    products, and :math:`g \odot \hat x` also gives :math:`\nabla_w`. Saved: :math:`\hat x` (in place of the input:
    no more memory), the per-row :math:`r`, and ``w`` (flat, in the compute dtype).

    For float32 on the CPU both passes run as native kernels (:mod:`impl.kernels`), which save the input and the
    per-row mean and :math:`r`, and rebuild :math:`\hat x` in the backward pass.
    """

    @staticmethod
    def forward(
        ctx: Any, input: Tensor, norm_shape: tuple[int, ...], weight: Tensor | None, bias: Tensor | None, eps: float
    ) -> Tensor:
        n = math.prod(norm_shape)
        ctx.meta = (
            norm_shape,
            input.shape,
            input.dtype,
            None if weight is None else weight.dtype,
            None if bias is None else bias.dtype,
        )
        lib = usable(input, weight, bias) if input.numel() else None
        ctx.native = lib is not None
        if lib is not None:
            rows = input.numel() // n
            y = torch.empty_like(input)
            mean, rstd = input.new_empty(rows), input.new_empty(rows)
            lib.nnspec_layer_norm_fwd(
                input.data_ptr(),
                pointer(weight),
                pointer(bias),
                y.data_ptr(),
                mean.data_ptr(),
                rstd.data_ptr(),
                rows,
                n,
                eps,
                torch.get_num_threads(),
            )
            ctx.save_for_backward(input, mean, rstd, weight)
            return y
        # (*, N) with at least one leading dimension; the normalised dimension is the last one
        x = input if len(norm_shape) == 1 else input.flatten(input.dim() - len(norm_shape))
        if x.dim() == 1:
            x = x.unsqueeze(0)
        if x.dtype in _UPCAST:
            x = x.float()
        w = None if weight is None else _flat(weight, n, x.dtype)
        b = None if bias is None else _flat(bias, n, x.dtype)
        inv_n = 1.0 / max(n, 1)
        x_hat = torch.sub(x, x.sum(-1, keepdim=True), alpha=inv_n)  # centred, then normalised in place
        # biased variance from the 2-norm: one vectorised pass (torch.var_mean is far slower on CPU)
        norm = torch.linalg.vector_norm(x_hat, dim=-1, keepdim=True)  # (*, 1)
        rstd = torch.addcmul(scalar(eps, x.dtype, x.device), norm, norm, value=inv_n).rsqrt_()
        x_hat.mul_(rstd)
        if w is not None and b is not None:
            y = torch.addcmul(b, x_hat, w)
        elif w is not None:
            y = torch.mul(x_hat, w)
        elif b is not None:
            y = torch.add(x_hat, b)
        else:
            y = x_hat.clone()  # x_hat is saved: the caller may change the output in place
        ctx.save_for_backward(x_hat, rstd, w)
        if y.dtype != input.dtype:
            y = y.to(input.dtype)
        return y if y.shape == input.shape else y.view(input.shape)

    @staticmethod
    @once_differentiable_fast  # x_hat and rstd are constants to autograd: no double backward through them
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, None, Tensor | None, Tensor | None, None]:
        if not ctx.native:
            return _tensor_backward(ctx, grad_out, *ctx.saved_tensors)
        x, mean, rstd, weight = ctx.saved_tensors
        done = _native_backward(ctx, grad_out, x, mean, rstd, weight)
        if done is not None:
            return done
        # no kernel takes this upstream gradient (a tensor subclass, a transform): x_hat rebuilt, the formulas below
        x_hat = torch.sub(x.view(mean.numel(), -1), mean.unsqueeze(1)).mul_(rstd.unsqueeze(1))
        w = None if weight is None else weight.reshape(-1)
        return _tensor_backward(ctx, grad_out, x_hat, rstd.unsqueeze(1), w)


def _tensor_backward(
    ctx: Any, grad_out: Tensor, x_hat: Tensor, rstd: Tensor, w: Tensor | None
) -> tuple[Tensor | None, None, Tensor | None, Tensor | None, None]:
    """The backward pass in tensor ops, from ``x_hat`` (*, N), ``rstd`` (*, 1) and the flat weight."""
    norm_shape, input_shape, input_dtype, weight_dtype, bias_dtype = ctx.meta
    need_input, _, need_weight, need_bias, _ = ctx.needs_input_grad
    n = x_hat.shape[-1]
    g = grad_out if grad_out.shape == x_hat.shape else grad_out.reshape(x_hat.shape)  # (*, N)
    if g.dtype != x_hat.dtype:
        g = g.to(x_hat.dtype)
    rows = tuple(range(g.dim() - 1))  # the column sums run over every leading dimension
    grad_input = grad_weight = grad_bias = None
    if bias_dtype is not None and need_bias:
        grad_bias = _as_param_grad(g.sum(rows), bias_dtype, norm_shape)
    need_weight = need_weight and w is not None
    if not (need_input or need_weight):
        return None, None, None, grad_bias, None
    buf = torch.mul(g, x_hat)  # g * x_hat, then the input gradient
    if need_weight:
        grad_weight = _as_param_grad(buf.sum(rows), weight_dtype, norm_shape)
    if need_input:
        # grad = r (g_hat - s_g / N - x_hat s_x / N) with the row sums s_g = sum_j g_hat, s_x = sum_j g_hat x_hat,
        # computed as (s_g + x_hat s_x - N g_hat) (-r / N): each fused op then takes at most one (*, 1) column
        # (with two, the CPU kernel leaves its vectorised path)
        if w is not None:
            w_col = w.view(n, 1)
            s_x = torch.matmul(buf, w_col)
            torch.addcmul(torch.matmul(g, w_col), g, w, value=-n, out=buf)
        else:
            s_x = buf.sum(-1, keepdim=True)
            torch.add(g.sum(-1, keepdim=True), g, alpha=-n, out=buf)
        grad_input = buf.addcmul_(x_hat, s_x).mul_(rstd.mul(-1.0 / n if n else 0.0))
        if grad_input.dtype != input_dtype:
            grad_input = grad_input.to(input_dtype)
        if grad_input.shape != input_shape:
            grad_input = grad_input.view(input_shape)
    return grad_input, None, grad_weight, grad_bias, None


def _native_backward(
    ctx: Any, grad_out: Tensor, x: Tensor, mean: Tensor, rstd: Tensor, weight: Tensor | None
) -> tuple[Tensor | None, None, Tensor | None, Tensor | None, None] | None:
    """The backward pass as a native kernel, or None when the kernels take no such upstream gradient."""
    norm_shape, _, _, _, bias_dtype = ctx.meta
    need_input, _, need_weight, need_bias, _ = ctx.needs_input_grad
    g = grad_out.contiguous()
    lib = usable(g)
    if lib is None:
        return None
    grad_input = torch.empty_like(x) if need_input else None
    grad_weight = torch.empty_like(weight) if need_weight and weight is not None else None
    grad_bias = x.new_empty(norm_shape) if need_bias and bias_dtype is not None else None
    rows = mean.numel()
    if lib.nnspec_layer_norm_bwd(
        g.data_ptr(),
        x.data_ptr(),
        mean.data_ptr(),
        rstd.data_ptr(),
        pointer(weight),
        pointer(grad_input),
        pointer(grad_weight),
        pointer(grad_bias),
        rows,
        x.numel() // rows,
        torch.get_num_threads(),
    ):
        raise MemoryError("layer_norm backward: out of memory for the weight and bias gradients' partial sums")
    return grad_input, None, grad_weight, grad_bias, None


def _flat(param: Tensor, n: int, dtype: torch.dtype) -> Tensor:
    """A weight or bias as a flat (N,) vector in the compute dtype."""
    if param.dim() != 1:
        param = param.reshape(n)
    return param if param.dtype == dtype else param.to(dtype)


def _as_param_grad(grad: Tensor, dtype: torch.dtype, shape: tuple[int, ...]) -> Tensor:
    """A flat (N,) gradient in the parameter's dtype and shape."""
    if grad.dtype != dtype:
        grad = grad.to(dtype)
    return grad if len(shape) == 1 else grad.view(shape)


def check_norm_args(
    name: str, input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None, bias: Tensor | None
) -> tuple[int, ...]:
    """Validate the arguments of a normalisation over trailing dimensions (``layer_norm``, ``rms_norm``) as torch
    does; returns ``normalized_shape`` as a tuple of ints."""
    if isinstance(normalized_shape, int) or not isinstance(normalized_shape, (list, tuple, torch.Size)):
        raise TypeError(
            f"{name}(): argument 'normalized_shape' must be a list, tuple or torch.Size of ints, "
            f"not {type(normalized_shape).__name__}"
        )
    shape = tuple(int(s) for s in normalized_shape)
    _check_shapes(input, shape, weight, bias)
    if not input.is_floating_point():
        raise NotImplementedError(f"{name}(): expected a floating point input, but got {input.dtype}")
    return shape


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
    shape = check_norm_args("layer_norm", input, normalized_shape, weight, bias)
    return apply(_LayerNorm, input, shape, weight, bias, eps)
