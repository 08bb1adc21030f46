"""KVCache.reset forgets the first layer's positions only.

``cache.length`` (the first layer's) reads 0, so the model places the next tokens at 0, but every later layer
appends them after its stale keys. The decoding check must catch it.
"""

from __future__ import annotations

import impl.nn.kv_cache
from tests.planted.torchlike import torch_like

COMPONENT = "KVCache"
CATCHES = ("decoding",)


class KVCache(impl.nn.kv_cache.KVCache):
    def reset(self) -> None:
        self.layers[0].length = 0  # the bug: the other layers keep theirs


_ns = torch_like(nn={"KVCache": KVCache})
nn, optim = _ns.nn, _ns.optim
