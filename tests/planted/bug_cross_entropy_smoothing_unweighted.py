"""CrossEntropyLoss leaves the class weights out of the label-smoothing term.

With class-index targets, ``weight`` and ``label_smoothing`` > 0, torch weighs each class's share of the smoothed
loss by that class's weight; here only the target's term is weighted. Right without weights or without smoothing;
forward must catch the combination.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "CrossEntropyLoss"
CATCHES = ("forward", "backward", "dtype")

_F = torch.nn.functional


class CrossEntropyLoss(torch.nn.CrossEntropyLoss):
    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        eps, weight = self.label_smoothing, self.weight
        if weight is None or eps == 0.0 or target.is_floating_point():
            return super().forward(input, target)
        common: dict[str, Any] = {"ignore_index": self.ignore_index, "reduction": "none"}
        nll = _F.cross_entropy(input, target, weight=weight, **common)  # w[y] * -log p[y]
        smooth = _F.cross_entropy(input, target, label_smoothing=1.0, **common)  # the bug: unweighted mean over C
        kept = target != self.ignore_index
        losses = (1 - eps) * nll + eps * smooth * kept
        if self.reduction == "none":
            return losses
        if self.reduction == "sum":
            return losses.sum()
        safe = target.masked_fill(~kept, 0)
        return losses.sum() / (weight[safe] * kept).sum()


_ns = torch_like(nn={"CrossEntropyLoss": CrossEntropyLoss})
nn, optim = _ns.nn, _ns.optim
