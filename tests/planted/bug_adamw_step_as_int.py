"""AdamW keeps its step counter as a Python int; torch keeps a 0-dim float tensor.

The trajectory is right; a checkpoint is laid out differently from torch's, which the resume check must catch.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.adamw_loop import LoopAdamW
from tests.planted.torchlike import torch_like

COMPONENT = "AdamW"
CATCHES = ("resume",)


class AdamW(LoopAdamW):
    def _init_state(self, p: torch.Tensor, amsgrad: bool) -> dict[str, Any]:
        fresh = not self.state[p]
        state = super()._init_state(p, amsgrad)
        if fresh:
            state["step"] = 0  # the bug: torch's step is torch.tensor(0.0)
        return state


_ns = torch_like(optim={"AdamW": AdamW})
nn, optim = _ns.nn, _ns.optim
