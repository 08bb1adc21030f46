"""``scaled_dot_product_attention``: softmax(Q K^T * scale + mask) V, with a hand-derived backward pass.

Grouped-query attention (fewer key/value heads than query heads) is computed without copying K and V: the G query
heads that share one key/value head are stacked along the query axis, so one matmul serves the whole group.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import torch
from torch import Tensor

__all__ = ["causal_mask", "scaled_dot_product_attention"]

# Half-precision inputs are computed in float32 and rounded once, as torch's math kernel does.
_UPCAST = (torch.float16, torch.bfloat16)


def _masked_softmax(scores: Tensor) -> Tensor:
    """Softmax over the last axis where a row that is entirely -inf gives zeros (a plain softmax gives NaN)."""
    if scores.shape[-1] == 0:
        return scores.clone()
    m = scores.amax(-1, keepdim=True)
    m.masked_fill_(m == float("-inf"), 0.0)  # fully masked row: exp(-inf - 0) = 0 everywhere
    e = (scores - m).exp_()
    s = e.sum(-1, keepdim=True)
    # s >= 1 whenever the row has a finite score (its maximum contributes exp(0) = 1); s = 0 only for a fully
    # masked row, whose e is all zeros, so clamping s to 1 turns 0/0 into 0 and changes nothing else.
    return e.div_(s.clamp_min_(1.0))


class _Attention(torch.autograd.Function):
    r"""Attention on matmul-ready tensors: ``q`` (*, M, E), ``k`` (*, S, E), ``v`` (*, S, Ev).

    ``M = G * L`` stacks the G query heads that share one key/value head (G = 1 without grouping);
    ``score_shape`` is the scores' shape with the groups unstacked, (*, G, L, S) or (*, L, S), which is the shape
    the mask broadcasts against.

    Forward: :math:`S = Q K^\top c + B`, :math:`P = \mathrm{softmax}(S)` by rows,
    :math:`\tilde P = P \odot D / (1 - p)` with :math:`D_{ij} \sim \mathrm{Bernoulli}(1 - p)`, :math:`O = \tilde P V`.
    A boolean mask enters as :math:`B_{ij} = -\infty` where it is False.

    Derivation. With :math:`G_O = \partial L/\partial O`:

    .. math::
        \nabla_V = \tilde P^\top G_O, \qquad
        \nabla_{\tilde P} = G_O V^\top, \qquad
        \nabla_P = \nabla_{\tilde P} \odot D / (1 - p),

    the softmax Jacobian :math:`\partial P_{ij}/\partial S_{ik} = P_{ij}(\delta_{jk} - P_{ik})` gives, per row,

    .. math::
        \nabla_S = P \odot \Big(\nabla_P - \sum_j (\nabla_P \odot P)_{\cdot j}\Big),

    and then :math:`\nabla_Q = c\, \nabla_S K`, :math:`\nabla_K = c\, \nabla_S^\top Q`, and :math:`\nabla_B` is
    :math:`\nabla_S` summed over the axes the mask was broadcast along. A fully masked row has :math:`P = 0`, so
    its gradients are 0. With groups stacked, :math:`\nabla_S^\top Q` and :math:`\tilde P^\top G_O` sum over the G
    query heads of a group by themselves. Saved: Q, K, V, P and the dropout draw D (as booleans).
    """

    @staticmethod
    def forward(
        ctx: Any,
        q: Tensor,
        k: Tensor,
        v: Tensor,
        mask: Tensor | None,
        score_shape: tuple[int, ...],
        scale: float,
        dropout_p: float,
    ) -> Tensor:
        scores = torch.matmul(q, k.transpose(-2, -1)).mul_(scale).view(score_shape)  # (*, [G,] L, S)
        if mask is not None:
            if mask.dtype == torch.bool:
                scores.masked_fill_(mask.logical_not(), float("-inf"))
            else:
                scores.add_(mask)
        p = _masked_softmax(scores)  # (*, [G,] L, S)
        keep = None
        p_used = p
        if dropout_p > 0.0:
            # Drawn from torch's default generator, so torch.manual_seed governs it.
            keep = torch.empty_like(p).bernoulli_(1.0 - dropout_p).bool()
            p_used = p * keep * (1.0 / (1.0 - dropout_p) if dropout_p < 1.0 else 0.0)
        out = torch.matmul(p_used.view(*q.shape[:-1], k.shape[-2]), v)  # (*, M, Ev)
        ctx.save_for_backward(q, k, v, p, keep)
        ctx.scale, ctx.dropout_p = scale, dropout_p
        ctx.mask_shape = None if mask is None or mask.dtype == torch.bool else mask.shape
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        q, k, v, p, keep = ctx.saved_tensors
        keep_scale = 1.0 / (1.0 - ctx.dropout_p) if ctx.dropout_p < 1.0 else 0.0
        p_flat = p.view(*q.shape[:-1], k.shape[-2])  # (*, M, S)
        grad_q = grad_k = grad_v = grad_mask = None
        if ctx.needs_input_grad[2]:
            p_used = p_flat if keep is None else p_flat * keep.view(p_flat.shape) * keep_scale
            grad_v = torch.matmul(p_used.transpose(-2, -1), grad_out)  # (*, S, Ev)
        if any(ctx.needs_input_grad[:2]) or ctx.needs_input_grad[3]:
            grad_p = torch.matmul(grad_out, v.transpose(-2, -1))  # (*, M, S)
            if keep is not None:
                grad_p.mul_(keep.view(grad_p.shape)).mul_(keep_scale)
            row = (grad_p * p_flat).sum(-1, keepdim=True)  # (*, M, 1)
            grad_s = grad_p.sub_(row).mul_(p_flat)  # (*, M, S)
            if ctx.needs_input_grad[3]:
                grad_mask = grad_s.view(p.shape).sum_to_size(ctx.mask_shape)
            if ctx.needs_input_grad[0]:
                grad_q = torch.matmul(grad_s, k).mul_(ctx.scale)  # (*, M, E)
            if ctx.needs_input_grad[1]:
                grad_k = torch.matmul(grad_s.transpose(-2, -1), q).mul_(ctx.scale)  # (*, S, E)
        return grad_q, grad_k, grad_v, grad_mask, None, None, None


def causal_mask(new: int, total: int, offset: int = 0, device: torch.device | None = None) -> Tensor:
    """(new, total) bool, True where query i may see key j: j <= i + offset (``ones(new, total).tril(offset)``).

    offset 0 is ``is_causal``'s top-left alignment; offset ``total - new`` the bottom-right one of cached decoding.
    """
    # A comparison of two ranges rather than tril(), whose kernel goes through the thread pool even for tiny masks.
    rows = torch.arange(new, device=device).unsqueeze(1)  # (new, 1)
    return torch.arange(total, device=device) <= rows + offset  # (new, total)


@functools.lru_cache(maxsize=32)
def _causal_bias(new: int, total: int, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``is_causal`` as an additive mask: 0 where query i may see key j <= i, -inf above (only ever read).

    On CPU adding it to the scores costs a fraction of a ``masked_fill`` with a boolean mask.
    """
    bias = torch.zeros(new, total, dtype=dtype, device=device)
    return bias.masked_fill_(causal_mask(new, total, device=device).logical_not_(), float("-inf"))


