"""scaled_dot_product_attention aligns ``is_causal`` bottom-right (query i sees keys up to i + S - L).

That is the rule for decoding with a key cache, but torch's is_causal is top-left aligned: query i sees keys 0..i.
Equal when L == S; forward must catch an example with fewer queries than keys.
"""

from __future__ import annotations

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
    **kwargs: Any,
) -> torch.Tensor:
    if is_causal and attn_mask is None:
        L, S = query.shape[-2], key.shape[-2]
        # the bug: offset by S - L (bottom-right); torch's is_causal has no offset (top-left)
        attn_mask = torch.ones(L, S, dtype=torch.bool).tril(diagonal=S - L)
        is_causal = False
    return _torch_sdpa(query, key, value, attn_mask, dropout_p, is_causal, scale=scale, **kwargs)


_ns = torch_like(functional={"scaled_dot_product_attention": scaled_dot_product_attention})
nn, optim = _ns.nn, _ns.optim
