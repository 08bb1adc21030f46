"""LinearLR accepts ``start_factor=0`` and other factors outside torch's ranges.

With a start factor of 0 the first ratio divides by zero a step later; torch rejects it at construction with a
ValueError. The errors check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "LinearLR"
CATCHES = ("errors",)


class LinearLR(torch.optim.lr_scheduler.LinearLR):
    def __init__(self, optimizer: Any, start_factor: float = 1.0 / 3, end_factor: float = 1.0, **kwargs: Any) -> None:
        # the bug: no range checks
        super().__init__(optimizer, min(max(start_factor, 1e-12), 1.0), min(max(end_factor, 0.0), 1.0), **kwargs)


_ns = torch_like(lr_scheduler={"LinearLR": LinearLR})
nn, optim = _ns.nn, _ns.optim
