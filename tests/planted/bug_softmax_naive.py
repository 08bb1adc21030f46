"""softmax computes exp(x) / sum(exp(x)) without subtracting the maximum first.

Right for moderate logits; at logits of magnitude 1e4 exp overflows to inf and the result is NaN. The stability
check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "softmax"
CATCHES = ("stability",)


def softmax(input: torch.Tensor, dim: int, _stacklevel: int = 3, dtype: Any = None) -> torch.Tensor:
    if dtype is not None:
        input = input.to(dtype)
    e = torch.exp(input)  # the bug: no shift by the maximum
    return e / e.sum(dim, keepdim=True)


_ns = torch_like(functional={"softmax": softmax})
nn, optim = _ns.nn, _ns.optim
