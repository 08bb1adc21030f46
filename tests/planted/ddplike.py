"""A torch-shaped implementation whose DistributedDataParallel is the given class, with impl's Module and Linear."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from impl.nn import Linear, Module


def ddp_like(ddp: Any) -> SimpleNamespace:
    """A namespace laid out like torch with ``nn.Module``, ``nn.Linear`` and ``nn.parallel.DistributedDataParallel``."""
    return SimpleNamespace(Module=Module, Linear=Linear, parallel=SimpleNamespace(DistributedDataParallel=ddp))
