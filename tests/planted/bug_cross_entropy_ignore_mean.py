"""cross_entropy's mean divides by the number of targets, ignored ones included.

torch divides by the number of targets that are not ``ignore_index`` (by their summed class weights, with
weights). Right whenever nothing is ignored; forward must catch a mean over targets some of which are ignored.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "cross_entropy"
CATCHES = ("forward", "backward", "dtype")

_F = torch.nn.functional


def cross_entropy(input: torch.Tensor, target: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    ignore = kwargs.get("ignore_index", -100)
    weight = kwargs.get("weight")
    if args or kwargs.get("reduction", "mean") != "mean" or target.is_floating_point():
        return _F.cross_entropy(input, target, *args, **kwargs)
    ignored = target == ignore
    if not bool(ignored.any()):
        return _F.cross_entropy(input, target, **kwargs)
    losses = _F.cross_entropy(input, target, **{**kwargs, "reduction": "none"})  # ignored targets give 0
    # the bug: the denominator counts the ignored targets too
    count = target.numel() if weight is None else weight[target.masked_fill(ignored, 0)].sum()
    return losses.sum() / count


_ns = torch_like(functional={"cross_entropy": cross_entropy})
nn, optim = _ns.nn, _ns.optim
