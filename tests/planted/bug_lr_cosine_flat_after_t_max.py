"""CosineAnnealingLR stays at eta_min once T_max steps have passed.

A common reading of "anneal over T_max steps", but torch's cosine carries on past T_max: the learning rate climbs
back towards its initial value over the next T_max steps. The trajectory check must catch it.
"""

from __future__ import annotations

import math

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "CosineAnnealingLR"
CATCHES = ("trajectory",)


class CosineAnnealingLR(torch.optim.lr_scheduler.CosineAnnealingLR):
    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self._is_initial:
            return [group["lr"] for group in self.optimizer.param_groups]
        t = min(self.last_epoch, self.T_max)  # the bug: flat after T_max
        return [
            self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2
            for base in self.base_lrs
        ]


_ns = torch_like(lr_scheduler={"CosineAnnealingLR": CosineAnnealingLR})
nn, optim = _ns.nn, _ns.optim
