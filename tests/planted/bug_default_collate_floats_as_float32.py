"""default_collate batches Python floats as a float32 tensor.

torch makes them float64 (a Python float is a double); the values survive, the dtype does not, at any depth of the
samples. The batches check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.utils.data
from torch.utils.data._utils.collate import collate, default_collate_fn_map

from tests.planted.torchlike import torch_like

COMPONENT = "default_collate"
CATCHES = ("batches",)


def _floats(batch: list[Any], *, collate_fn_map: Any = None) -> torch.Tensor:
    return torch.tensor(batch, dtype=torch.float32)  # the bug: torch's dtype is float64


def default_collate(batch: list[Any]) -> Any:
    return collate(batch, collate_fn_map={**default_collate_fn_map, float: _floats})


_ns = torch_like(data={"default_collate": default_collate})
nn, optim, utils = _ns.nn, _ns.optim, _ns.utils
