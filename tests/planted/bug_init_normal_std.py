"""normal_ draws with a standard deviation 10% too large (std * 1.1).

The mean is right and the values look normal; the init check (KS distance and variance test on ~1e5 values) must
catch the spread.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "normal_"
CATCHES = ("init",)


def normal_(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> torch.Tensor:
    with torch.no_grad():
        return tensor.normal_(mean, std * 1.1, generator=generator)  # the bug: 10% too wide


_ns = torch_like(init={"normal_": normal_})
nn, optim = _ns.nn, _ns.optim
