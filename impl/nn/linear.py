"""``Linear``: a fully connected layer."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from impl.nn import init
from impl.nn.functional.linear import linear
from impl.nn.module import Module
from impl.nn.parameter import Parameter

__all__ = ["Linear"]


class Linear(Module):
    r"""Apply an affine linear transformation to the incoming data: :math:`y = xA^T + b`.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if ``False``, the layer will not learn an additive bias. Default: ``True``.
        device: device of the parameters. Default: torch's default device.
        dtype: dtype of the parameters. Default: torch's default dtype.

    Shape:
        - Input: :math:`(*, H_{in})` where :math:`H_{in} = \text{in\_features}`
        - Output: :math:`(*, H_{out})` where :math:`H_{out} = \text{out\_features}`

    Attributes:
        weight: the learnable weights of shape :math:`(\text{out\_features}, \text{in\_features})`, initialised
            from :math:`\mathcal{U}(-\sqrt{k}, \sqrt{k})` with :math:`k = 1/\text{in\_features}`
            (``kaiming_uniform_`` with ``a=sqrt(5)``).
        bias: the learnable bias of shape :math:`(\text{out\_features})`, initialised from
            :math:`\mathcal{U}(-\sqrt{k}, \sqrt{k})`; ``None`` when ``bias=False``.

    Example::

        >>> m = Linear(20, 30)
        >>> m(torch.randn(128, 20)).shape
        torch.Size([128, 30])
    """

    in_features: int
    out_features: int
    weight: Tensor

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(torch.empty((out_features, in_features), **factory_kwargs))  # type: ignore[arg-type]
        if bias:
            self.bias = Parameter(torch.empty(out_features, **factory_kwargs))  # type: ignore[arg-type]
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw the weight and bias from torch's default distributions for this layer."""
        # a=sqrt(5) makes kaiming_uniform_ draw from U(-1/sqrt(in_features), 1/sqrt(in_features)).
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1]
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
