"""scaled_dot_product_attention: softmax(Q K^T * scale + mask) V. The page is
spec/pages/scaled_dot_product_attention.md.

The value checks (forward, backward, dtype, stability) use ``dropout_p = 0``, whose result is deterministic; the
dropout on the attention weights is checked by distribution in the ``random_mask`` check (``extra["random_mask"]``).
The ``properties`` check runs the implementation alone: the bottom-right causal rule for cached decoding, and an
additive ``-inf`` mask agreeing with the boolean one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from hypothesis import strategies as st

from spec.entry import CALL_CHECKS, Entry, ErrorCase, Example, T, Tolerance
from spec.strategies import float_dtypes, seeds

Comparison = tuple[str, torch.Tensor, torch.Tensor]

_lengths = st.integers(0, 8)
_emb = st.integers(1, 16)
# Scores stay moderate (|s| up to ~20) in the value checks: float32 softmax weights carry a relative error of about
# |s| * 2**-24 in every implementation, torch's included, and the query's gradient multiplies it by scale * |K|.
_scales = st.sampled_from([None, None, 0.1, 0.5, 1.0])


@st.composite
def _lead(draw: st.DrawFn) -> tuple[int, ...]:
    """Batch dimensions before (L, E): none, (B,), or (B, H); B may be 0."""
    n = draw(st.integers(0, 2))
    return tuple(draw(st.integers(0 if i == 0 else 1, 3 if i == 0 else 4)) for i in range(n))


def _broadcast_copy(draw: st.DrawFn, lead: tuple[int, ...]) -> tuple[int, ...]:
    """``lead`` with some sizes replaced by 1, or with leading dimensions dropped: shapes that broadcast to it."""
    broadcast: bool = draw(st.booleans())
    if not lead or not broadcast:
        return lead
    shape = tuple(1 if draw(st.booleans()) else d for d in lead)
    return shape[draw(st.integers(0, len(shape))) :]


@st.composite
def _mask(draw: st.DrawFn, lead: tuple[int, ...], L: int, S: int) -> dict[str, Any]:
    """kwargs for the mask: none, is_causal, or a boolean or float attn_mask that broadcasts to (*lead, L, S).

    (A one-dimensional mask of shape (S,) also broadcasts, but some of torch's kernels reject it.)
    """
    kind = draw(st.sampled_from(["none", "causal", "bool", "float"]))
    if kind == "none":
        return {}
    if kind == "causal":
        return {"is_causal": True}
    shape = draw(st.sampled_from([(L, S), (*_broadcast_copy(draw, lead), L, S)]))
    if kind == "bool":
        # high is P(True); 0.0 masks every key, so every row is fully masked and the output is 0.
        return {"attn_mask": T(shape, fill="bool", high=draw(st.sampled_from([0.0, 0.5, 0.8, 0.8, 1.0])))}
    return {"attn_mask": T(shape, scale=draw(st.sampled_from([1.0, 3.0])), grad=draw(st.booleans()))}


@st.composite
def _examples(draw: st.DrawFn) -> Example:
    lead = draw(_lead())
    L, S, E, Ev = draw(_lengths), draw(_lengths), draw(_emb), draw(_emb)
    kv_lead = _broadcast_copy(draw, lead)
    kwargs = draw(_mask(lead, L, S))
    scale = draw(_scales)
    if scale is not None:
        kwargs["scale"] = scale
    return Example(
        args=(T((*lead, L, E), grad=True), T((*kv_lead, S, E), grad=True), T((*kv_lead, S, Ev), grad=True)),
        kwargs=kwargs,
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


@st.composite
def _gqa_examples(draw: st.DrawFn) -> Example:
    """enable_gqa=True with H_k dividing H_q: MHA (G = 1), MQA (H_k = 1) and the groups between."""
    batch = draw(st.integers(1, 3))
    hk, g = draw(st.integers(1, 3)), draw(st.sampled_from([1, 2, 3, 4]))
    L, S, E, Ev = draw(st.integers(1, 8)), draw(st.integers(1, 8)), draw(_emb), draw(_emb)
    kwargs = draw(_mask((batch, hk * g), L, S))
    kwargs["enable_gqa"] = True
    return Example(
        args=(
            T((batch, hk * g, L, E), grad=True),
            T((batch, hk, S, E), grad=True),
            T((batch, hk, S, Ev), grad=True),
        ),
        kwargs=kwargs,
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


@st.composite
def _stability(draw: st.DrawFn) -> Example:
    # Large scores (from a spread-out additive mask, or large queries) make the softmax nearly one-hot, tiny ones
    # make it uniform. They stay moderate: torch's backward recomputes the weights as exp(s - logsumexp), with an
    # error of |s| * 2**-24 in float32, and the key's gradient multiplies that error by the queries, so larger
    # scores put the reference itself outside the tolerance (and so would a huge constant in a mask).
    lead = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    L, S, E = draw(st.integers(1, 8)), draw(st.integers(1, 8)), draw(_emb)
    q_scale = draw(st.sampled_from([1e-20, 1.0, 4.0]))
    kwargs: dict[str, Any] = {}
    if draw(st.booleans()):
        kwargs["attn_mask"] = T((L, S), scale=draw(st.sampled_from([1.0, 10.0])))
    else:
        kwargs["is_causal"] = draw(st.booleans())
    return Example(
        args=(T((*lead, L, E), scale=q_scale, grad=True), T((*lead, S, E), grad=True), T((*lead, S, E), grad=True)),
        kwargs=kwargs,
        dtype=draw(float_dtypes),
        seed=draw(seeds),
        extra={"grad_scale": draw(st.sampled_from([1e-6, 1.0, 1e6]))},
    )


# ----------------------------------------------------------------------------------------------------- properties


@st.composite
def _decoding_examples(draw: st.DrawFn) -> Example:
    """S positions of q, k, v; the last ``new`` of them are the queries of a cached decoding step."""
    lead = (draw(st.integers(1, 3)), draw(st.integers(1, 4)))
    S, E = draw(st.integers(1, 12)), draw(_emb)
    return Example(
        args=(
            T((*lead, S, E), grad=True),
            T((*lead, S, E), grad=True),
            T((*lead, S, E), grad=True),
            T((S, S), fill="bool", high=draw(st.sampled_from([0.0, 0.3, 0.7]))),
        ),
        kwargs={"new": draw(st.integers(1, S))},
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


def _grads(out: torch.Tensor, leaves: tuple[torch.Tensor, ...], seed: int = 0) -> tuple[torch.Tensor, ...]:
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed), dtype=out.dtype)
    return torch.autograd.grad(out, leaves, upstream, allow_unused=True)


def _fresh(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    return tuple(t.detach().clone().requires_grad_(t.requires_grad) for t in tensors)


def bottom_right_decoding(
    sdpa: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, _: Any, new: int
) -> Iterator[Comparison]:
    """The last L queries of a causal pass over S positions equal attention with ``attn_mask = tril(S - L)``.

    This is the cached-decoding rule: the L new queries sit at the end of the S keys, so the causal mask must be
    aligned bottom-right (``is_causal`` aligns it top-left when L < S).
    """
    S = k.shape[-2]
    full = sdpa(q, k, v, is_causal=True)[..., S - new :, :]
    q2, k2, v2 = _fresh(q, k, v)
    mask = torch.ones(new, S, dtype=torch.bool).tril(S - new)
    step = sdpa(q2[..., S - new :, :], k2, v2, attn_mask=mask)
    yield "output of the new queries", step, full
    names = ("query", "key", "value")
    for name, got, want in zip(names, _grads(step, (q2, k2, v2)), _grads(full, (q, k, v)), strict=True):
        yield f"gradient of the {name}", got, want


def additive_mask_matches_boolean(
    sdpa: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: Any, new: int
) -> Iterator[Comparison]:
    """An additive mask of 0 and -inf gives what the boolean mask gives, fully masked rows (output 0) included."""
    additive = torch.zeros(mask.shape, dtype=q.dtype).masked_fill(mask.logical_not(), float("-inf"))
    with_bool = sdpa(q, k, v, attn_mask=mask)
    q2, k2, v2 = _fresh(q, k, v)
    with_add = sdpa(q2, k2, v2, attn_mask=additive)
    yield "output", with_add, with_bool
    for name, got, want in zip("qkv", _grads(with_add, (q2, k2, v2)), _grads(with_bool, (q, k, v)), strict=True):
        yield f"gradient of {name}", got, want


def repeated_kv_heads(
    sdpa: Any, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, **kwargs: Any
) -> Iterator[Comparison]:
    """Grouped-query attention equals ordinary attention over K/V heads each repeated H_q / H_k times.

    Query head h uses key/value head h // (H_q / H_k) (``repeat_interleave``); the gradient of a shared K/V head is
    the sum of the gradients of its copies.
    """
    groups = q.shape[-3] // k.shape[-3]
    grouped = sdpa(q, k, v, **kwargs)
    q2, k2, v2 = _fresh(q, k, v)
    plain_kwargs = {key: value for key, value in kwargs.items() if key != "enable_gqa"}
    mask = plain_kwargs.get("attn_mask")
    if isinstance(mask, torch.Tensor) and mask.requires_grad:
        plain_kwargs["attn_mask"] = mask.detach().clone().requires_grad_()
    plain = sdpa(q2, k2.repeat_interleave(groups, -3), v2.repeat_interleave(groups, -3), **plain_kwargs)
    yield "output", grouped, plain
    for name, got, want in zip("qkv", _grads(grouped, (q, k, v)), _grads(plain, (q2, k2, v2)), strict=True):
        yield f"gradient of {name}", got, want


#: random_mask's view of attention dropout. One key (S = 1) gets attention weight 1 from every query, so the output
#: is the value times the dropout draw of that one weight: element (b, h, i) of the output is v[b, h] * mask[b, h, i]
#: / (1 - p), one mask element each (102,400 of them); and for a fixed mask the output is linear in the values.
_MASK_EXAMPLE = Example(
    args=(
        T((8, 16, 800, 4), fill="zeros"),
        T((8, 16, 1, 4), fill="zeros"),
        T((8, 16, 1, 1), low=1.0, high=2.0, fill="uniform", grad=True),
    ),
)

#: torch's CPU attention kernels compute the weights as exp(s - logsumexp(s)) and recompute them so in backward;
#: in float32 that carries a relative error of about |s| * 2**-24 (6e-6 at scores of 100, 1e-6 already at 16), above
#: assert_close's rtol of 1.3e-6. float64 keeps the defaults.
_TOLERANCE = Tolerance(
    per_dtype={"float32": (1e-5, 1e-5)},
    why="torch's float32 attention weights exp(s - logsumexp(s)) carry a relative error of about |s| * 2**-24",
)

ENTRIES = [
    Entry(
        name="scaled_dot_product_attention",
        path="nn.functional.scaled_dot_product_attention",
        kind="function",
        page="scaled_dot_product_attention",
        checks=(*CALL_CHECKS, "dtype", "stability", "errors", "random_mask", "properties"),
        examples=_examples(),
        stability=_stability(),
        tolerance=_TOLERANCE,
        errors=(
            ErrorCase(
                "attn_mask together with is_causal",
                Example(
                    args=(T((2, 3, 4)), T((2, 3, 4)), T((2, 3, 4))),
                    kwargs={"attn_mask": T((3, 3), fill="bool"), "is_causal": True},
                ),
            ),
            ErrorCase("query and key embedding sizes differ", Example(args=(T((2, 3, 4)), T((2, 3, 5)), T((2, 3, 4))))),
            ErrorCase("key and value lengths differ", Example(args=(T((2, 3, 4)), T((2, 5, 4)), T((2, 6, 4))))),
            ErrorCase("one-dimensional inputs", Example(args=(T((4,)), T((4,)), T((4,))))),
            ErrorCase(
                "key in another dtype than query",
                Example(args=(T((2, 3, 4)), T((2, 3, 4), dtype="float64"), T((2, 3, 4)))),
            ),
            ErrorCase(
                "integer attn_mask",
                Example(
                    args=(T((2, 3, 4)), T((2, 3, 4)), T((2, 3, 4))),
                    kwargs={"attn_mask": T((3, 3), fill="index", high=2, dtype="int64")},
                ),
            ),
            ErrorCase(
                "attn_mask that does not broadcast to (L, S)",
                Example(args=(T((2, 3, 4)), T((2, 5, 4)), T((2, 5, 4))), kwargs={"attn_mask": T((3, 4))}),
            ),
            ErrorCase(
                "enable_gqa with key heads not dividing query heads",
                Example(args=(T((1, 6, 3, 4)), T((1, 4, 3, 4)), T((1, 4, 3, 4))), kwargs={"enable_gqa": True}),
            ),
            ErrorCase(
                "dropout_p above 1",
                Example(args=(T((2, 3, 4)), T((2, 3, 4)), T((2, 3, 4))), kwargs={"dropout_p": 1.5}),
                raises=("ValueError", "RuntimeError"),
            ),
        ),
        extra={
            "properties": (bottom_right_decoding, additive_mask_matches_boolean),
            "property_examples": _decoding_examples(),
            "random_mask": {"p": "dropout_p", "example": _MASK_EXAMPLE, "linear": 2},
        },
    ),
    Entry(
        name="GQA",
        path="nn.functional.scaled_dot_product_attention",
        kind="function",
        page="gqa",
        checks=(*CALL_CHECKS, "dtype", "properties"),
        examples=_gqa_examples(),
        tolerance=_TOLERANCE,
        extra={"properties": (repeated_kv_heads,)},
    ),
]
