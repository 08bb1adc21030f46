"""Module.zero_grad() fills gradients with zeros instead of setting them to None (the default set_to_none=True).

Everything else is torch's nn.Module; the semantics check (its scenarios subclass the implementation's
Module as user code does) must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Module"
CATCHES = ("semantics",)


class Module(torch.nn.Module):
    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is not None:  # the bug: set_to_none is ignored
                p.grad.detach_()
                p.grad.zero_()


_ns = torch_like(nn={"Module": Module})
nn, optim = _ns.nn, _ns.optim
