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

from impl.nn.functional._autograd import apply, broadcasts_to, once_differentiable_fast, scalar

__all__ = ["causal_mask", "scaled_dot_product_attention"]

# Half-precision inputs are computed in float32 and rounded once, as torch's math kernel does.
_UPCAST = (torch.float16, torch.bfloat16)
_LOG2E = 1.0 / math.log(2.0)


def _masked_softmax2(scores: Tensor, masked: bool) -> Tensor:
    r"""Softmax over the last axis of scores given in base 2, :math:`2^{s_j} / \sum_k 2^{s_k}`, where, with
    ``masked``, a row that is entirely -inf gives zeros (a plain softmax gives NaN). The scores buffer is consumed.

    Base 2 because torch's CPU ``exp2`` is vectorised and several times faster than its ``exp``; the factor
    :math:`\log_2 e` rides on the scale that the scores' GEMM applies anyway.
    """
    if scores.shape[-1] == 0:
        return scores
    m = scores.amax(-1, keepdim=True)
    if masked:
        # A fully masked row has maximum -inf; lifting it to the lowest finite value makes its 2^(-inf - m) = 0
        # everywhere, and changes no other row (a row with a finite score has its maximum above that value).
        m.clamp_min_(torch.finfo(scores.dtype).min)
    e = scores.sub_(m).exp2_()
    s = e.sum(-1, keepdim=True)
    if masked:
        # s >= 1 whenever the row has a finite score (its maximum contributes 2^0 = 1); s = 0 only for a fully
        # masked row, whose e is all zeros, so clamping s to 1 turns 0/0 into 0 and changes nothing else.
        s.clamp_min_(1.0)
    return e.mul_(s.reciprocal_())


def _gemm_bias(mask: Tensor, score_shape: tuple[int, ...], m: int, dtype: torch.dtype) -> Tensor | None:
    """The mask as an additive (M or 1, S or 1) matrix that ``baddbmm`` adds inside the scores' GEMM, or None when
    the mask varies along a batch axis (it is then applied to the scores after the GEMM).

    A boolean mask becomes 0 where True and -inf where False, which is how torch's own math path applies it.
    """
    lead = mask.shape[: max(mask.dim() - 2, 0)]
    if any(d != 1 for d in lead):
        return None
    bias = mask.reshape(mask.shape[-2:] if mask.dim() >= 2 else (1, *mask.shape))  # (L or 1, S or 1)
    groups = m // score_shape[-2] if score_shape[-2] else 1
    if groups > 1 and bias.shape[0] > 1:
        bias = bias.repeat(groups, 1)  # the G stacked query heads of a group each see the (L, S) mask: (G * L, S)
    if bias.dtype == torch.bool:
        return torch.zeros(bias.shape, dtype=dtype, device=bias.device).masked_fill_(bias.logical_not(), -math.inf)
    return bias * _LOG2E  # in base 2, as the scores


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
    :math:`\nabla_S` summed over the axes the mask was broadcast along. The row sum needs no (L, S) pass:
    :math:`\sum_j (\nabla_P)_{ij} P_{ij} = \sum_j (G_O V^\top)_{ij} \tilde P_{ij} = (G_O)_i \cdot O_i`, a dot
    product of two rows of width Ev (the identity flash attention uses). A fully masked row has :math:`P = 0`, so
    its gradients are 0. With groups stacked, :math:`\nabla_S^\top Q` and :math:`\tilde P^\top G_O` sum over the G
    query heads of a group by themselves.

    On CPU every (L, S) pass counts: :math:`c` and a mask that is the same for every batch entry are applied inside
    the GEMM (``baddbmm``), and without dropout so is the row sum's subtraction in the backward pass. Q, K and V
    are copied into contiguous (N, *, E) blocks once, where strided heads would cost a copy in every matmul. Saved:
    those blocks, P, O and the dropout draw D (as booleans).
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
        rows_may_be_empty: bool,
    ) -> Tensor:
        (m, e), s, ev = q.shape[-2:], k.shape[-2], v.shape[-1]
        n = math.prod(q.shape[:-2])
        q3, k3, v3 = q.reshape(n, m, e), k.reshape(n, s, e), v.reshape(n, s, ev)  # one copy each when strided
        bias = None if mask is None else _gemm_bias(mask, score_shape, m, q.dtype)
        # (N, M, S) = (c Q K^T + B) log2(e); without B, beta = 0 ignores the added term
        added, beta = (scalar(0.0, q.dtype, q.device), 0.0) if bias is None else (bias, 1.0)
        scores = torch.baddbmm(added, q3, k3.transpose(1, 2), beta=beta, alpha=scale * _LOG2E)
        if bias is None and mask is not None:  # a mask that varies along a batch axis, on the (*, [G,] L, S) view
            if mask.dtype == torch.bool:
                scores.view(score_shape).masked_fill_(mask.logical_not(), -math.inf)
            else:
                scores.view(score_shape).add_(mask, alpha=_LOG2E)
        p = _masked_softmax2(scores, rows_may_be_empty)  # (N, M, S)
        keep = None
        p_used = p
        if dropout_p > 0.0:
            # Drawn from torch's default generator, so torch.manual_seed governs it.
            keep = torch.empty_like(p).bernoulli_(1.0 - dropout_p).bool()
            p_used = p * keep * (1.0 / (1.0 - dropout_p) if dropout_p < 1.0 else 0.0)
        out = torch.bmm(p_used, v3)  # (N, M, Ev)
        ctx.save_for_backward(q3, k3, v3, p, keep, out)
        ctx.scale, ctx.dropout_p, ctx.score_shape = scale, dropout_p, score_shape
        ctx.saved_shapes = (q.shape, k.shape, v.shape)
        ctx.mask_shape = None if mask is None or mask.dtype == torch.bool else mask.shape
        return out.view(*q.shape[:-1], ev)

    @staticmethod
    @once_differentiable_fast  # P and O are constants to autograd: no double backward through them
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, ...]:
        q3, k3, v3, p, keep, out = ctx.saved_tensors
        need_q, need_k, need_v, need_mask = ctx.needs_input_grad[:4]
        keep_scale = 1.0 / (1.0 - ctx.dropout_p) if ctx.dropout_p < 1.0 else 0.0
        g = grad_out.reshape(out.shape)  # (N, M, Ev); one copy when strided
        grad_q = grad_k = grad_v = grad_mask = None
        if need_v:
            p_used = p if keep is None else p * keep * keep_scale
            grad_v = torch.bmm(p_used.transpose(1, 2), g).view(ctx.saved_shapes[2])  # (N, S, Ev)
        if need_q or need_k or need_mask:
            row = (g * out).sum(-1, keepdim=True)  # (N, M, 1): rowsum(grad_P * P) = G_O . O
            if keep is None:
                grad_s = torch.baddbmm(row, g, v3.transpose(1, 2), beta=-1.0).mul_(p)  # (G_O V^T - row) * P
            else:
                grad_p = torch.bmm(g, v3.transpose(1, 2)).mul_(keep).mul_(keep_scale)
                grad_s = grad_p.sub_(row).mul_(p)  # (N, M, S)
            if need_mask:
                grad_mask = grad_s.view(ctx.score_shape).sum_to_size(ctx.mask_shape)
            # c applied inside the GEMMs (beta = 0 ignores the added term), not as a pass of its own
            zero = scalar(0.0, grad_s.dtype, grad_s.device)
            if need_q:
                grad_q = torch.baddbmm(zero, grad_s, k3, beta=0.0, alpha=ctx.scale)  # (N, M, E)
                grad_q = grad_q.view(ctx.saved_shapes[0])
            if need_k:
                grad_k = torch.baddbmm(zero, grad_s.transpose(1, 2), q3, beta=0.0, alpha=ctx.scale)
                grad_k = grad_k.view(ctx.saved_shapes[1])  # (N, S, E)
        return grad_q, grad_k, grad_v, grad_mask, None, None, None, None


