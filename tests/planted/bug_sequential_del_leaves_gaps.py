"""Sequential ``del seq[i]`` removes the child but does not renumber the ones after it.

The children are then named 0, 2, 3: a checkpoint written after the edit has keys torch's model lacks. The
semantics check must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Sequential"
CATCHES = ("semantics",)


class Sequential(torch.nn.Sequential):
    def __delitem__(self, idx: int | slice) -> None:
        if isinstance(idx, slice):
            super().__delitem__(idx)
            return
        del self._modules[list(self._modules)[idx]]  # the bug: no renumbering


_ns = torch_like(nn={"Sequential": Sequential})
nn, optim = _ns.nn, _ns.optim
