"""embedding ignores ``padding_idx``: the padding row receives a gradient like any other row.

The forward value is the same (padding_idx only stops the gradient); backward must catch the padding row's
gradient, which torch keeps at zero.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "embedding"
CATCHES = ("backward",)


def embedding(
    input: torch.Tensor, weight: torch.Tensor, padding_idx: int | None = None, *args: Any, **kwargs: Any
) -> torch.Tensor:
    if padding_idx is not None and not -weight.shape[0] <= padding_idx < weight.shape[0]:
        raise ValueError(f"padding_idx {padding_idx} must be within num_embeddings {weight.shape[0]}")
    return torch.nn.functional.embedding(input, weight, None, *args, **kwargs)  # the bug: padding_idx dropped


_ns = torch_like(functional={"embedding": embedding})
nn, optim = _ns.nn, _ns.optim