def causal_mask(new: int, total: int, offset: int = 0, device: torch.device | None = None) -> Tensor:
    """(new, total) bool, True where query i may see key j: j <= i + offset (``ones(new, total).tril(offset)``).

    offset 0 is ``is_causal``'s top-left alignment; offset ``total - new`` the bottom-right one of cached decoding.

    Example::

        >>> causal_mask(2, 4, offset=2)  # the last 2 of 4 positions, decoded with the first 2 in the cache
        tensor([[ True,  True,  True, False],
                [ True,  True,  True,  True]])
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


def _expand(t: Tensor, batch: tuple[int, ...]) -> Tensor:
    """``t`` with its batch dimensions (all but the last two) broadcast to ``batch``; ``t`` itself when they match."""
    return t if t.shape[:-2] == batch else t.expand(*batch, *t.shape[-2:])


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
        q = _expand(query, batch)
        score_shape = mask_shape = (*batch, L, S)
    else:
        outer = _broadcast(query.shape[:-3], key.shape[:-3], value.shape[:-3])
        hk = key.shape[-3]
        q = query.expand(*outer, hk * g, L, E).reshape(*outer, hk, g * L, E)  # a view when nothing broadcasts
        batch = (*outer, hk)
        score_shape, mask_shape = (*batch, g, L, S), (*outer, hk * g, L, S)
    k, v = _expand(key, batch), _expand(value, batch)

    mask = attn_mask
    if is_causal:
        mask = _causal_bias(L, S, q.dtype, query.device)
    if mask is not None:
        if not broadcasts_to(mask.shape, mask_shape):
            raise RuntimeError(
                f"attn_mask of shape {list(mask.shape)} does not broadcast to the attention scores' shape "
                f"{list(mask_shape)}"
            )
        if mask.is_floating_point():
            mask = mask.to(q.dtype)
        if g > 1 and mask.dim() >= 3:
            # The mask's head axis (H_q or 1) becomes (H_k, G) or (1, 1) to match the grouped scores.
            mask = mask.unflatten(-3, (hk, g)) if mask.shape[-3] > 1 else mask.unsqueeze(-3)

    # Only an attn_mask can leave a query no key to attend to: is_causal always lets query i see key 0.
    out = apply(_Attention, q, k, v, mask, score_shape, c, float(dropout_p), attn_mask is not None)
    if g > 1:
        out = out.view(*outer, hk * g, L, value.shape[-1])  # (*, H_q, L, Ev)
    return out if out.dtype == in_dtype else out.to(in_dtype)
