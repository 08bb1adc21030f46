"""random_split turns fractions into lengths by rounding, the last part taking what is left.

torch floors each part and hands the remainder out one by one from the first part: 5 split [0.5, 0.5] is [3, 2]
there and [2, 3] here. The batches check must catch it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.utils.data

from tests.planted.torchlike import torch_like

COMPONENT = "random_split"
CATCHES = ("batches",)


def random_split(dataset: Any, lengths: Sequence[Any], generator: Any = torch.default_generator) -> Any:
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        n = len(dataset)
        lengths = [round(f * n) for f in lengths]  # the bug
        lengths[-1] = n - sum(lengths[:-1])
    return torch.utils.data.random_split(dataset, lengths, generator)


_ns = torch_like(data={"random_split": random_split})
nn, optim, utils = _ns.nn, _ns.optim, _ns.utils
