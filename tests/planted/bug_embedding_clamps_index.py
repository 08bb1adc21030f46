"""embedding clamps out-of-range indices into [0, num_embeddings - 1] instead of raising.

Valid indices give the right rows; the errors check must catch that index num_embeddings and negative indices
are silently mapped to the last and the first row.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "embedding"
CATCHES = ("errors",)


def embedding(input: torch.Tensor, weight: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    if not input.is_floating_point():
        input = input.clamp(0, weight.shape[0] - 1)  # the bug: bad indices silently clamped
    return torch.nn.functional.embedding(input, weight, *args, **kwargs)


_ns = torch_like(functional={"embedding": embedding})
nn, optim = _ns.nn, _ns.optim
