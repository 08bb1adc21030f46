"""``Dropout``: random zeroing of activations during training."""

from __future__ import annotations

from torch import Tensor

from impl.nn.functional.dropout import dropout
from impl.nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    r"""During training, randomly zero elements of the input with probability ``p`` and scale the rest by
    :math:`\frac{1}{1-p}`; in evaluation mode, return the input unchanged.

    Draws come from torch's default generator (``torch.manual_seed`` makes them reproducible).

    Args:
        p: probability of an element to be zeroed. Default: ``0.5``.
        inplace: if ``True``, do the operation in place. Default: ``False``.

    Shape:
        - Input: :math:`(*)`
        - Output: :math:`(*)` (same shape as input)

    Example::

        >>> m = Dropout(p=0.2)
        >>> m(torch.randn(20, 16)).shape
        torch.Size([20, 16])
    """

    p: float
    inplace: bool

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
