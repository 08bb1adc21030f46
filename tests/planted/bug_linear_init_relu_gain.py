"""Linear initializes its weight with ``kaiming_uniform_(a=0)`` (ReLU gain): bound sqrt(6/fan_in), not 1/sqrt(fan_in).

Values after loading torch's weights are right; only the init statistics are off (weights about 2.45 times wider),
which the init check must catch.
"""

from __future__ import annotations

import math

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Linear"
CATCHES = ("init",)


class Linear(torch.nn.Linear):
    def reset_parameters(self) -> None:
        torch.nn.init.kaiming_uniform_(self.weight, a=0.0)
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            torch.nn.init.uniform_(self.bias, -bound, bound)


_ns = torch_like(nn={"Linear": Linear})
nn, optim = _ns.nn, _ns.optim
