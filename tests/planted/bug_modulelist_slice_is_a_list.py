"""ModuleList slicing returns a plain Python list.

Iteration still works, but the slice is no module: it cannot be registered, moved with ``to`` or saved, and
``isinstance(h[1:], nn.ModuleList)`` is False. The semantics check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "ModuleList"
CATCHES = ("semantics",)


class ModuleList(torch.nn.ModuleList):
    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, slice):
            return list(self._modules.values())[idx]  # the bug: not a ModuleList
        return super().__getitem__(idx)


_ns = torch_like(nn={"ModuleList": ModuleList})
nn, optim = _ns.nn, _ns.optim
