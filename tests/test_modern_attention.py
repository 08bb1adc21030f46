"""scaled_dot_product_attention and grouped-query attention: impl against torch and the formula, fully masked rows,
causal alignment (top-left for is_causal, bottom-right for cached decoding), dropout, and the conformance entries."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from impl.nn.functional import scaled_dot_product_attention as sdpa
from impl.nn.kv_cache import causal_attention_kwargs

pytestmark = pytest.mark.usefixtures("one_thread")


torch_sdpa = torch.nn.functional.scaled_dot_product_attention


def _x(*shape: int, dtype: torch.dtype = torch.float64, seed: int = 0, grad: bool = False) -> torch.Tensor:
    t = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)
    return t.requires_grad_(grad)


def _qkv(*lead: int, L: int = 5, S: int = 7, E: int = 8, Ev: int = 6, hk: int | None = None, **kw: Any) -> list[Any]:
    kv_lead = (*lead[:-1], hk) if hk is not None else lead
    return [_x(*lead, L, E, seed=1, **kw), _x(*kv_lead, S, E, seed=2, **kw), _x(*kv_lead, S, Ev, seed=3, **kw)]


def _plain(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The textbook formula in float64 (a boolean mask: True may attend)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    return torch.softmax(scores, -1) @ v


def test_matches_the_textbook_formula() -> None:
    q, k, v = _qkv(2, 3)
    mask = torch.rand(5, 7, generator=torch.Generator().manual_seed(0)) < 0.7
    mask[:, 0] = True  # no fully masked row: the textbook formula would give NaN there
    torch.testing.assert_close(sdpa(q, k, v), _plain(q, k, v))
    torch.testing.assert_close(sdpa(q, k, v, attn_mask=mask), _plain(q, k, v, mask))


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"is_causal": True}, {"scale": 0.3}, {"attn_mask": torch.rand(5, 7, generator=torch.Generator()) < 0.5}],
    ids=["plain", "causal", "scale", "bool-mask"],
)
def test_gradients_match_finite_differences(kwargs: dict[str, Any]) -> None:
    q, k, v = _qkv(2, 3, grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: sdpa(a, b, c, **kwargs), (q, k, v))


def test_float_mask_gradient_matches_finite_differences() -> None:
    q, k, v = _qkv(2, 3, grad=True)
    mask = _x(3, 5, 7, seed=9, grad=True)  # broadcast over the batch: its gradient sums over it
    assert torch.autograd.gradcheck(lambda a, b, c, m: sdpa(a, b, c, attn_mask=m), (q, k, v, mask))


def test_grouped_query_gradients_match_finite_differences() -> None:
    q, k, v = _qkv(2, 4, hk=2, L=3, S=4, E=4, Ev=3, grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: sdpa(a, b, c, is_causal=True, enable_gqa=True), (q, k, v))


def test_fully_masked_rows_give_zero_output_and_zero_gradients() -> None:
    q, k, v = _qkv(2, 3, dtype=torch.float32, grad=True)
    mask = torch.ones(5, 7, dtype=torch.bool)
    mask[2] = False
    out = sdpa(q, k, v, attn_mask=mask)
    out.backward(torch.ones_like(out))
    assert torch.equal(out[..., 2, :], torch.zeros_like(out[..., 2, :]))
    assert q.grad is not None and torch.equal(q.grad[..., 2, :], torch.zeros_like(q.grad[..., 2, :]))
    assert all(bool(t.grad.isfinite().all()) for t in (q, k, v) if t.grad is not None)
    torch.testing.assert_close(out, torch_sdpa(q, k, v, attn_mask=mask))
    # The same through an additive mask of -inf, and with no key at all.
    additive = torch.zeros(5, 7).masked_fill(~mask, -math.inf)
    torch.testing.assert_close(sdpa(q, k, v, attn_mask=additive), out)
    torch.testing.assert_close(sdpa(q, k[..., :0, :], v[..., :0, :]), torch.zeros(2, 3, 5, 6))


def test_huge_scores_do_not_overflow() -> None:
    q, k, v = _qkv(2, 3, dtype=torch.float32)
    out = sdpa(q * 1e4, k, v)
    assert bool(out.isfinite().all())
    # Essentially one-hot weights: each output is the value of its best-scoring key.
    best = (q @ k.transpose(-2, -1)).argmax(-1, keepdim=True).expand(-1, -1, -1, v.shape[-1])
    torch.testing.assert_close(out, v.gather(-2, best))


def test_is_causal_is_aligned_top_left_like_torch() -> None:
    q, k, v = _qkv(2, 3, L=3, S=7)
    ours = sdpa(q, k, v, is_causal=True)
    torch.testing.assert_close(ours, torch_sdpa(q, k, v, is_causal=True))
    # Query 0 sees key 0 only.
    torch.testing.assert_close(ours[..., 0, :], v[..., 0, :])
    q, k, v = _qkv(2, 3, L=7, S=3)
    torch.testing.assert_close(sdpa(q, k, v, is_causal=True), torch_sdpa(q, k, v, is_causal=True))


@pytest.mark.parametrize("new", [1, 2, 5])
def test_cached_decoding_uses_the_bottom_right_mask(new: int) -> None:
    q, k, v = _qkv(2, 3, L=8, S=8)
    full = sdpa(q, k, v, is_causal=True)
    step = sdpa(q[..., -new:, :], k, v, **causal_attention_kwargs(new, 8))
    torch.testing.assert_close(step, full[..., -new:, :])
    if new > 1:  # is_causal would be the wrong rule here
        assert not torch.allclose(sdpa(q[..., -new:, :], k, v, is_causal=True), full[..., -new:, :])


def test_causal_attention_kwargs() -> None:
    assert causal_attention_kwargs(4, 4) == {"is_causal": True}
    assert causal_attention_kwargs(1, 9) == {}
    mask = causal_attention_kwargs(2, 4)["attn_mask"]
    assert mask.tolist() == [[True, True, True, False], [True, True, True, True]]
    with pytest.raises(ValueError, match="new <= total"):
        causal_attention_kwargs(5, 4)


@pytest.mark.parametrize("hk", [1, 2, 6])
def test_grouped_query_attention_repeats_each_kv_head_for_consecutive_query_heads(hk: int) -> None:
    q, k, v = _qkv(2, 6, hk=hk)
    grouped = sdpa(q, k, v, enable_gqa=True, is_causal=True)
    g = 6 // hk
    repeated = sdpa(q, k.repeat_interleave(g, -3), v.repeat_interleave(g, -3), is_causal=True)
    torch.testing.assert_close(grouped, repeated)
    torch.testing.assert_close(grouped, torch_sdpa(q, k, v, enable_gqa=True, is_causal=True))
    if hk == 2:  # tiling (head h uses kv head h % hk) is a different, wrong grouping
        tiled = sdpa(q, k.repeat(1, g, 1, 1), v.repeat(1, g, 1, 1), is_causal=True)
        assert not torch.allclose(grouped, tiled)


def test_gradient_of_a_shared_kv_head_is_the_sum_over_its_group() -> None:
    q, k, v = _qkv(1, 4, hk=2, grad=True)
    sdpa(q, k, v, enable_gqa=True).sum().backward()
    k2 = k.detach().clone().requires_grad_()
    sdpa(q.detach(), k2.repeat_interleave(2, -3), v.detach().repeat_interleave(2, -3)).sum().backward()
    torch.testing.assert_close(k.grad, k2.grad)


def test_dropout_drops_attention_weights_at_rate_p_and_rescales() -> None:
    torch.manual_seed(0)
    n_rows = 40_000
    q, k = torch.zeros(1, 1, n_rows, 4), torch.zeros(1, 1, 1, 4)
    v = torch.tensor([[[[2.0, 3.0]]]])  # one key: every weight is 1; the output row is v, or 0 if dropped
    out = sdpa(q, k, v, dropout_p=0.25)
    dropped = out[..., 0] == 0
    # Both columns of a row share the dropped weight: dropout acts on the weights, not on the output.
    assert torch.equal(dropped, out[..., 1] == 0)
    torch.testing.assert_close(out[~dropped], v.reshape(1, 2).expand(int((~dropped).sum()), 2) / 0.75)
    rate = float(dropped.float().mean())
    assert abs(rate - 0.25) < 6 * math.sqrt(0.25 * 0.75 / n_rows)
    assert torch.equal(sdpa(q, k, v, dropout_p=1.0), torch.zeros_like(out))


def test_dropout_follows_torch_manual_seed() -> None:
    q, k, v = _qkv(2, 3, dtype=torch.float32)
    torch.manual_seed(5)
    a = sdpa(q, k, v, dropout_p=0.5)
    torch.manual_seed(5)
    assert torch.equal(a, sdpa(q, k, v, dropout_p=0.5))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"attn_mask": torch.ones(5, 7, dtype=torch.bool), "is_causal": True}, "should not be set"),
        ({"attn_mask": torch.ones(5, 7, dtype=torch.long)}, "attn_mask dtype"),
        ({"attn_mask": torch.ones(2, 2, 3, 5, 7, dtype=torch.bool)}, "does not broadcast"),
        ({"dropout_p": 1.5}, "between 0 and 1"),
    ],
)
def test_bad_arguments_name_what_is_wrong(kwargs: dict[str, Any], message: str) -> None:
    q, k, v = _qkv(2, 3, dtype=torch.float32)
    with pytest.raises((RuntimeError, ValueError), match=message):
        sdpa(q, k, v, **kwargs)


def test_bad_shapes_name_what_is_wrong() -> None:
    q, k, v = _qkv(2, 6, hk=4)
    with pytest.raises(RuntimeError, match="must divide the number of heads"):
        sdpa(q, k, v, enable_gqa=True)
    with pytest.raises(RuntimeError, match="same embedding size"):
        sdpa(q, k[..., :3], v)
    with pytest.raises(RuntimeError, match="same sequence length"):
        sdpa(q, k, v[..., :2, :])
    with pytest.raises(RuntimeError, match="same dtype"):
        sdpa(q, k.float(), v)
