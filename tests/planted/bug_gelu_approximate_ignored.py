"""GELU ignores ``approximate``: it always computes the exact erf form.

Right for the default; forward must catch ``GELU(approximate="tanh")``, whose values differ by up to about 5e-4.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "GELU"
CATCHES = ("forward", "backward", "dtype")


class GELU(torch.nn.GELU):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.gelu(input)  # the bug: self.approximate dropped


_ns = torch_like(nn={"GELU": GELU})
nn, optim = _ns.nn, _ns.optim
