"""ModuleDict lists its modules in sorted key order, not insertion order.

The state_dict keys then come in another order than torch's (``h`` before ``wte``), and a model whose forward
iterates over the dict runs its modules in the wrong order. The semantics check must catch it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "ModuleDict"
CATCHES = ("semantics",)


class ModuleDict(torch.nn.ModuleDict):
    def keys(self) -> Any:
        return sorted(self._modules)  # the bug: sorted

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


_ns = torch_like(nn={"ModuleDict": ModuleDict})
nn, optim = _ns.nn, _ns.optim
