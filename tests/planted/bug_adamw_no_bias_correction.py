"""AdamW without bias correction: the moments are used as they are, not divided by 1 - beta^t.

Early steps are off (by up to 1 / (1 - beta1) = 10 times with the default betas); the trajectory check must catch it.
"""

from __future__ import annotations

from tests.planted.adamw_loop import LoopAdamW
from tests.planted.torchlike import torch_like

COMPONENT = "AdamW"
CATCHES = ("trajectory",)


class AdamW(LoopAdamW):
    def corrections(self, t: float, beta1: float, beta2: float) -> tuple[float, float]:
        return 1.0, 1.0  # the bug: torch uses 1 - beta1**t and 1 - beta2**t


_ns = torch_like(optim={"AdamW": AdamW})
nn, optim = _ns.nn, _ns.optim
