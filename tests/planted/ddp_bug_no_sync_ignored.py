"""DistributedDataParallel's ``no_sync()`` does nothing: every micro-batch is averaged (correct sum, N all-reduces).

The accumulated gradient comes out right, so only the check that looks inside ``no_sync()`` can tell.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from impl.nn.parallel import DistributedDataParallel as _Correct
from tests.planted.ddplike import ddp_like

CATCHES = ("no_sync",)


class DistributedDataParallel(_Correct):
    @contextmanager
    def no_sync(self) -> Iterator[None]:
        yield


nn = ddp_like(DistributedDataParallel)
