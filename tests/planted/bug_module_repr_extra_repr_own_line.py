"""Module.__repr__ puts a lone one-line extra_repr on a line of its own: "Scale(\n  factor=2.0\n)".

torch prints it inline, "Scale(factor=2.0)", as every built-in layer shows (``Linear(in_features=...)``).
The semantics check's ``module_repr`` scenario must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Module"
CATCHES = ("semantics",)


class Module(torch.nn.Module):
    def __repr__(self) -> str:
        extra = self.extra_repr()
        if extra and "\n" not in extra and not self._modules:
            return f"{self._get_name()}(\n  {extra}\n)"  # the bug: torch keeps it inline
        return super().__repr__()


_ns = torch_like(nn={"Module": Module})
nn, optim = _ns.nn, _ns.optim
