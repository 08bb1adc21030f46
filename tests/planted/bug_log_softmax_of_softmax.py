"""log_softmax is computed as log(softmax(x)).

Equal in arithmetic; but a probability that underflows to 0 gives -inf where torch gives a finite large negative
number (and the gradient turns NaN). The stability check (logits of magnitude 1e4) must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "log_softmax"
CATCHES = ("stability",)


def log_softmax(input: torch.Tensor, dim: int, _stacklevel: int = 3, dtype: Any = None) -> torch.Tensor:
    return torch.log(torch.softmax(input, dim, dtype=dtype))


_ns = torch_like(functional={"log_softmax": log_softmax})
nn, optim = _ns.nn, _ns.optim
