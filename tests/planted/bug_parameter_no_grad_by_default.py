"""Parameter(data) does not require grad unless asked: its ``requires_grad`` default is False, torch's is True.

Parameters built the usual way get no gradient and never train. The semantics check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Parameter"
CATCHES = ("semantics",)


class Parameter(torch.nn.Parameter):
    def __new__(cls, data: torch.Tensor | None = None, requires_grad: bool = False) -> Any:
        return super().__new__(cls, data, requires_grad)  # the bug: torch's default is requires_grad=True


_ns = torch_like(nn={"Parameter": Parameter})
nn, optim = _ns.nn, _ns.optim
