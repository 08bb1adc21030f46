"""KVCache that wraps around when full, overwriting the oldest positions, instead of raising.

A ring buffer is a sliding-window cache; under full causal attention it silently attends over the wrong keys once
the context outgrows max_len, where the model should crop and refill. The decoding check (an update past
max_len in a script) and the errors check must catch it.
"""

from __future__ import annotations

import torch

import impl.nn.kv_cache
from tests.planted.torchlike import kv_cache_with, torch_like

COMPONENT = "KVCache"
CATCHES = ("decoding", "errors")


class LayerKVCache(impl.nn.kv_cache.LayerKVCache):
    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        size, new = self.keys.shape[-2], k.shape[-2]
        if self.length + new > size:  # the bug: drop the oldest positions instead of refusing
            keep = max(size - new, 0)
            self.keys[:, :, :keep] = self.keys[:, :, self.length - keep : self.length].clone()
            self.values[:, :, :keep] = self.values[:, :, self.length - keep : self.length].clone()
            self.length = keep
            k, v = k[:, :, -(size - keep) :], v[:, :, -(size - keep) :]
        return super().update(k, v)


KVCache = kv_cache_with(LayerKVCache)


_ns = torch_like(nn={"KVCache": KVCache})
nn, optim = _ns.nn, _ns.optim
