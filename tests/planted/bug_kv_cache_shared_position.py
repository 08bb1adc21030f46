"""KVCache with one write position for all layers: every layer's update advances it.

A cache written for a one-layer model keeps a single position; with several layers, layer 1 then writes its first
keys after layer 0's and sees layer 0's positions as its own past. The decoding check must catch it.
"""

from __future__ import annotations

from typing import ClassVar

import impl.nn.kv_cache
from tests.planted.torchlike import torch_like

COMPONENT = "KVCache"
CATCHES = ("decoding",)


class LayerKVCache(impl.nn.kv_cache.LayerKVCache):
    position: ClassVar[list[int]] = [0]  # the bug: one counter (per cache, set below) that every layer moves

    @property  # type: ignore[override]
    def length(self) -> int:
        return self.position[0]

    @length.setter
    def length(self, value: int) -> None:
        self.position[0] = value


class KVCache(impl.nn.kv_cache.KVCache):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        shared = [0]
        self.layers = [LayerKVCache(self.keys[i], self.values[i]) for i in range(len(self.layers))]
        for layer in self.layers:
            layer.position = shared


_ns = torch_like(nn={"KVCache": KVCache})
nn, optim = _ns.nn, _ns.optim
