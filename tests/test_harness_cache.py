"""The decoding check of ``nn.KVCache``: what it compares and how its messages read.

The planted bugs (``tests/planted/bug_kv_cache_*``) show that it catches wrong caches; these tests pin down the
details: views of a cache's storage are read before a reset can overwrite them, ``cache.length`` is only asked
for between forward passes, a wrong element is named by its position, and a refused update must leave the cache
as it was.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import torch

import impl.nn.kv_cache
import spec
from conformance import profiles
from conformance.checks import registry
from conformance.checks.base import CheckFailed, Context
from nnresolve import Implementation
from spec.entry import Example
from spec.reference.kv_cache import KVCache as Reference
from tests.planted.torchlike import kv_cache_with, planted

TORCH = Implementation("torch")
SETTINGS = hypothesis.settings(profiles.get("ci"), max_examples=6)
SHAPE = {"n_layer": 2, "batch_size": 1, "n_kv_head": 2, "head_dim": 3, "max_len": 5}


def decoding(cls: Any, *steps: tuple[Any, ...], **extra: Any) -> None:
    ctx = Context(spec.get("KVCache"), planted({"nn.KVCache": cls}), TORCH, SETTINGS)
    registry()["decoding"].body(ctx, Example(init=SHAPE, seed=5, extra={"steps": steps, **extra}))


PASS = (("update", 0, 2), ("update", 1, 2), ("update", 0, 1), ("update", 1, 1))


@pytest.mark.parametrize("cls", [Reference, impl.nn.kv_cache.KVCache], ids=["reference", "impl"])
def test_a_decoding_run_with_a_reset_passes(cls: Any) -> None:
    # impl returns views of its storage: the updates after the reset overwrite what the first ones returned
    decoding(cls, *PASS, ("reset",), ("update", 0, 3), ("update", 1, 3), input_dtype="float64")


def test_the_cache_length_is_only_read_between_forward_passes() -> None:
    class LastLayerLength(impl.nn.kv_cache.KVCache):
        @property
        def length(self) -> int:
            return self.layers[-1].length  # the same as the first layer's whenever they agree

    decoding(LastLayerLength, ("update", 0, 2), ("update", 1, 2), ("update", 0, 1))


def test_a_wrong_element_is_named_by_its_position() -> None:
    class LastValueNegated(impl.nn.kv_cache.LayerKVCache):
        def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            keys, values = super().update(k, v)
            return keys, torch.cat([values[:, :, :-1], -values[:, :, -1:]], dim=2)

    Cache = kv_cache_with(LastValueNegated)

    with pytest.raises(CheckFailed) as info:
        decoding(Cache, ("update", 0, 2))
    message = str(info.value)
    assert message.startswith("KVCache(n_layer=2, batch_size=1, n_kv_head=2, head_dim=3, max_len=5, dtype='float32')")
    assert (
        ", step 1 of 1, cache[0].update(k, v) with 2 new positions: the values returned differ at (0, 0, 1, 0): "
        in (message)
    )
    assert message.endswith("(position 1 of 2)")


def test_a_refused_update_must_leave_the_layer_as_it_was() -> None:
    class HalfWritten(impl.nn.kv_cache.LayerKVCache):
        def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            room = self.keys.shape[-2] - self.length
            if k.shape[-2] > room:
                super().update(k[:, :, :room], v[:, :, :room])  # fills what fits, then refuses
            return super().update(k, v)

    Cache = kv_cache_with(HalfWritten)

    with pytest.raises(CheckFailed) as info:
        decoding(Cache, ("update", 0, 2), ("overflow", 0, 4))
    assert (
        "step 2 of 2, cache[0].update(k, v) with 4 new positions, past max_len: the layers' lengths are [5, 0]; "
        in (str(info.value))
    )
    assert str(info.value).endswith("the reference's [2, 0] (an update that fails must leave the layer as it was)")


def test_an_update_past_max_len_must_raise_a_value_error() -> None:
    class Clamped(impl.nn.kv_cache.LayerKVCache):
        def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            room = self.keys.shape[-2] - self.length
            return super().update(k[:, :, :room], v[:, :, :room])  # drops what does not fit

    Cache = kv_cache_with(Clamped)

    with pytest.raises(CheckFailed, match=r"past max_len: raised nothing; expected a ValueError"):
        decoding(Cache, ("update", 1, 4), ("overflow", 1, 2))


def test_a_cache_built_elsewhere_than_asked_fails_on_the_device() -> None:
    class OnMeta(impl.nn.kv_cache.KVCache):
        def __init__(self, *args: Any, device: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, device="meta", **kwargs)

    with pytest.raises(CheckFailed, match=r"the keys returned have device meta; the reference's have cpu"):
        decoding(OnMeta, ("update", 0, 1))
