"""``GELU``: the Gaussian Error Linear Unit activation."""

from __future__ import annotations

from torch import Tensor

from impl.nn.functional.gelu import gelu
from impl.nn.module import Module

__all__ = ["GELU"]


class GELU(Module):
    r"""Apply the Gaussian Error Linear Units function :math:`\text{GELU}(x) = x \, \Phi(x)` element-wise.

    With ``approximate='tanh'``:
    :math:`\text{GELU}(x) = 0.5\,x\,(1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715\,x^3)))`.

    Args:
        approximate: ``'none'`` | ``'tanh'``, the form of the function. Default: ``'none'``.

    Shape:
        - Input: :math:`(*)`
        - Output: :math:`(*)` (same shape as input)

    Example::

        >>> m = GELU()
        >>> m(torch.randn(2)).shape
        torch.Size([2])
    """

    approximate: str

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"
