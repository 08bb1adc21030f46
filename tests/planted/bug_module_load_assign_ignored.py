"""Module.load_state_dict ignores assign=True and copies into the existing tensors, as assign=False does.

The module then keeps its own Parameter objects and float32 dtype instead of taking the checkpoint's tensors
(the point of assign=True: loading into a model built on the meta device, or without a copy). The semantics
check's ``load_state_dict_assign`` scenario must catch it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Module"
CATCHES = ("semantics",)


class Module(torch.nn.Module):
    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        return super().load_state_dict(state_dict, strict=strict)  # the bug: assign is dropped


_ns = torch_like(nn={"Module": Module})
nn, optim = _ns.nn, _ns.optim
