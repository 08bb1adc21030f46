"""``LayerNorm``: layer normalisation with an optional learnable affine map."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from impl.nn import init
from impl.nn.functional.layer_norm import layer_norm
from impl.nn.module import Module
from impl.nn.parameter import Parameter

__all__ = ["LayerNorm"]


class LayerNorm(Module):
    r"""Apply Layer Normalization over a mini-batch of inputs.

    .. math::
        y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} * \gamma + \beta

    The mean and the biased variance are taken over the last ``len(normalized_shape)`` dimensions.

    Args:
        normalized_shape: the trailing shape to normalise over; an int means a single trailing dimension.
        eps: added to the variance for numerical stability. Default: ``1e-5``.
        elementwise_affine: learn a per-element :math:`\gamma` (ones) and :math:`\beta` (zeros). Default: ``True``.
        bias: learn :math:`\beta` (only relevant with ``elementwise_affine=True``). Default: ``True``.
        device: device of the parameters. Default: torch's default device.
        dtype: dtype of the parameters. Default: torch's default dtype.

    Attributes:
        weight: :math:`\gamma`, shape ``normalized_shape``, or ``None``.
        bias: :math:`\beta`, shape ``normalized_shape``, or ``None``.

    Shape:
        - Input: :math:`(N, *)`
        - Output: :math:`(N, *)` (same shape as input)

    Example::

        >>> ln = LayerNorm(32)
        >>> ln(torch.randn(4, 10, 32)).shape
        torch.Size([4, 10, 32])
    """

    normalized_shape: tuple[int, ...]
    eps: float
    elementwise_affine: bool

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if self.elementwise_affine:
            self.weight = Parameter(torch.empty(self.normalized_shape, **factory_kwargs))  # type: ignore[arg-type]
            if bias:
                self.bias = Parameter(torch.empty(self.normalized_shape, **factory_kwargs))  # type: ignore[arg-type]
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Reset :math:`\\gamma` to ones and :math:`\\beta` to zeros."""
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )
