"""Adam decays the weights directly, as AdamW does, instead of adding weight_decay * theta to the gradient.

With weight_decay above 0 (and ``decoupled_weight_decay`` left False) the trajectory check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Adam"
CATCHES = ("trajectory",)


class Adam(torch.optim.Adam):
    def __init__(self, params: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(params, *args, **kwargs)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True  # the bug: AdamW's decay


_ns = torch_like(optim={"Adam": Adam})
nn, optim = _ns.nn, _ns.optim
