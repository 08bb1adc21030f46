r"""A key/value cache for cached decoding, written from its definition: each layer keeps the list of the key and
value blocks it was given, and hands back their concatenation along the position dimension.

After layer :math:`\ell` has received blocks :math:`K^{(1)}, \ldots, K^{(m)}` of :math:`t_1, \ldots, t_m` positions
(each :math:`(B, H_{kv}, t_i, D)`), ``update`` returns

.. math::
    K_{\le m} = \operatorname{cat}(K^{(1)}, \ldots, K^{(m)};\ \text{dim}=-2) \in \mathbb{R}^{B \times H_{kv}
    \times (t_1 + \cdots + t_m) \times D}

and the same for values, in the cache's dtype on the cache's device. Nothing is preallocated and nothing is
overwritten: an implementation may store the blocks any way it likes (impl preallocates ``max_len`` positions and
returns views) as long as what it returns is this.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


class LayerKVCache:
    """One layer's keys and values: the blocks so far, concatenated on demand."""

    def __init__(self, shape: tuple[int, int, int], max_len: int, dtype: torch.dtype, device: torch.device) -> None:
        self._shape, self._max_len, self._dtype, self._device = shape, max_len, dtype, device
        self._keys: list[Tensor] = []
        self._values: list[Tensor] = []

    @property
    def length(self) -> int:
        """Positions stored."""
        return sum(k.shape[-2] for k in self._keys)

    def update(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Append ``k`` and ``v`` (B, H_kv, T, D); return the keys and values of every position so far."""
        batch, heads, head_dim = self._shape
        expected = f"({batch}, {heads}, T, {head_dim})"
        if k.dim() != 4 or (k.shape[0], k.shape[1], k.shape[3]) != self._shape or v.shape != k.shape:
            raise ValueError(f"expected keys and values of shape {expected}, got {tuple(k.shape)} and {tuple(v.shape)}")
        if self.length + k.shape[-2] > self._max_len:
            raise ValueError(f"KV cache full: {self.length} + {k.shape[-2]} positions exceed max_len={self._max_len}")
        self._keys.append(k.detach().to(self._dtype, copy=True).to(self._device))
        self._values.append(v.detach().to(self._dtype, copy=True).to(self._device))
        return torch.cat(self._keys, dim=-2), torch.cat(self._values, dim=-2)

    def reset(self) -> None:
        self._keys, self._values = [], []


class KVCache:
    """The reference cache: ``n_layer`` independent :class:`LayerKVCache` slots of at most ``max_len`` positions."""

    def __init__(
        self,
        n_layer: int,
        batch_size: int,
        n_kv_head: int,
        head_dim: int,
        max_len: int,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        shape = tuple(_positive_int(n, v) for n, v in (("batch_size", batch_size), ("n_kv_head", n_kv_head)))
        shape += (_positive_int("head_dim", head_dim),)
        _positive_int("n_layer", n_layer)
        self.max_len = _positive_int("max_len", max_len)
        dtype = torch.get_default_dtype() if dtype is None else dtype
        where = torch.device("cpu") if device is None else torch.device(device)
        self.layers = [LayerKVCache(shape, max_len, dtype, where) for _ in range(n_layer)]  # type: ignore[arg-type]

    def __getitem__(self, layer: int) -> LayerKVCache:
        return self.layers[layer]

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def length(self) -> int:
        """Positions stored by the first layer: between forward passes, by every layer (the next token's
        position)."""
        return self.layers[0].length

    def reset(self) -> None:
        """Forget every position of every layer."""
        for layer in self.layers:
            layer.reset()
