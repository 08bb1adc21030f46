"""Fake quantization (quantization-aware training), laid out like torch's top-level functions.

``fake_quantize_per_tensor_affine`` and ``fake_quantize_per_channel_affine`` round a float tensor to the grid an
integer type of ``[quant_min, quant_max]`` would hold, and return it as floats: the forward pass sees the
quantization error, the backward pass lets the gradient straight through where nothing was clamped (the
straight-through estimator). The page is spec/pages/fake_quantize.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from impl.nn.functional._autograd import apply, once_differentiable_fast

__all__ = ["fake_quantize_per_channel_affine", "fake_quantize_per_tensor_affine"]

_F32 = torch.float32


def _check_range(zero_points: Tensor | int, quant_min: int, quant_max: int) -> None:
    if quant_min > quant_max:
        raise RuntimeError(f"`quant_min` ({quant_min}) should be less than or equal to `quant_max` ({quant_max}).")
    low = int(zero_points.min()) if isinstance(zero_points, Tensor) else zero_points
    high = int(zero_points.max()) if isinstance(zero_points, Tensor) else zero_points
    if low < quant_min or high > quant_max:
        raise RuntimeError(
            f"`zero_point` must be between `quant_min` ({quant_min}) and `quant_max` ({quant_max}), got "
            f"{low if low < quant_min else high}."
        )


def _upcast(input: Tensor) -> Tensor:
    """Half-precision inputs are multiplied by the float32 ``1/scale`` in float32, as torch's kernels do."""
    return input.float() if input.dtype in (torch.float16, torch.bfloat16) else input


def _grid(x: Tensor, inv_scale: Tensor | float, zero_point: Tensor | int) -> Tensor:
    """``zero_point + round(x * inv_scale)``, rounding half to even, in x's precision (float32 for half inputs)."""
    return torch.round(x * inv_scale).add_(zero_point)


class _FakeQuantize(torch.autograd.Function):
    r"""The rounded values in the forward pass; in the backward pass the gradient where the grid value was in range.

    Derivation: :math:`y = (\text{clamp}(q, q_{min}, q_{max}) - z)\,s` with :math:`q = z + \text{round}(x/s)`.
    ``round`` has derivative 0 almost everywhere, which would stop training; the straight-through estimator takes
    it as 1, so :math:`dy/dx = 1` where :math:`q_{min} \le q \le q_{max}` and 0 where the clamp holds :math:`y`
    constant. Only that boolean mask is saved.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor, quantize: Callable[[Tensor], tuple[Tensor, Tensor]]) -> Tensor:
        out, mask = quantize(input)
        ctx.save_for_backward(mask)
        return out

    @staticmethod
    @once_differentiable_fast
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, None]:
        (mask,) = ctx.saved_tensors
        return grad_out * mask, None


def fake_quantize_per_tensor_affine(
    input: Tensor, scale: float | Tensor, zero_point: int | Tensor, quant_min: int, quant_max: int
) -> Tensor:
    r"""Quantize ``input`` to the integers ``[quant_min, quant_max]`` with one scale and zero point, and back.

    .. math::
        q = z + \text{round}(x \cdot (1/s)), \qquad
        y = (\text{clamp}(q, q_{min}, q_{max}) - z) \cdot s

    with ``round`` to the nearest integer, halves to even, and :math:`1/s` computed in float32 as torch does
    (``scale`` is a float32 number). The gradient with respect to ``input`` is the upstream gradient where
    :math:`q_{min} \le q \le q_{max}` and 0 where the value was clamped (the straight-through estimator).

    Args:
        input: floating point, any shape.
        scale: the grid's step, a float or a one-element tensor.
        zero_point: the integer that 0.0 maps to, an int or a one-element tensor; within
            ``[quant_min, quant_max]``.
        quant_min, quant_max: the integer range, ``quant_min <= quant_max`` (int8: -128 and 127).

    Shape:
        - Input: :math:`(*)`
        - Output: same shape and dtype as the input

    Raises:
        RuntimeError: for ``quant_min > quant_max`` or a ``zero_point`` outside the range.
        NotImplementedError: for an input that is not floating point (as torch).

    Example::

        >>> fake_quantize_per_tensor_affine(torch.tensor([0.05, 0.15, 0.25, 1.0]), 0.1, 0, -8, 7)
        tensor([0.0000, 0.2000, 0.2000, 0.7000])
    """
    if not input.is_floating_point():
        raise NotImplementedError(
            f"fake_quantize_per_tensor_affine: expected a floating point input, got {input.dtype}"
        )
    scale_value = float(scale.item()) if isinstance(scale, Tensor) else float(scale)
    zero_value = int(zero_point.item()) if isinstance(zero_point, Tensor) else int(zero_point)
    _check_range(zero_value, quant_min, quant_max)
    scale_f32 = torch.tensor(scale_value, dtype=_F32)
    step = float(scale_f32)
    inv_scale = float(torch.reciprocal(scale_f32))  # 1.0f / scale: a float32 number, exact as a Python float

    def quantize(input: Tensor) -> tuple[Tensor, Tensor]:
        q = _grid(_upcast(input), inv_scale, zero_value)
        mask = (q >= quant_min) & (q <= quant_max)
        # (clamped - z) * s in float32, as torch computes it whatever the input's dtype.
        return q.clamp_(quant_min, quant_max).sub_(zero_value).to(_F32).mul_(step).to(input.dtype), mask

    return apply(_FakeQuantize, input, quantize)


def fake_quantize_per_channel_affine(
    input: Tensor, scale: Tensor, zero_point: Tensor, axis: int, quant_min: int, quant_max: int
) -> Tensor:
    r"""Quantize ``input`` with one scale and zero point per slice along ``axis``, and back.

    As :func:`fake_quantize_per_tensor_affine`, with :math:`s_c` and :math:`z_c` those of the element's index
    :math:`c` along ``axis``: the usual weight quantization of a Linear layer is ``axis=0``, a scale per output
    feature. :math:`1/s_c` is computed in float32; the output :math:`(\text{clamp}(q) - z_c)\,s_c` in float64,
    then rounded to the input's dtype.

    Args:
        input: floating point, at least one dimension.
        scale: float32 tensor of shape ``(input.shape[axis],)``.
        zero_point: int32 tensor of the same shape, each within ``[quant_min, quant_max]``.
        axis: the channel dimension, ``0 <= axis < input.dim()``.
        quant_min, quant_max: the integer range, ``quant_min <= quant_max``.

    Raises:
        RuntimeError: for a bad range or zero point, an ``axis`` outside ``[0, input.dim())``, or ``scale`` and
            ``zero_point`` that do not match each other or ``input.shape[axis]``.
        NotImplementedError: for an input that is not floating point.

    Example::

        >>> w = torch.tensor([[0.26, -0.26], [0.26, -0.26]])
        >>> fake_quantize_per_channel_affine(w, torch.tensor([0.1, 0.2]), torch.tensor([0, 0], dtype=torch.int32),
        ...                                  0, -128, 127)
        tensor([[ 0.3000, -0.3000],
                [ 0.2000, -0.2000]])
    """
    if not input.is_floating_point():
        raise NotImplementedError(
            f"fake_quantize_per_channel_affine: expected a floating point input, got {input.dtype}"
        )
    if not 0 <= axis < input.dim():
        raise RuntimeError(f"`axis` must be between 0 and number of dimensions of input ({input.dim()}), got {axis}")
    if scale.shape != zero_point.shape:
        raise RuntimeError(
            f"scale and zero-point need to have the same dimensions, got {tuple(scale.shape)} and "
            f"{tuple(zero_point.shape)}"
        )
    if scale.dim() != 1 or scale.numel() != input.shape[axis]:
        raise RuntimeError(
            f"dimensions of scale and zero-point are not consistent with input tensor: {tuple(scale.shape)} for "
            f"{input.shape[axis]} channels along axis {axis}"
        )
    _check_range(zero_point, quant_min, quant_max)
    view = [1] * input.dim()
    view[axis] = -1
    scale_f32 = scale.detach().to(_F32).view(view)
    zero = zero_point.to(torch.int64).view(view)

    def quantize(input: Tensor) -> tuple[Tensor, Tensor]:
        q = _grid(_upcast(input), torch.reciprocal(scale_f32), zero)
        mask = (q >= quant_min) & (q <= quant_max)
        # (clamped - z) * s in float64 here (torch's per-channel kernel), then to the input's dtype.
        return (q.clamp_(quant_min, quant_max).sub_(zero).double() * scale_f32.double()).to(input.dtype), mask

    return apply(_FakeQuantize, input, quantize)
