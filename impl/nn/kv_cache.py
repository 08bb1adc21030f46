"""``KVCache``: the keys and values of past positions, so that decoding a token costs one position, not all of them.

Without a cache, generating token t runs the model over all t tokens before it, and every layer recomputes keys
and values it computed at the previous step. With one, each step runs the model over the new token(s) only: every
attention layer appends its new keys and values to its slot of the cache and attends over everything stored.

The rule for the causal mask: the L new queries are the *last* L of the S = past + L positions, so query i (0-based
among the new ones) may see keys 0 .. past + i. That is the bottom-right aligned mask ``tril(S - L)``;
``is_causal=True`` is top-left aligned and right only when L == S (no past). :func:`causal_attention_kwargs`
returns the right arguments for ``scaled_dot_product_attention``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from impl.nn.functional.attention import causal_mask

__all__ = ["KVCache", "LayerKVCache", "causal_attention_kwargs"]


def causal_attention_kwargs(new: int, total: int, device: torch.device | None = None) -> dict[str, Any]:
    """Keyword arguments of ``scaled_dot_product_attention`` for ``new`` queries at the end of ``total`` keys.

    ``{"is_causal": True}`` when there is no past (new == total); ``{}`` for one new query, which may see every
    key; otherwise the bottom-right aligned boolean mask ``ones(new, total).tril(total - new)`` (True = may attend).

    Example::

        >>> causal_attention_kwargs(2, 4)["attn_mask"]
        tensor([[ True,  True,  True, False],
                [ True,  True,  True,  True]])
    """
    if not 0 < new <= total:
        raise ValueError(f"need 0 < new <= total, got new={new}, total={total}")
    if new == total:
        return {"is_causal": True}
    if new == 1:
        return {}
    return {"attn_mask": causal_mask(new, total, offset=total - new, device=device)}


class LayerKVCache:
    """One attention layer's slot: keys and values (B, H_kv, max_len, head_dim), filled up to :attr:`length`."""

    def __init__(self, keys: Tensor, values: Tensor) -> None:
        self.keys, self.values = keys, values
        self.length = 0

    def update(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Append the new positions' ``k``, ``v`` (B, H_kv, T, head_dim); return all positions so far (views).

        Raises ``ValueError`` when the cache would overflow ``max_len``: the caller decides what to do there
        (crop the context and start again, see :meth:`KVCache.reset`).
        """
        start, new = self.length, k.shape[-2]
        if (
            k.dim() != 4
            or k.shape != v.shape
            or k.shape[:2] != self.keys.shape[:2]
            or k.shape[-1] != self.keys.shape[-1]
        ):
            raise ValueError(
                f"expected keys and values of shape ({self.keys.shape[0]}, {self.keys.shape[1]}, T, "
                f"{self.keys.shape[-1]}), got {tuple(k.shape)} and {tuple(v.shape)}"
            )
        if start + new > self.keys.shape[-2]:
            raise ValueError(f"KV cache full: {start} + {new} positions exceed max_len={self.keys.shape[-2]}")
        self.keys[:, :, start : start + new] = k
        self.values[:, :, start : start + new] = v
        self.length = start + new
        return self.keys[:, :, : self.length], self.values[:, :, : self.length]


class KVCache:
    r"""Keys and values of every attention layer for a batch of sequences being decoded, preallocated.

    Memory: :math:`2 \cdot n_{layer} \cdot B \cdot H_{kv} \cdot \text{max\_len} \cdot \text{head\_dim}` numbers;
    grouped-query attention (:math:`H_{kv} < H`) shrinks it by :math:`H / H_{kv}`.

    Args:
        n_layer: number of attention layers; ``cache[i]`` is layer i's :class:`LayerKVCache`.
        batch_size: number of sequences decoded together.
        n_kv_head: key/value heads per layer.
        head_dim: size of each head.
        max_len: most positions it holds (the model's context length).
        dtype: dtype of the stored keys and values. Default: float32.
        device: where they live.

    Example::

        >>> cache = KVCache(n_layer=2, batch_size=1, n_kv_head=4, head_dim=8, max_len=16)
        >>> k_all, v_all = cache[0].update(torch.randn(1, 4, 3, 8), torch.randn(1, 4, 3, 8))  # a 3-token prompt
        >>> k_all.shape, cache[0].length
        (torch.Size([1, 4, 3, 8]), 3)
    """

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
        for name, value in (
            ("n_layer", n_layer),
            ("batch_size", batch_size),
            ("n_kv_head", n_kv_head),
            ("head_dim", head_dim),
            ("max_len", max_len),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"KVCache: {name} must be a positive int, got {value!r}")
        shape = (n_layer, batch_size, n_kv_head, max_len, head_dim)
        self.keys = torch.zeros(shape, dtype=dtype, device=device)
        self.values = torch.zeros(shape, dtype=dtype, device=device)
        self.max_len = max_len
        self.layers = [LayerKVCache(self.keys[i], self.values[i]) for i in range(n_layer)]

    def __getitem__(self, layer: int) -> LayerKVCache:
        return self.layers[layer]

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def length(self) -> int:
        """Positions stored (the position of the next token)."""
        return self.layers[0].length if self.layers else 0

    def reset(self) -> None:
        """Forget every position (the storage is kept and overwritten)."""
        for layer in self.layers:
            layer.length = 0
