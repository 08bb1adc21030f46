"""LayerNorm's default eps is 1e-6; torch's is 1e-5.

Right whenever eps is passed; a LayerNorm built without eps normalizes slightly differently (visible in float64
and for rows of small variance). forward must catch it on an example that leaves eps out.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "LayerNorm"
CATCHES = ("forward", "backward", "dtype", "stability")


class LayerNorm(torch.nn.LayerNorm):
    def __init__(self, normalized_shape: Any, eps: float = 1e-6, *args: Any, **kwargs: Any) -> None:
        super().__init__(normalized_shape, eps, *args, **kwargs)


_ns = torch_like(nn={"LayerNorm": LayerNorm})
nn, optim = _ns.nn, _ns.optim
