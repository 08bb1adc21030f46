"""``AdamW``: Adam with decoupled weight decay. The update itself is :class:`impl.optim.adam.Adam`'s."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from impl.optim.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), numerically matching torch's foreach AdamW.

    For each parameter :math:`\theta` with gradient :math:`g` (negated when ``maximize``), at step :math:`t`:

    .. math::
        \begin{aligned}
            \theta &\leftarrow \theta\,(1 - \gamma\lambda) \\
            m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
            v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
            \hat v &\leftarrow \max(\hat v, v) \text{ if amsgrad, else } v \\
            \theta &\leftarrow \theta - \frac{\gamma}{1 - \beta_1^t}\,
                \frac{m}{\sqrt{\hat v}/\sqrt{1 - \beta_2^t} + \epsilon}
        \end{aligned}

    with :math:`\gamma` = ``lr`` and :math:`\lambda` = ``weight_decay``: :class:`~impl.optim.adam.Adam` with
    ``decoupled_weight_decay=True`` and a default decay of 0.01. The state and its state_dict are Adam's, and
    interchangeable with torch's AdamW.

    Args:
        params (iterable): tensors, ``(name, tensor)`` pairs, or dicts defining parameter groups.
        lr (float): learning rate :math:`\gamma`. Default: 1e-3.
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)`, decay rates of the moment averages.
            Default: (0.9, 0.999).
        eps (float): added to the denominator for stability. Default: 1e-8.
        weight_decay (float): decoupled decay coefficient :math:`\lambda`. Default: 1e-2.
        amsgrad (bool): use the running maximum of :math:`v` (AMSGrad). Default: ``False``.
        maximize (bool): ascend the objective instead of descending. Default: ``False``.
        foreach, capturable, differentiable, fused: as for :class:`~impl.optim.adam.Adam`.

    Raises:
        ValueError, NotImplementedError: as :class:`~impl.optim.adam.Adam`.

    Example::

        >>> from impl.nn import Linear
        >>> model = Linear(8, 8)
        >>> opt = AdamW(model.parameters(), lr=6e-4, betas=(0.9, 0.95), weight_decay=0.1)
        >>> x = torch.randn(16, 8)
        >>> loss = model(x).square().mean()
        >>> loss.backward()
        >>> opt.step()
        >>> opt.zero_grad()
        >>> model(x).square().mean().item() < loss.item()  # one step downhill
        True
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            foreach=foreach,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
