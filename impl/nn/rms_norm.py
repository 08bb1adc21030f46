"""``RMSNorm``: root-mean-square layer normalisation with a learnable per-element scale."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from impl.nn import init
from impl.nn.functional.rms_norm import rms_norm
from impl.nn.module import Module
from impl.nn.parameter import Parameter

__all__ = ["RMSNorm"]


class RMSNorm(Module):
    r"""Applies Root Mean Square Layer Normalization over the trailing dimensions of the input.

    .. math::
        y_i = \frac{x_i}{\mathrm{RMS}(x)} * \gamma_i, \quad
        \text{where} \quad \mathrm{RMS}(x) = \sqrt{\epsilon + \frac{1}{n} \sum_{i=1}^{n} x_i^2}

    The RMS is taken over the last ``len(normalized_shape)`` dimensions. :math:`\gamma` is a learnable scale of
    shape ``normalized_shape`` (initialised to ones) when ``elementwise_affine`` is ``True``. There is no bias.

    Args:
        normalized_shape: the trailing shape to normalise over; an int means a single last dimension.
        eps: added to the mean square. Default: ``None``, the machine epsilon of the computation type
            (``torch.finfo(torch.float32).eps`` for float32 and half inputs, float64's for float64).
        elementwise_affine: whether to learn :math:`\gamma`. Default: ``True``.
        device: device of the parameter.
        dtype: dtype of the parameter.

    Shape:
        - Input: :math:`(N, *)`
        - Output: :math:`(N, *)` (same shape as input)

    Example::

        >>> norm = RMSNorm(64)
        >>> norm(torch.randn(4, 10, 64)).shape
        torch.Size([4, 10, 64])
    """

    normalized_shape: tuple[int, ...]
    eps: float | None
    elementwise_affine: bool

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            self.normalized_shape = (int(normalized_shape),)
        else:
            self.normalized_shape = tuple(int(s) for s in normalized_shape)  # type: ignore[union-attr]
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(torch.empty(self.normalized_shape, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Set :math:`\\gamma` to ones."""
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
