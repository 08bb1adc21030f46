"""Module.load_state_dict drops keys the module does not have before loading: unexpected keys are never reported.

Everything else is torch's nn.Module; the semantics check (its scenarios subclass the implementation's
Module as user code does) must catch it.
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
        own = self.state_dict()
        kept = {k: v for k, v in state_dict.items() if k in own}  # the bug: unexpected keys silently dropped
        return super().load_state_dict(kept, strict=strict, assign=assign)


_ns = torch_like(nn={"Module": Module})
nn, optim = _ns.nn, _ns.optim
