"""DataLoader keeps the last, short batch when ``drop_last=True``.

The flag never reaches the batch sampler, so ``len()`` and the batches are those of ``drop_last=False``. The
batches check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.utils.data

from tests.planted.torchlike import torch_like

COMPONENT = "DataLoader"
CATCHES = ("batches",)


class DataLoader(torch.utils.data.DataLoader):  # type: ignore[type-arg]
    def __init__(self, *args: Any, drop_last: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # the bug: drop_last is dropped


_ns = torch_like(data={"DataLoader": DataLoader})
nn, optim, utils = _ns.nn, _ns.optim, _ns.utils
