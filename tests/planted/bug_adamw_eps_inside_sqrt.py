"""AdamW adds eps under the square root: sqrt(v_hat + eps) instead of sqrt(v_hat) + eps.

Gradients much larger than sqrt(eps) hardly notice; small ones (the examples go down to 1e-6) take far smaller
steps. The trajectory check must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.adamw_loop import LoopAdamW
from tests.planted.torchlike import torch_like

COMPONENT = "AdamW"
CATCHES = ("trajectory",)


class AdamW(LoopAdamW):
    def denominator(self, v: torch.Tensor, correction2: float, eps: float) -> torch.Tensor:
        return torch.sqrt(v / correction2 + eps)  # the bug: torch adds eps after the square root


_ns = torch_like(optim={"AdamW": AdamW})
nn, optim = _ns.nn, _ns.optim
