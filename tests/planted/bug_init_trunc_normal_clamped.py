"""trunc_normal_ clamps normal values into [a, b] instead of redrawing them.

Every value lies inside [a, b], but the values that fell outside pile up on the bounds (and the spread is wider than
a truncated normal's). The init check's distribution tests must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "trunc_normal_"
CATCHES = ("init",)


def trunc_normal_(
    tensor: torch.Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Any = None,
) -> torch.Tensor:
    with torch.no_grad():
        return tensor.normal_(mean, std, generator=generator).clamp_(a, b)  # the bug: clamped, not truncated


_ns = torch_like(init={"trunc_normal_": trunc_normal_})
nn, optim = _ns.nn, _ns.optim
