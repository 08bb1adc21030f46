"""KVCache that keeps each block of keys and values in the dtype it came in, not the cache's.

A cache of float32 handed float64 keys returns float64 keys (and float64 attention scores, twice the memory) where
the cache's dtype is what it stores. The decoding check must catch it.
"""

from __future__ import annotations

import torch

import spec.reference.kv_cache
from tests.planted.torchlike import torch_like

COMPONENT = "KVCache"
CATCHES = ("decoding",)


class LayerKVCache(spec.reference.kv_cache.LayerKVCache):
    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        dtype = self._dtype
        self._dtype = k.dtype  # the bug: stored as given
        try:
            return super().update(k, v)
        finally:
            self._dtype = dtype


class KVCache(spec.reference.kv_cache.KVCache):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.layers = [self._retyped(layer) for layer in self.layers]

    @staticmethod
    def _retyped(layer: spec.reference.kv_cache.LayerKVCache) -> LayerKVCache:
        layer.__class__ = LayerKVCache
        return layer  # type: ignore[return-value]


_ns = torch_like(nn={"KVCache": KVCache})
nn, optim = _ns.nn, _ns.optim
