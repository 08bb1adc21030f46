"""Linear.load_state_dict accepts any state_dict, reports nothing missing, and loads nothing.

The state_dict check must see that the weights after loading differ from the loaded ones (forward, which loads
torch's weights first, sees different outputs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Linear"
CATCHES = ("state_dict", "forward")


class Linear(torch.nn.Linear):
    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        return torch.nn.modules.module._IncompatibleKeys([], [])


_ns = torch_like(nn={"Linear": Linear})
nn, optim = _ns.nn, _ns.optim
