"""layer_norm flattens its input into rows with ``view``: right for contiguous input, an error for a transposed or
sliced one, which torch accepts (``reshape`` copies where it must).

forward and backward pass with contiguous inputs; strided must catch the refusal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "layer_norm"
CATCHES = ("strided",)


def layer_norm(
    input: torch.Tensor,
    normalized_shape: Sequence[int],
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    n = math.prod(normalized_shape)
    rows = input.view(-1, n)  # the bug: view needs memory it can reinterpret
    w = None if weight is None else weight.reshape(n)
    b = None if bias is None else bias.reshape(n)
    return torch.nn.functional.layer_norm(rows, (n,), w, b, eps).view(input.shape)


_ns = torch_like(functional={"layer_norm": layer_norm})
nn, optim = _ns.nn, _ns.optim
