"""kaiming_normal_ uses fan_out where ``mode="fan_in"`` (the default) asks for fan_in: the fans are swapped.

Square weights are unaffected; for any other shape the standard deviation is off by sqrt(fan_in / fan_out). The
init check must catch it on a non-square example.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "kaiming_normal_"
CATCHES = ("init",)


def kaiming_normal_(
    tensor: torch.Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Any = None,
) -> torch.Tensor:
    swapped = {"fan_in": "fan_out", "fan_out": "fan_in"}.get(mode, mode)  # the bug
    return torch.nn.init.kaiming_normal_(tensor, a, swapped, nonlinearity, generator)  # type: ignore[arg-type]


_ns = torch_like(init={"kaiming_normal_": kaiming_normal_})
nn, optim = _ns.nn, _ns.optim
