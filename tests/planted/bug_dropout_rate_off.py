"""dropout draws its mask from 6-bit random numbers: it drops when a random level in 0..63 is below round(64 p).

Kept elements are scaled by 1/(1-p), the mask is fresh on every call and the gradient is masked: only the drop rate
is off, by up to 1/128 (p = 0.1 drops at 6/64 = 0.094), about 7 standard deviations over 1e5 elements. The
random_mask check's binomial test on the number dropped must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "dropout"
CATCHES = ("random_mask",)


def dropout(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    level = torch.randint(0, 64, input.shape, device=input.device)
    keep = level >= round(64 * p)  # the bug: p rounded to a multiple of 1/64
    return input * keep / (1 - p)


_ns = torch_like(functional={"dropout": dropout})
nn, optim = _ns.nn, _ns.optim
