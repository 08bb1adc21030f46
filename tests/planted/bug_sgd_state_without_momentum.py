"""SGD's state_dict leaves the momentum buffers out.

Training is right; a run resumed from a checkpoint restarts its momentum from the next gradient, so it departs
from torch's. The resume check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "SGD"
CATCHES = ("resume",)


class SGD(torch.optim.SGD):
    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["state"] = {}  # the bug: the buffers are not saved
        return state


_ns = torch_like(optim={"SGD": SGD})
nn, optim = _ns.nn, _ns.optim
