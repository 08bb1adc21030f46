"""LambdaLR.load_state_dict restores everything but ``last_epoch``, so a resumed schedule starts over.

The run before saving is right; after loading, the factor is evaluated from epoch 0 again (a warmup repeats). The
resume check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "LambdaLR"
CATCHES = ("resume",)


class LambdaLR(torch.optim.lr_scheduler.LambdaLR):
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        epoch = self.last_epoch
        super().load_state_dict(state_dict)
        self.last_epoch = epoch  # the bug: the saved epoch is dropped


_ns = torch_like(lr_scheduler={"LambdaLR": LambdaLR})
nn, optim = _ns.nn, _ns.optim
