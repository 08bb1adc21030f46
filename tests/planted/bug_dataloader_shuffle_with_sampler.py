"""DataLoader accepts ``shuffle=True`` together with a sampler, and silently keeps the sampler's order.

torch refuses the pair (the two say different things about the order); the errors check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.utils.data

from tests.planted.torchlike import torch_like

COMPONENT = "DataLoader"
CATCHES = ("errors",)


class DataLoader(torch.utils.data.DataLoader):  # type: ignore[type-arg]
    def __init__(self, dataset: Any, *args: Any, shuffle: bool | None = None, sampler: Any = None, **kw: Any) -> None:
        if sampler is not None:
            shuffle = None  # the bug: torch raises ValueError here
        super().__init__(dataset, *args, shuffle=shuffle, sampler=sampler, **kw)


_ns = torch_like(data={"DataLoader": DataLoader})
nn, optim, utils = _ns.nn, _ns.optim, _ns.utils
