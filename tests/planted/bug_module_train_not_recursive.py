"""Module.train() sets its own flag only; children keep theirs, so model.eval() leaves dropout layers training.

Everything else is torch's nn.Module; the semantics check (its scenarios subclass the implementation's
Module as user code does) must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Module"
CATCHES = ("semantics",)


class Module(torch.nn.Module):
    def train(self, mode: bool = True) -> Module:
        self.training = mode  # the bug: torch also calls train(mode) on every child
        return self


_ns = torch_like(nn={"Module": Module})
nn, optim = _ns.nn, _ns.optim
