"""Functions under other names than torch's, written from their formulas."""

from __future__ import annotations

import torch


def affine(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``y = x W^T + b`` as an explicit sum over the input features.

    Args:
        x: input, shape (*, in_features).
        weight: shape (out_features, in_features).
        bias: shape (out_features,), or None.
    """
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(f"affine: x has {x.shape[-1]} features, weight expects {weight.shape[-1]}")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(f"affine: bias has shape {tuple(bias.shape)}, expected ({weight.shape[0]},)")
    y = torch.einsum("...i,oi->...o", x, weight)  # (*, out_features)
    return y if bias is None else y + bias
