"""AdamW.state_dict keys the per-parameter state by ``id(param)`` instead of the parameter's index.

Saving and loading in the same process works; but the keys mean nothing in another process, and torch's
optimizers cannot map them to parameters. The resume check must catch the layout.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "AdamW"
CATCHES = ("resume",)


class AdamW(torch.optim.AdamW):
    def state_dict(self) -> dict[str, Any]:
        saved = super().state_dict()
        params = [p for group in self.param_groups for p in group["params"]]
        saved["state"] = {id(params[i]): s for i, s in saved["state"].items()}  # the bug: ids, not indices
        return saved

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        params = [p for group in self.param_groups for p in group["params"]]
        index = {id(p): i for i, p in enumerate(params)}
        state = {index.get(k, k): v for k, v in state_dict["state"].items()}
        super().load_state_dict({**state_dict, "state": state})


_ns = torch_like(optim={"AdamW": AdamW})
nn, optim = _ns.nn, _ns.optim