def _validate(
    query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None, dropout_p: float, is_causal: bool
) -> None:
    if min(query.dim(), key.dim(), value.dim()) < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be at least 2 dimensional, but got "
            f"query.dim: {query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} instead."
        )
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got "
            f"query.dtype: {query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead."
        )
    if not query.is_floating_point():
        raise NotImplementedError(f"scaled_dot_product_attention(): expected floating point inputs, got {query.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"Expected query and key to have the same embedding size (last dimension), but got "
            f"query {list(query.shape)} and key {list(key.shape)}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"Expected key and value to have the same sequence length (dimension -2), but got "
            f"key {list(key.shape)} and value {list(value.shape)}"
        )
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
            )
        if attn_mask.dtype not in (torch.bool, torch.float32, query.dtype):
            raise RuntimeError(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                f"attn_mask.dtype: {attn_mask.dtype} and query.dtype: {query.dtype} instead."
            )
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")


def _broadcast(*shapes: torch.Size) -> tuple[int, ...]:
    # torch.broadcast_shapes is slow Python; decoding calls this for every layer and token, mostly with equal shapes.
    return shapes[0] if shapes[0] == shapes[1] == shapes[2] else torch.broadcast_shapes(*shapes)


def _groups(query: Tensor, key: Tensor, value: Tensor, enable_gqa: bool) -> int:
    """How many query heads share one key/value head (dimension -3); 1 means ordinary broadcasting."""
    if not enable_gqa or query.dim() < 3 or key.dim() < 3 or value.dim() < 3:
        return 1
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hk == hq and hv == hq:
        return 1
    if hk == 0 or hv == 0 or hq % hk or hq % hv:
        raise RuntimeError(
            f"Number of heads in key and value must divide the number of heads in query, but got "
            f"query heads {hq}, key heads {hk}, value heads {hv}"
        )
    if hk != hv:
        raise NotImplementedError(f"grouped-query attention with {hk} key heads but {hv} value heads")
    return hq // hk


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    *,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    r"""Attention of each query over the keys: :math:`\mathrm{softmax}(Q K^\top \cdot c + B)\, V`.

    :math:`c` is ``scale`` (default :math:`1/\sqrt{E}`). :math:`B` is 0 where attention is allowed and
    :math:`-\infty` where it is not: from ``is_causal`` (query i sees keys j <= i, aligned top-left as in torch:
    with fewer queries than keys, query 0 sees only key 0), from a boolean ``attn_mask`` (True = may attend), or
    a float ``attn_mask`` added as is (and differentiated). A query that may attend to no key gets an output of 0,
    as in torch, not NaN. With ``dropout_p > 0`` the attention weights are dropped (and the rest rescaled by
    :math:`1/(1-p)`) whenever this is called, training or not.

    For cached decoding, where L new queries sit at the end of S keys, the causal mask must be aligned
    bottom-right: pass ``attn_mask`` = ``ones(L, S, dtype=bool).tril(S - L)`` instead of ``is_causal``.

    Args:
        query: :math:`(*, H_q, L, E)` or :math:`(*, L, E)`.
        key: :math:`(*, H_k, S, E)`; batch dimensions broadcast against the query's.
        value: :math:`(*, H_k, S, E_v)`.
        attn_mask: boolean or float, broadcastable to :math:`(*, H_q, L, S)`. Default: ``None``.
        dropout_p: dropout probability on the attention weights. Default: ``0.0``.
        is_causal: apply the top-left aligned causal mask; not together with ``attn_mask``. Default: ``False``.
        scale: keyword only; the factor :math:`c`. Default: ``None``, :math:`1/\sqrt{E}`.
        enable_gqa: keyword only; grouped-query attention: :math:`H_k` divides :math:`H_q`, and query head
            :math:`h` uses key/value head :math:`\lfloor h / (H_q / H_k) \rfloor`. Default: ``False``.

    Shape:
        - Output: :math:`(*, H_q, L, E_v)`

    Example::

        >>> q, k, v = torch.randn(2, 8, 10, 16), torch.randn(2, 2, 10, 16), torch.randn(2, 2, 10, 16)
        >>> scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True).shape
        torch.Size([2, 8, 10, 16])
    """
    _validate(query, key, value, attn_mask, dropout_p, is_causal)
    in_dtype = query.dtype
    if in_dtype in _UPCAST:
        query, key, value = query.float(), key.float(), value.float()
        if attn_mask is not None and attn_mask.is_floating_point():
            attn_mask = attn_mask.float()
    L, S, E = query.shape[-2], key.shape[-2], query.shape[-1]
    c = 1.0 / math.sqrt(E) if scale is None else float(scale)
    g = _groups(query, key, value, enable_gqa)

    batch: tuple[int, ...]
    if g == 1:
        batch = _broadcast(query.shape[:-2], key.shape[:-2], value.shape[:-2])
        q = query.expand(*batch, L, E)
        score_shape = mask_shape = (*batch, L, S)
    else:
        outer = _broadcast(query.shape[:-3], key.shape[:-3], value.shape[:-3])
        hk = key.shape[-3]
        q = query.expand(*outer, hk * g, L, E).reshape(*outer, hk, g * L, E)  # a view when nothing broadcasts
        batch = (*outer, hk)
        score_shape, mask_shape = (*batch, g, L, S), (*outer, hk * g, L, S)
    k = key.expand(*batch, S, E)
    v = value.expand(*batch, S, value.shape[-1])

    mask = attn_mask
    if is_causal:
        mask = _causal_bias(L, S, q.dtype, query.device)
    if mask is not None:
        if torch.broadcast_shapes(mask.shape, mask_shape) != mask_shape:
            raise RuntimeError(
                f"attn_mask of shape {list(mask.shape)} does not broadcast to the attention scores' shape "
                f"{list(mask_shape)}"
            )
        if mask.is_floating_point():
            mask = mask.to(q.dtype)
        if g > 1 and mask.dim() >= 3:
            # The mask's head axis (H_q or 1) becomes (H_k, G) or (1, 1) to match the grouped scores.
            mask = mask.unflatten(-3, (hk, g)) if mask.shape[-3] > 1 else mask.unsqueeze(-3)

    out = _Attention.apply(q, k, v, mask, score_shape, c, float(dropout_p))
    if g > 1:
        out = out.view(*outer, hk * g, L, value.shape[-1])  # (*, H_q, L, Ev)
    return out.to(in_dtype)
