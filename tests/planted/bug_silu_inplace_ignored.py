"""silu(x, inplace=True) returns a new tensor and leaves ``x`` as it was.

Every output is right; code that relies on the write (and frees memory by it) sees the old values. The forward
check, which compares the inputs after the call, must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "silu"
CATCHES = ("forward",)


def silu(input: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    return torch.nn.functional.silu(input)  # the bug: inplace is ignored


_ns = torch_like(functional={"silu": silu})
nn, optim = _ns.nn, _ns.optim
