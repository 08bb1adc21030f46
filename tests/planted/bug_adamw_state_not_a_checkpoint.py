"""AdamW.state_dict stores each group's hyperparameters as an object of its own class.

The values are right, but ``torch.load(weights_only=True)``, the safe way to read a checkpoint, refuses such an
object. The resume check must catch that the state_dict does not survive the trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "AdamW"
CATCHES = ("resume",)


@dataclass
class Hyper:
    lr: float
    weight_decay: float


class AdamW(torch.optim.AdamW):
    def state_dict(self) -> dict[str, Any]:
        saved = super().state_dict()
        for group in saved["param_groups"]:
            group["hyper"] = Hyper(group["lr"], group["weight_decay"])  # the bug: not a plain value
        return saved


_ns = torch_like(optim={"AdamW": AdamW})
nn, optim = _ns.nn, _ns.optim
