"""``Softmax``: rescale a dimension into a probability distribution."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from impl.nn.functional.softmax import softmax
from impl.nn.module import Module

__all__ = ["Softmax"]


class Softmax(Module):
    r"""Apply :math:`\text{Softmax}(x_i) = \frac{\exp(x_i)}{\sum_j \exp(x_j)}` along ``dim``.

    Args:
        dim: the dimension along which the values sum to 1. ``None`` (deprecated) picks 0 for 0-, 1- and
            3-dimensional inputs and 1 otherwise, with a warning.

    Shape:
        - Input: :math:`(*)`
        - Output: :math:`(*)` (same shape as input), values in :math:`[0, 1]`

    Example::

        >>> m = Softmax(dim=1)
        >>> m(torch.zeros(2, 4))
        tensor([[0.2500, 0.2500, 0.2500, 0.2500],
                [0.2500, 0.2500, 0.2500, 0.2500]])
        >>> torch.allclose(m(torch.randn(2, 3)).sum(1), torch.ones(2))  # each row sums to one
        True
    """

    dim: int | None

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if not hasattr(self, "dim"):
            self.dim = None

    def forward(self, input: Tensor) -> Tensor:
        return softmax(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
