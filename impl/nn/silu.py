"""``SiLU``: the Sigmoid Linear Unit activation."""

from __future__ import annotations

from torch import Tensor

from impl.nn.functional.silu import silu
from impl.nn.module import Module

__all__ = ["SiLU"]


class SiLU(Module):
    r"""Apply the Sigmoid Linear Unit :math:`\text{SiLU}(x) = x\,\sigma(x)` element-wise (also called swish).

    Args:
        inplace: overwrite the input with the result. Default: ``False``.

    Shape:
        - Input: :math:`(*)`
        - Output: :math:`(*)` (same shape as input)

    Example::

        >>> m = SiLU()
        >>> m(torch.tensor([-2.0, 2.0]))
        tensor([-0.2384,  1.7616])
    """

    inplace: bool

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return silu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""
