"""softmax ignores its ``dtype`` argument: the result keeps the input's dtype instead of the requested one.

forward (and dtype) must catch the output's dtype on an example that passes ``dtype``.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "softmax"
CATCHES = ("forward", "dtype")


def softmax(input: torch.Tensor, dim: int, _stacklevel: int = 3, dtype: Any = None) -> torch.Tensor:
    return torch.softmax(input, dim)  # the bug: dtype dropped


_ns = torch_like(functional={"softmax": softmax})
nn, optim = _ns.nn, _ns.optim
