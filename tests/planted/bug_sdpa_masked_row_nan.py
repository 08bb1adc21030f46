"""scaled_dot_product_attention as a plain softmax over masked scores: a fully masked row comes out NaN.

torch returns 0 for a query that may attend to no key; softmax over a row of -inf gives NaN. Everything else is
the textbook formula. forward must catch it on a boolean mask that masks a whole row.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "scaled_dot_product_attention"
CATCHES = ("forward", "backward", "dtype")

_torch_sdpa = torch.nn.functional.scaled_dot_product_attention


def scaled_dot_product_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    **kwargs: Any,
) -> torch.Tensor:
    if dropout_p or enable_gqa or kwargs:
        return _torch_sdpa(
            query, key, value, attn_mask, dropout_p, is_causal, scale=scale, enable_gqa=enable_gqa, **kwargs
        )
    L, S = query.shape[-2], key.shape[-2]
    scores = query @ key.transpose(-2, -1) * (1 / math.sqrt(query.shape[-1]) if scale is None else scale)
    if is_causal:
        scores = scores.masked_fill(~torch.ones(L, S, dtype=torch.bool).tril(), -math.inf)
    if attn_mask is not None:
        is_bool = attn_mask.dtype == torch.bool
        scores = scores.masked_fill(~attn_mask, -math.inf) if is_bool else scores + attn_mask
    return torch.softmax(scores, -1) @ value  # the bug: a row of -inf gives NaN, torch gives 0


_ns = torch_like(functional={"scaled_dot_product_attention": scaled_dot_product_attention})
nn, optim = _ns.nn, _ns.optim
