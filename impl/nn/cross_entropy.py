"""``CrossEntropyLoss``: the cross entropy criterion between logits and targets."""

from __future__ import annotations

from torch import Tensor

from impl.nn.functional.cross_entropy import cross_entropy, legacy_reduction
from impl.nn.module import Module

__all__ = ["CrossEntropyLoss"]


class CrossEntropyLoss(Module):
    r"""The cross entropy between unnormalised logits and class indices or class probabilities.

    For class-index targets, with class weights :math:`w` and label smoothing :math:`\varepsilon`:

    .. math::
        \ell_n = (1-\varepsilon)\, w_{y_n} \big(-\log p_{n,y_n}\big)
                 + \frac{\varepsilon}{C} \sum_c w_c \big(-\log p_{n,c}\big),
        \qquad p_n = \mathrm{softmax}(x_n),

    ``0`` where :math:`y_n` is ``ignore_index``; ``'mean'`` divides by :math:`\sum_n w_{y_n}` over the non-ignored
    targets. See :func:`impl.nn.functional.cross_entropy` for probability targets.

    Args:
        weight: optional per-class rescaling weight of shape :math:`(C)`, registered as a buffer.
        size_average: deprecated (see ``reduction``).
        ignore_index: a target value that is ignored and does not contribute to the gradient. Default: ``-100``.
        reduce: deprecated (see ``reduction``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        label_smoothing: amount of smoothing in :math:`[0, 1]`. Default: ``0.0``.

    Shape:
        - Input: :math:`(C)`, :math:`(N, C)` or :math:`(N, C, d_1, \ldots, d_K)`
        - Target: class indices :math:`()`, :math:`(N)` or :math:`(N, d_1, \ldots, d_K)`, or probabilities of
          the input's shape
        - Output: scalar; with ``reduction='none'`` the target's batch shape

    Example::

        >>> loss = CrossEntropyLoss()
        >>> logits = torch.randn(3, 5, requires_grad=True)
        >>> loss(logits, torch.tensor([1, 0, 4])).backward()
        >>> logits.grad.shape, torch.allclose(logits.grad.sum(1), torch.zeros(3), atol=1e-6)  # rows sum to zero
        (torch.Size([3, 5]), True)
    """

    ignore_index: int
    label_smoothing: float
    reduction: str
    weight: Tensor | None

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = legacy_reduction(size_average, reduce)
        else:
            self.reduction = reduction
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )
