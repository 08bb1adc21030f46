"""cross_entropy applies label smoothing to probability targets in place: the loss is right, but the caller's
targets come back smoothed (and a second call would smooth them again).

forward must catch the changed target, which needs no gradient, so autograd raises nothing.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "cross_entropy"
CATCHES = ("forward",)


def cross_entropy(input: torch.Tensor, target: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    smoothing = kwargs.pop("label_smoothing", 0.0)
    if target.is_floating_point() and smoothing > 0.0:
        classes = input.shape[1] if input.dim() > 1 else input.shape[0]
        target.mul_(1.0 - smoothing).add_(smoothing / classes)  # the bug: the caller's tensor is overwritten
        smoothing = 0.0
    return torch.nn.functional.cross_entropy(input, target, *args, label_smoothing=smoothing, **kwargs)


_ns = torch_like(functional={"cross_entropy": cross_entropy})
nn, optim = _ns.nn, _ns.optim
