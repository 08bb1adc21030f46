"""KVCache.update returns the whole preallocated buffer, not the positions filled so far.

Attention then runs over max_len positions, the unfilled ones zeros: their scores are 0, not masked, and they take
a share of every softmax. The decoding check must catch it.
"""

from __future__ import annotations

import torch

import impl.nn.kv_cache
from tests.planted.torchlike import kv_cache_with, torch_like

COMPONENT = "KVCache"
CATCHES = ("decoding",)


class LayerKVCache(impl.nn.kv_cache.LayerKVCache):
    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        super().update(k, v)
        return self.keys, self.values  # the bug: [:, :, : self.length] left out


KVCache = kv_cache_with(LayerKVCache)


_ns = torch_like(nn={"KVCache": KVCache})
nn, optim = _ns.nn, _ns.optim
