"""Finite-difference checks (``torch.autograd.gradcheck``, float64) of every hand-derived backward in impl."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch.autograd import gradcheck

import impl.nn.functional as F


def _rand(*shape: int, seed: int = 0, scale: float = 1.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).requires_grad_(True)


def _check(fn: Callable[..., torch.Tensor], *inputs: torch.Tensor) -> None:
    assert gradcheck(fn, inputs, check_undefined_grad=True, raise_exception=True)


# ------------------------------------------------------------------------------------------------- linear


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "b_shape"),
    [
        ((3,), (4, 3), (4,)),
        ((5, 3), (4, 3), (4,)),
        ((2, 5, 3), (4, 3), (4,)),
        ((2, 5, 3), (4, 3), None),
        ((2, 5, 3), (4, 3), (5, 4)),  # a bias broadcast over the batch
        ((2, 5, 3), (4, 3), (1,)),
        ((5, 3), (3,), None),  # a 1-D weight drops the output dimension
    ],
)
def test_linear(x_shape: tuple[int, ...], w_shape: tuple[int, ...], b_shape: tuple[int, ...] | None) -> None:
    inputs = [_rand(*x_shape, seed=1), _rand(*w_shape, seed=2)]
    if b_shape is not None:
        inputs.append(_rand(*b_shape, seed=3))
    _check(F.linear, *inputs)


# ---------------------------------------------------------------------------------------------- embedding


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding_idx": 2},
        {"padding_idx": -1},
    ],
)
@pytest.mark.parametrize("index_dtype", [torch.int64, torch.int32])
def test_embedding(kwargs: dict[str, Any], index_dtype: torch.dtype) -> None:
    idx = torch.tensor([[0, 2, 2, 5], [5, 5, 1, 0]], dtype=index_dtype)  # repeats exercise the scatter-add
    pad = kwargs.get("padding_idx")
    # The padding row's zero gradient is a convention, not the derivative: outputs read from it are masked so
    # that finite differences agree (the zeroing itself is checked below).
    keep = (idx != (pad % 6 if isinstance(pad, int) else -1)).unsqueeze(-1)
    _check(lambda w: F.embedding(idx, w, **kwargs) * keep, _rand(6, 3))


def test_embedding_scale_grad_by_freq_divides_by_counts() -> None:
    """Like the padding row, frequency scaling is a convention rather than a derivative: each row's true gradient
    is divided by how often its index occurs in the batch."""
    idx = torch.tensor([[0, 2, 2, 5], [5, 5, 1, 0]])
    upstream = _rand(2, 4, 3, seed=5).detach()
    w_plain, w_scaled = _rand(6, 3), _rand(6, 3)
    F.embedding(idx, w_plain).backward(upstream)
    F.embedding(idx, w_scaled, scale_grad_by_freq=True).backward(upstream)
    counts = torch.bincount(idx.flatten(), minlength=6).clamp(min=1).to(torch.float64)
    assert w_plain.grad is not None and w_scaled.grad is not None
    torch.testing.assert_close(w_scaled.grad, w_plain.grad / counts.unsqueeze(1))


def test_embedding_padding_row_gets_zero_gradient() -> None:
    w = _rand(4, 2)
    F.embedding(torch.tensor([1, 3, 3]), w, padding_idx=3).sum().backward()
    assert w.grad is not None
    assert torch.equal(w.grad[3], torch.zeros(2, dtype=torch.float64))
    assert torch.equal(w.grad[1], torch.ones(2, dtype=torch.float64))


# --------------------------------------------------------------------------------------------- layer_norm


@pytest.mark.parametrize(
    ("x_shape", "normalized_shape", "affine"),
    [
        ((4, 6), (6,), "both"),
        ((2, 3, 6), (6,), "both"),
        ((2, 3, 4), (3, 4), "both"),
        ((2, 3, 4), (2, 3, 4), "both"),
        ((3, 5), (5,), "none"),
        ((3, 5), (5,), "weight"),
        ((3, 5), (5,), "bias"),
    ],
)
def test_layer_norm(x_shape: tuple[int, ...], normalized_shape: tuple[int, ...], affine: str) -> None:
    x = _rand(*x_shape, seed=1, scale=2.0)
    w = _rand(*normalized_shape, seed=2) if affine in ("both", "weight") else None
    b = _rand(*normalized_shape, seed=3) if affine in ("both", "bias") else None
    params = [t for t in (w, b) if t is not None]

    def fn(x: torch.Tensor, *p: torch.Tensor) -> torch.Tensor:
        it = iter(p)
        return F.layer_norm(
            x, normalized_shape, next(it) if w is not None else None, next(it) if b is not None else None, eps=1e-3
        )

    _check(fn, x, *params)


def test_layer_norm_input_far_from_zero() -> None:
    x = (_rand(3, 8, seed=4).detach() + 50.0).requires_grad_(True)
    _check(lambda x, w, b: F.layer_norm(x, (8,), w, b), x, _rand(8, seed=5), _rand(8, seed=6))


# ------------------------------------------------------------------------------------------------ dropout


@pytest.mark.parametrize("p", [0.0, 0.3, 0.9, 1.0])
def test_dropout_with_fixed_mask(p: float) -> None:
    def fn(x: torch.Tensor) -> torch.Tensor:
        torch.manual_seed(1234)  # the same mask on every evaluation gradcheck makes
        return F.dropout(x, p=p)

    _check(fn, _rand(4, 5))


def test_dropout_inplace_with_fixed_mask() -> None:
    def fn(x: torch.Tensor) -> torch.Tensor:
        torch.manual_seed(99)
        return F.dropout(x * 1.0, p=0.4, inplace=True)  # a non-leaf may be overwritten

    _check(fn, _rand(3, 6))


def test_dropout_eval_is_identity_for_autograd() -> None:
    _check(lambda x: F.dropout(x, p=0.5, training=False) * 2.0, _rand(3, 2))


# --------------------------------------------------------------------------------------------------- gelu


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("scale", [1.0, 4.0])
def test_gelu(approximate: str, scale: float) -> None:
    _check(lambda x: F.gelu(x, approximate=approximate), _rand(4, 7, scale=scale))


# --------------------------------------------------------------------------------------------------- silu


@pytest.mark.parametrize("scale", [1.0, 4.0, 20.0])
def test_silu(scale: float) -> None:
    _check(F.silu, _rand(4, 7, scale=scale))


def test_silu_in_place_inside_a_graph() -> None:
    # In place on a non-leaf: the gradient still reaches the leaf, through the write.
    _check(lambda x: F.silu(x * 2.0, inplace=True), _rand(3, 5))


# ---------------------------------------------------------------------------------------- softmax family


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize(("shape", "dim"), [((5,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -1), ((2, 3, 4), 1)])
def test_softmax_family(fn: Callable[..., torch.Tensor], shape: tuple[int, ...], dim: int) -> None:
    _check(lambda x: fn(x, dim=dim), _rand(*shape, scale=3.0))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_family_with_dtype_argument(fn: Callable[..., torch.Tensor]) -> None:
    x = _rand(3, 4).detach().float().requires_grad_(True)
    out = fn(x, dim=1, dtype=torch.float64)
    assert out.dtype == torch.float64
    _check(lambda x: fn(x, dim=1, dtype=torch.float64), _rand(3, 4))


@pytest.mark.parametrize("fn", [F.softmax, F.log_softmax], ids=["softmax", "log_softmax"])
def test_softmax_family_with_masked_entries(fn: Callable[..., torch.Tensor]) -> None:
    mask = torch.tensor([[0.0, float("-inf"), 0.0], [0.0, 0.0, float("-inf")]], dtype=torch.float64)

    def f(x: torch.Tensor) -> torch.Tensor:
        y = fn(x + mask, dim=1)
        return y.masked_fill(torch.isinf(mask), 0.0)  # -inf log-probabilities are not differentiable

    _check(f, _rand(2, 3))


# ---------------------------------------------------------------------------------------- cross_entropy


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore_index", [-100, 2])
def test_cross_entropy_class_indices(reduction: str, label_smoothing: float, weighted: bool, ignore_index: int) -> None:
    target = torch.tensor([0, 2, 4, 2, 1, 3])
    weight = torch.rand(5, generator=torch.Generator().manual_seed(7), dtype=torch.float64) + 0.5 if weighted else None
    _check(
        lambda x: F.cross_entropy(
            x, target, weight=weight, ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing
        ),
        _rand(6, 5, scale=2.0),
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_spatial_and_unbatched(reduction: str, label_smoothing: float) -> None:
    weight = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)
    target = torch.tensor([[[0, 1], [2, 1], [1, 0]], [[2, 2], [0, 1], [1, -100]]])  # (N=2, d1=3, d2=2)
    _check(
        lambda x: F.cross_entropy(x, target, weight=weight, reduction=reduction, label_smoothing=label_smoothing),
        _rand(2, 3, 3, 2),
    )
    _check(
        lambda x: F.cross_entropy(x, torch.tensor(1), weight=weight, reduction=reduction),
        _rand(3),
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets(reduction: str, label_smoothing: float, weighted: bool) -> None:
    """Gradients reach the logits, the target distribution and (for probability targets) the class weights."""
    target = _rand(4, 3, 2, seed=8).detach().softmax(1).requires_grad_(True)
    inputs = [_rand(4, 3, 2), target]
    if weighted:
        inputs.append(_rand(3, seed=9).detach().abs().add(0.2).requires_grad_(True))

    def fn(x: torch.Tensor, q: torch.Tensor, *w: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(x, q, weight=w[0] if w else None, reduction=reduction, label_smoothing=label_smoothing)

    _check(fn, *inputs)


def test_cross_entropy_large_logits() -> None:
    x = (_rand(4, 6).detach() * 3 + 1e4).requires_grad_(True)
    _check(lambda x: F.cross_entropy(x, torch.tensor([0, 5, 3, 3]), label_smoothing=0.1), x)
