"""AdamW.load_state_dict restores the moments but restarts every step counter at 0.

The run before saving is right; after loading, the bias corrections start over, so the resumed run departs from
torch's. The resume check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "AdamW"
CATCHES = ("resume",)


class AdamW(torch.optim.AdamW):
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        for state in self.state.values():
            if "step" in state:
                state["step"] = torch.zeros_like(state["step"])  # the bug: the counter is not restored


_ns = torch_like(optim={"AdamW": AdamW})
nn, optim = _ns.nn, _ns.optim
