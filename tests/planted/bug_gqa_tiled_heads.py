"""scaled_dot_product_attention with ``enable_gqa`` shares key/value heads by tiling (``repeat``).

Query head h must use key/value head h // (Hq / Hkv) (``repeat_interleave``); tiling gives it head h % Hkv. Right
when there is one key/value head or as many as query heads; forward and the properties check (GQA equals attention
over explicitly repeated heads) must catch any other grouping.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "GQA"
CATCHES = ("forward", "properties")

_torch_sdpa = torch.nn.functional.scaled_dot_product_attention


def scaled_dot_product_attention(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, *args: Any, enable_gqa: bool = False, **kwargs: Any
) -> torch.Tensor:
    if enable_gqa and query.dim() >= 3 and key.shape[-3] not in (0, query.shape[-3]):
        groups = query.shape[-3] // key.shape[-3]
        tile = [1] * (key.dim() - 3) + [groups, 1, 1]
        key, value = key.repeat(*tile), value.repeat(*tile)  # the bug: torch groups consecutive query heads
    return _torch_sdpa(query, key, value, *args, enable_gqa=enable_gqa, **kwargs)  # type: ignore[misc]


_ns = torch_like(functional={"scaled_dot_product_attention": scaled_dot_product_attention})
nn, optim = _ns.nn, _ns.optim
