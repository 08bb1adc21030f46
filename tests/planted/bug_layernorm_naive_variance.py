"""layer_norm computes the variance as E[x^2] - E[x]^2 in the input's dtype.

Exact in arithmetic, but the two terms cancel: for rows whose spread is tiny next to their mean, the variance loses
every significant digit (and may come out negative). Ordinary inputs give correct results; the stability check
must catch it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "layer_norm"
CATCHES = ("stability",)


def layer_norm(
    input: torch.Tensor,
    normalized_shape: Sequence[int],
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    if tuple(input.shape[input.dim() - len(normalized_shape) :]) != tuple(normalized_shape):
        raise RuntimeError(f"input shape {tuple(input.shape)} does not end in {tuple(normalized_shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != tuple(normalized_shape):
            raise RuntimeError(f"{name} shape {tuple(t.shape)} differs from {tuple(normalized_shape)}")
    dims = tuple(range(-len(normalized_shape), 0))
    mean = input.mean(dims, keepdim=True)
    var = (input * input).mean(dims, keepdim=True) - mean * mean  # the bug: cancels catastrophically
    out = (input - mean) * torch.rsqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


_ns = torch_like(functional={"layer_norm": layer_norm})
nn, optim = _ns.nn, _ns.optim
