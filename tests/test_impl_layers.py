"""impl.nn layers against torch.nn: constructor arguments, parameters, state_dict, repr, init and behaviour."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import nn as tnn

import impl.nn as nn


def _param_layout(module: Any) -> list[tuple[str, tuple[int, ...], torch.dtype, bool]]:
    return [(name, tuple(p.shape), p.dtype, p.requires_grad) for name, p in module.named_parameters()]


def _state_layout(module: Any) -> list[tuple[str, tuple[int, ...], torch.dtype]]:
    return [(k, tuple(v.shape), v.dtype) for k, v in module.state_dict().items()]


def assert_same_module(
    make_impl: Callable[[], Any], make_torch: Callable[[], Any], *inputs: torch.Tensor, seed: int = 0
) -> None:
    """Same parameters (names, shapes, dtypes), state_dict keys and repr; after loading torch's state_dict, the
    same outputs and the same input and parameter gradients."""
    ours, theirs = make_impl(), make_torch()
    assert _param_layout(ours) == _param_layout(theirs)
    assert _state_layout(ours) == _state_layout(theirs)
    assert repr(ours) == repr(theirs)
    ours.load_state_dict(theirs.state_dict())
    xs_t = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
    xs_i = [x.detach().clone().requires_grad_(x.is_floating_point()) for x in inputs]
    out_t, out_i = theirs(*xs_t), ours(*xs_i)
    assert out_i.dtype == out_t.dtype
    torch.testing.assert_close(out_i, out_t, equal_nan=True)
    upstream = torch.randn(out_t.shape, generator=torch.Generator().manual_seed(seed)).to(out_t.dtype)
    leaves_t = [*(x for x in xs_t if x.requires_grad), *theirs.parameters()]
    leaves_i = [*(x for x in xs_i if x.requires_grad), *ours.parameters()]
    if leaves_t and out_t.requires_grad:
        grads_t = torch.autograd.grad(out_t, leaves_t, upstream, allow_unused=True)
        grads_i = torch.autograd.grad(out_i, leaves_i, upstream, allow_unused=True)
        for gt, gi in zip(grads_t, grads_i, strict=True):
            assert (gt is None) == (gi is None)
            if gt is not None:
                torch.testing.assert_close(gi, gt)


def _x(*shape: int, seed: int = 1, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _uniform_bound_ok(t: torch.Tensor, bound: float) -> None:
    """Values in [-bound, bound] with the mean and variance of U(-bound, bound): 6 standard errors each."""
    n = t.numel()
    assert t.abs().max().item() <= bound
    assert abs(t.mean().item()) < 6 * bound / math.sqrt(3 * n)
    var = bound**2 / 3
    # Var of the sample variance of U(-b, b) is (E[x^4] - var^2) / n = (b^4/5 - b^4/9) / n
    assert abs(t.var().item() - var) < 6 * math.sqrt((bound**4 / 5 - bound**4 / 9) / n)


# ------------------------------------------------------------------------------------------------- Linear


@pytest.mark.parametrize(
    "kwargs",
    [
        {"in_features": 7, "out_features": 5},
        {"in_features": 7, "out_features": 5, "bias": False},
        {"in_features": 3, "out_features": 4, "dtype": torch.float64},
        {"in_features": 3, "out_features": 4, "device": "cpu"},
    ],
)
def test_linear_matches_torch(kwargs: dict[str, Any]) -> None:
    dtype = kwargs.get("dtype", torch.float32)
    x = _x(2, 6, kwargs["in_features"], dtype=dtype)
    assert_same_module(lambda: nn.Linear(**kwargs), lambda: tnn.Linear(**kwargs), x)


def test_linear_positional_arguments_and_attributes() -> None:
    layer = nn.Linear(4, 6, False)
    assert (layer.in_features, layer.out_features, layer.bias) == (4, 6, None)
    assert repr(layer) == "Linear(in_features=4, out_features=6, bias=False)"


def test_linear_default_init_statistics() -> None:
    torch.manual_seed(0)
    layer = nn.Linear(256, 512)
    bound = 1 / math.sqrt(256)  # kaiming_uniform_(a=sqrt(5)) and the bias draw share this bound
    _uniform_bound_ok(layer.weight.detach(), bound)
    _uniform_bound_ok(layer.bias.detach(), bound)


def test_linear_reset_parameters_redraws_in_place() -> None:
    layer = nn.Linear(8, 8)
    weight = layer.weight
    before = weight.detach().clone()
    layer.reset_parameters()
    assert layer.weight is weight
    assert not torch.equal(before, layer.weight.detach())


def test_linear_zero_in_features_bias_bound_is_zero() -> None:
    with pytest.warns(UserWarning, match="zero-element"):  # as torch warns
        layer = nn.Linear(0, 3)
    assert torch.equal(layer.bias.detach(), torch.zeros(3))
    assert layer(torch.randn(2, 0)).shape == (2, 3)


# ---------------------------------------------------------------------------------------------- Embedding


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding_idx": 2},
        {"padding_idx": -1},
        {"max_norm": 1.0},
        {"max_norm": 1.0, "norm_type": 1.0},
        {"scale_grad_by_freq": True},
        {"dtype": torch.float64},
    ],
)
def test_embedding_matches_torch(kwargs: dict[str, Any]) -> None:
    idx = torch.tensor([[0, 2, 9, 2], [4, 9, 9, 1]])
    assert_same_module(lambda: nn.Embedding(10, 3, **kwargs), lambda: tnn.Embedding(10, 3, **kwargs), idx)


def test_embedding_padding_index_normalised_and_row_zeroed() -> None:
    emb = nn.Embedding(6, 4, padding_idx=-2)
    assert emb.padding_idx == 4
    assert torch.equal(emb.weight[4].detach(), torch.zeros(4))
    emb.reset_parameters()
    assert torch.equal(emb.weight[4].detach(), torch.zeros(4))


def test_embedding_default_init_is_standard_normal() -> None:
    torch.manual_seed(0)
    w = nn.Embedding(400, 100).weight.detach()
    n = w.numel()
    assert abs(w.mean().item()) < 6 / math.sqrt(n)
    assert abs(w.var().item() - 1.0) < 6 * math.sqrt(2 / n)  # Var of the sample variance of N(0, 1) is 2/n


@pytest.mark.parametrize("freeze", [True, False])
def test_embedding_from_pretrained(freeze: bool) -> None:
    table = torch.arange(12, dtype=torch.float32).view(4, 3)
    ours = nn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=1)
    theirs = tnn.Embedding.from_pretrained(table, freeze=freeze, padding_idx=1)
    assert ours.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    assert ours.weight.data_ptr() == table.data_ptr()  # shared, not copied
    assert repr(ours) == repr(theirs)
    idx = torch.tensor([3, 1, 0])
    torch.testing.assert_close(ours(idx), theirs(idx))


def test_embedding_reprs() -> None:
    options: list[dict[str, Any]] = [
        {},
        {"padding_idx": 0, "max_norm": 2.0, "norm_type": 1.0, "scale_grad_by_freq": True},
    ]
    for kwargs in options:
        assert repr(nn.Embedding(5, 2, **kwargs)) == repr(tnn.Embedding(5, 2, **kwargs))


def test_embedding_errors() -> None:
    with pytest.raises(AssertionError, match="Padding_idx"):
        nn.Embedding(5, 2, padding_idx=5)
    with pytest.raises(AssertionError, match="Padding_idx"):
        nn.Embedding(5, 2, padding_idx=-6)
    with pytest.raises(AssertionError, match="2-dimensional"):
        nn.Embedding.from_pretrained(torch.zeros(3))
    with pytest.raises(AssertionError, match=r"\[5, 2\]"):
        nn.Embedding(5, 2, _weight=torch.zeros(5, 3))
    with pytest.raises(NotImplementedError, match="sparse"):
        nn.Embedding(5, 2, sparse=True)


def test_embedding_max_norm_renormalises_the_weight() -> None:
    emb = nn.Embedding(5, 3, max_norm=1.0)
    with torch.no_grad():
        emb.weight.mul_(10)
    emb(torch.tensor([1, 3]))
    norms = emb.weight.detach().norm(dim=1)
    assert torch.all(norms[[1, 3]] <= 1.0 + 1e-6)
    assert torch.all(norms[[0, 2, 4]] > 1.0)


# ---------------------------------------------------------------------------------------------- LayerNorm


@pytest.mark.parametrize(
    ("args", "kwargs", "x_shape"),
    [
        ((8,), {}, (2, 5, 8)),
        ([4, 8], {}, (2, 4, 8)),
        ((8,), {"elementwise_affine": False}, (3, 8)),
        ((8,), {"bias": False}, (3, 8)),
        ((8,), {"eps": 1e-2}, (3, 8)),
        (torch.Size([2, 3]), {"dtype": torch.float64}, (4, 2, 3)),
    ],
)
def test_layer_norm_matches_torch(args: Any, kwargs: dict[str, Any], x_shape: tuple[int, ...]) -> None:
    dtype = kwargs.get("dtype", torch.float32)
    positional = (args,) if isinstance(args, (list, torch.Size)) else args
    x = _x(*x_shape, dtype=dtype) * 2 + 0.5

    def make(cls: Any) -> Callable[[], Any]:
        def build() -> Any:
            m = cls(*positional, **kwargs)
            if m.weight is not None:  # non-trivial affine parameters, copied across by state_dict
                with torch.no_grad():
                    m.weight.copy_(torch.linspace(0.5, 1.5, m.weight.numel()).view(m.weight.shape))
            return m

        return build

    assert_same_module(make(nn.LayerNorm), make(tnn.LayerNorm), x)


def test_layer_norm_defaults_and_attributes() -> None:
    ln = nn.LayerNorm(6)
    assert ln.normalized_shape == (6,)
    assert ln.eps == 1e-5 and ln.elementwise_affine
    assert torch.equal(ln.weight.detach(), torch.ones(6))
    assert torch.equal(ln.bias.detach(), torch.zeros(6))
    assert repr(ln) == "LayerNorm((6,), eps=1e-05, elementwise_affine=True, bias=True)"
    plain = nn.LayerNorm([2, 3], elementwise_affine=False)
    assert plain.weight is None and plain.bias is None
    assert plain.state_dict() == {} or len(plain.state_dict()) == 0


# -------------------------------------------------------------------------------- Dropout, GELU, Softmax


def test_dropout_module() -> None:
    assert repr(nn.Dropout()) == repr(tnn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Dropout(0.1, True)) == repr(tnn.Dropout(0.1, True))
    for p in (-0.5, 1.01):
        with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
            nn.Dropout(p)
    m = nn.Dropout(0.5)
    x = torch.ones(1000)
    torch.manual_seed(0)
    y = m(x)
    assert set(y.unique().tolist()) == {0.0, 2.0}
    m.eval()
    assert m(x) is x
    m.train()
    assert not torch.equal(m(x), x)
    assert list(m.parameters()) == [] and len(m.state_dict()) == 0


def test_dropout_module_inplace() -> None:
    m = nn.Dropout(0.3, inplace=True)
    h = torch.ones(50, 20)
    out = m(h)
    assert out is h and set(h.unique().tolist()) <= {0.0, torch.tensor(1 / 0.7).item()}


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_module(approximate: str) -> None:
    assert_same_module(lambda: nn.GELU(approximate), lambda: tnn.GELU(approximate), _x(3, 7) * 3)
    assert repr(nn.GELU()) == "GELU(approximate='none')"


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_module(dim: int) -> None:
    assert_same_module(lambda: nn.Softmax(dim), lambda: tnn.Softmax(dim), _x(3, 7) * 3)


def test_softmax_module_without_dim_warns_at_the_call_site() -> None:
    m, tm = nn.Softmax(), tnn.Softmax()
    assert repr(m) == repr(tm) == "Softmax(dim=None)"
    x = _x(2, 3, 4)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = m(x)
    assert len(caught) == 1 and "Implicit dimension choice for softmax" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.testing.assert_close(out, tm(x))


# ------------------------------------------------------------------------------------------ CrossEntropyLoss


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"reduction": "sum"},
        {"reduction": "none", "ignore_index": 1},
        {"label_smoothing": 0.2},
        {"weight": torch.tensor([0.2, 1.0, 3.0, 0.5])},
        {"weight": torch.tensor([0.2, 1.0, 3.0, 0.5]), "label_smoothing": 0.1, "ignore_index": 2},
    ],
)
def test_cross_entropy_loss_matches_torch(kwargs: dict[str, Any]) -> None:
    logits, target = _x(6, 4) * 2, torch.tensor([0, 1, 2, 3, 1, 2])
    assert_same_module(lambda: nn.CrossEntropyLoss(**kwargs), lambda: tnn.CrossEntropyLoss(**kwargs), logits, target)


def test_cross_entropy_loss_weight_is_a_buffer() -> None:
    w = torch.tensor([1.0, 2.0, 3.0])
    loss = nn.CrossEntropyLoss(weight=w)
    assert list(loss.state_dict()) == list(tnn.CrossEntropyLoss(weight=w).state_dict()) == ["weight"]
    assert [name for name, _ in loss.named_buffers()] == ["weight"]
    assert list(loss.parameters()) == []
    weight = loss.to(torch.float64).weight
    assert weight is not None and weight.dtype == torch.float64
    assert len(nn.CrossEntropyLoss().state_dict()) == 0
    assert repr(loss) == repr(tnn.CrossEntropyLoss(weight=w)) == "CrossEntropyLoss()"


def test_cross_entropy_loss_probability_targets() -> None:
    q = _x(5, 3, seed=2).softmax(1)
    assert_same_module(nn.CrossEntropyLoss, tnn.CrossEntropyLoss, _x(5, 3), q)


@pytest.mark.parametrize(("size_average", "reduce", "expected"), [(False, None, "sum"), (None, False, "none")])
def test_cross_entropy_loss_legacy_arguments(size_average: bool | None, reduce: bool | None, expected: str) -> None:
    with pytest.warns(UserWarning, match=f"reduction='{expected}'"):
        loss = nn.CrossEntropyLoss(size_average=size_average, reduce=reduce)
    assert loss.reduction == expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = tnn.CrossEntropyLoss(size_average=size_average, reduce=reduce)
    logits, target = _x(4, 3), torch.tensor([0, 2, 1, 1])
    torch.testing.assert_close(loss(logits, target), reference(logits, target))
