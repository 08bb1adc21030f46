"""impl.nn.functional against torch.nn.functional: forward values, gradients, dtypes and errors."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import torch
import torch.nn.functional as TF

import impl.nn.functional as F
from impl.nn.functional._autograd import broadcasts_to


def _clone(a: Any) -> Any:
    if isinstance(a, torch.Tensor):
        return a.detach().clone().requires_grad_(a.requires_grad)
    return a


def assert_matches(
    impl_fn: Callable[..., torch.Tensor],
    torch_fn: Callable[..., torch.Tensor],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Same forward (value, shape, dtype) and same gradients for every argument that requires grad."""
    kwargs = kwargs or {}
    args_t, args_i = [_clone(a) for a in args], [_clone(a) for a in args]
    out_t = torch_fn(*args_t, **kwargs)
    out_i = impl_fn(*args_i, **kwargs)
    assert out_i.shape == out_t.shape
    assert out_i.dtype == out_t.dtype
    torch.testing.assert_close(out_i, out_t, equal_nan=True)
    leaves_t = [a for a in args_t if isinstance(a, torch.Tensor) and a.requires_grad]
    leaves_i = [a for a in args_i if isinstance(a, torch.Tensor) and a.requires_grad]
    if leaves_t:
        gen = torch.Generator().manual_seed(seed)
        upstream = torch.randn(out_t.shape, generator=gen, dtype=torch.float64).to(out_t.dtype)
        grads_t = torch.autograd.grad(out_t, leaves_t, upstream, allow_unused=True)
        grads_i = torch.autograd.grad(out_i, leaves_i, upstream, allow_unused=True)
        for gt, gi in zip(grads_t, grads_i, strict=True):
            assert (gt is None) == (gi is None)
            if gt is not None:
                assert gi.dtype == gt.dtype
                torch.testing.assert_close(gi, gt, equal_nan=True)
    return out_i, out_t


def _float64(a: Any) -> Any:
    if isinstance(a, torch.Tensor) and a.is_floating_point():
        return a.detach().double().requires_grad_(a.requires_grad)
    return a


def assert_as_accurate_as_torch(
    impl_fn: Callable[..., torch.Tensor],
    torch_fn: Callable[..., torch.Tensor],
    args: Sequence[Any],
    kwargs: dict[str, Any] | None = None,
    reference_fn: Callable[..., torch.Tensor] | None = None,
) -> None:
    """For inputs where rounding alone separates two correct implementations by more than assert_close's defaults
    (half precision; float32 far from zero), compare accuracy instead: against torch evaluated in float64, impl's
    largest error (forward and every gradient) is at most 3x torch's, or one unit of the dtype's resolution at the
    reference's scale (the coarser of the output's and the compared tensor's dtype). Same shapes and dtypes as
    torch are still required. ``reference_fn`` (default: ``torch_fn``) gives the float64 evaluation."""
    kwargs = kwargs or {}
    args_t, args_i, args_64 = [_clone(a) for a in args], [_clone(a) for a in args], [_float64(a) for a in args]
    reference_fn = reference_fn or (lambda *a: torch_fn(*a, **kwargs))
    outs = [torch_fn(*args_t, **kwargs), impl_fn(*args_i, **kwargs), reference_fn(*args_64)]
    assert outs[1].shape == outs[0].shape and outs[1].dtype == outs[0].dtype
    upstream = torch.randn(outs[2].shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    results = []
    for out, arg_list in zip(outs, (args_t, args_i, args_64), strict=True):
        leaves = [a for a in arg_list if isinstance(a, torch.Tensor) and a.requires_grad]
        grads = torch.autograd.grad(out, leaves, upstream.to(out.dtype)) if leaves else ()
        results.append([out, *grads])
    for got_t, got_i, ref in zip(*results, strict=True):
        assert got_i.dtype == got_t.dtype and got_i.shape == got_t.shape
        err_t = (got_t.double() - ref).abs().max().item() if ref.numel() else 0.0
        err_i = (got_i.double() - ref).abs().max().item() if ref.numel() else 0.0
        eps = max(torch.finfo(got_t.dtype).eps, torch.finfo(outs[0].dtype).eps)
        unit = eps * (ref.abs().max().item() if ref.numel() else 0.0)
        assert err_i <= max(3 * err_t, unit), f"impl error {err_i:.3g}, torch error {err_t:.3g}"


def _randn(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float32, grad: bool = True) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype).requires_grad_(grad)


def _raised(fn: Callable[[], object]) -> BaseException:
    try:
        fn()
    except Exception as e:
        return e
    raise AssertionError("no exception raised")


def assert_same_error(impl_call: Callable[[], object], torch_call: Callable[[], object], *fragments: str) -> None:
    """impl raises an exception of torch's class (or a subclass) whose message names each fragment."""
    e_torch, e_impl = _raised(torch_call), _raised(impl_call)
    assert isinstance(e_impl, type(e_torch)), f"impl raised {type(e_impl).__name__}, torch {type(e_torch).__name__}"
    for fragment in fragments:
        assert fragment in str(e_impl), f"{fragment!r} not in {str(e_impl)!r}"


# ------------------------------------------------------------------------------------------------- linear


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "b_shape"),
    [
        ((16,), (8, 16), (8,)),
        ((4, 16), (8, 16), (8,)),
        ((2, 5, 16), (8, 16), (8,)),
        ((2, 3, 5, 16), (8, 16), None),
        ((0, 16), (8, 16), (8,)),
        ((2, 0, 16), (8, 16), (8,)),
        ((4, 16), (8, 16), (4, 8)),
        ((2, 5, 16), (8, 16), (1,)),
        ((4, 16), (16,), None),
        ((16,), (16,), ()),
        ((4, 0), (3, 0), (3,)),
    ],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_linear_matches_torch(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], b_shape: tuple[int, ...] | None, dtype: torch.dtype
) -> None:
    args = [_randn(*x_shape, seed=1, dtype=dtype), _randn(*w_shape, seed=2, dtype=dtype)]
    if b_shape is not None:
        args.append(_randn(*b_shape, seed=3, dtype=dtype))
    assert_matches(F.linear, TF.linear, args)


def test_linear_errors() -> None:
    x, w = torch.randn(2, 3), torch.randn(4, 5)
    assert_same_error(lambda: F.linear(x, w), lambda: TF.linear(x, w), "in_features=3", "in_features=5", "[4, 5]")
    assert_same_error(lambda: F.linear(torch.randn(()), w), lambda: TF.linear(torch.randn(()), w), "0D")
    w64 = torch.randn(4, 3, dtype=torch.float64)
    assert_same_error(lambda: F.linear(x, w64), lambda: TF.linear(x, w64), "torch.float32", "torch.float64")
    w3, b = torch.randn(4, 3), torch.randn(5)
    assert_same_error(lambda: F.linear(x, w3, b), lambda: TF.linear(x, w3, b), "[5]", "[2, 4]")
    b3 = torch.randn(1, 2, 4)  # would broadcast to the output, but only by adding a dimension to it
    assert_same_error(lambda: F.linear(x, w3, b3), lambda: TF.linear(x, w3, b3), "[1, 2, 4]", "[2, 4]")


def test_broadcasts_to_agrees_with_torch_broadcast_shapes() -> None:
    """The fast shape check the linear and attention wrappers use, against torch's rule on every small pair."""
    dims = [(), *((d,) for d in (0, 1, 3)), *((a, b) for a in (0, 1, 3) for b in (0, 1, 3))]
    shapes = [*dims, (1, 1, 3), (2, 1, 3)]
    for shape in shapes:
        for target in shapes:
            try:
                expected = torch.broadcast_shapes(shape, target) == target
            except RuntimeError:
                expected = False
            assert broadcasts_to(shape, target) == expected, f"broadcasts_to({shape}, {target})"


# ---------------------------------------------------------------------------------------------- embedding


@pytest.mark.parametrize("idx_shape", [(), (7,), (3, 4), (2, 3, 4), (0,), (2, 0)])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"padding_idx": 3},
        {"padding_idx": -2},
        {"padding_idx": 0},
        {"scale_grad_by_freq": True},
        {"scale_grad_by_freq": True, "padding_idx": 1},
    ],
)
def test_embedding_matches_torch(idx_shape: tuple[int, ...], kwargs: dict[str, Any]) -> None:
    gen = torch.Generator().manual_seed(5)
    idx = torch.randint(0, 10, idx_shape, generator=gen, dtype=torch.int64)
    for index_dtype in (torch.int64, torch.int32):
        assert_matches(F.embedding, TF.embedding, [idx.to(index_dtype), _randn(10, 6)], kwargs)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1.5, 100.0])
def test_embedding_max_norm_renormalises_weight_in_place_like_torch(norm_type: float, max_norm: float) -> None:
    idx = torch.tensor([[1, 3, 3], [7, 1, 0]])
    w_t, w_i = _randn(9, 4, grad=False) * 2, _randn(9, 4, grad=False) * 2
    out_t = TF.embedding(idx, w_t, max_norm=max_norm, norm_type=norm_type)
    out_i = F.embedding(idx, w_i, max_norm=max_norm, norm_type=norm_type)
    torch.testing.assert_close(out_i, out_t)
    torch.testing.assert_close(w_i, w_t)  # referenced rows rescaled, the others untouched
    untouched = [2, 4, 5, 6, 8]
    torch.testing.assert_close(w_i[untouched], (_randn(9, 4, grad=False) * 2)[untouched], rtol=0, atol=0)


def test_embedding_max_norm_on_a_parameter_keeps_gradients() -> None:
    idx = torch.tensor([0, 2, 2])
    args = [idx, (_randn(4, 3, grad=False) * 3).requires_grad_(True)]
    assert_matches(F.embedding, TF.embedding, args, {"max_norm": 1.0})


def test_embedding_errors() -> None:
    w = torch.randn(5, 3)
    bad = torch.tensor([0, 7, 1])
    assert_same_error(lambda: F.embedding(bad, w), lambda: TF.embedding(bad, w), "7", "num_embeddings=5")
    neg = torch.tensor([0, -1])
    assert_same_error(lambda: F.embedding(neg, w), lambda: TF.embedding(neg, w), "-1", "num_embeddings=5")
    fl = torch.tensor([0.0, 1.0])
    assert_same_error(lambda: F.embedding(fl, w), lambda: TF.embedding(fl, w), "torch.float32")
    i16 = torch.tensor([0, 1], dtype=torch.int16)
    assert_same_error(lambda: F.embedding(i16, w), lambda: TF.embedding(i16, w), "torch.int16")
    ok = torch.tensor([0, 1])
    for pad in (5, -6):

        def ours(pad: int = pad) -> torch.Tensor:
            return F.embedding(ok, w, padding_idx=pad)

        def theirs(pad: int = pad) -> torch.Tensor:
            return TF.embedding(ok, w, padding_idx=pad)

        assert_same_error(ours, theirs, "Padding_idx", str(pad))
    w1 = torch.randn(5)
    assert_same_error(lambda: F.embedding(ok, w1), lambda: TF.embedding(ok, w1), "2-D")
    with pytest.raises(NotImplementedError, match="sparse"):
        F.embedding(ok, w, sparse=True)


# --------------------------------------------------------------------------------------------- layer_norm


@pytest.mark.parametrize(
    ("x_shape", "normalized_shape"),
    [
        ((4, 8), (8,)),
        ((2, 5, 32), (32,)),
        ((2, 3, 4, 5), (4, 5)),
        ((3, 4, 5), [3, 4, 5]),
        ((0, 8), (8,)),
        ((6,), torch.Size([6])),
        ((3, 0), (0,)),
    ],
)
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
def test_layer_norm_matches_torch(x_shape: tuple[int, ...], normalized_shape: Sequence[int], affine: str) -> None:
    shape = tuple(normalized_shape)
    args = [
        (_randn(*x_shape, seed=1, grad=False) * 3 + 1).requires_grad_(True),
        _randn(*shape, seed=2) if affine in ("both", "weight") else None,
        _randn(*shape, seed=3) if affine in ("both", "bias") else None,
    ]
    assert_matches(
        lambda x, w, b: F.layer_norm(x, normalized_shape, w, b), lambda x, w, b: TF.layer_norm(x, shape, w, b), args
    )


@pytest.mark.parametrize("eps", [1e-5, 1e-2, 0.0])
@pytest.mark.parametrize(
    ("offset", "dtype"),
    [
        (0.0, torch.float32),
        (0.0, torch.float64),
        (100.0, torch.float64),
        (100.0, torch.float32),
        (0.0, torch.bfloat16),
        (0.0, torch.float16),
    ],
)
def test_layer_norm_eps_offset_dtype(eps: float, offset: float, dtype: torch.dtype) -> None:
    x = (_randn(6, 48, seed=4, grad=False) + offset).to(dtype).requires_grad_(True)
    args = [x, _randn(48, seed=5, dtype=dtype), _randn(48, seed=6, dtype=dtype)]
    rounding_bound = dtype in (torch.bfloat16, torch.float16) or (offset and dtype == torch.float32)
    check = assert_as_accurate_as_torch if rounding_bound else assert_matches
    check(lambda x, w, b: F.layer_norm(x, (48,), w, b, eps), lambda x, w, b: TF.layer_norm(x, (48,), w, b, eps), args)


def test_layer_norm_over_a_single_element() -> None:
    """x_hat is identically 0: the output is the bias and no gradient reaches the input or the weight."""
    x = _randn(7, 1, seed=1, dtype=torch.float64)
    w, b = _randn(1, seed=2, dtype=torch.float64), _randn(1, seed=3, dtype=torch.float64)
    out = F.layer_norm(x, (1,), w, b)
    assert torch.equal(out, b.detach().expand(7, 1))
    gx, gw, _ = torch.autograd.grad(out, [x, w, b], torch.randn(7, 1, dtype=torch.float64))
    torch.testing.assert_close(gx, torch.zeros(7, 1, dtype=torch.float64))
    torch.testing.assert_close(gw, torch.zeros(1, dtype=torch.float64))


def test_layer_norm_errors() -> None:
    x = torch.randn(2, 3)
    assert_same_error(
        lambda: F.layer_norm(x, (4,)), lambda: TF.layer_norm(x, (4,)), "normalized_shape=[4]", "[*, 4]", "[2, 3]"
    )
    assert_same_error(lambda: F.layer_norm(x, (2, 3, 4)), lambda: TF.layer_norm(x, (2, 3, 4)), "[*, 2, 3, 4]")
    w = torch.randn(4)
    assert_same_error(lambda: F.layer_norm(x, (3,), w), lambda: TF.layer_norm(x, (3,), w), "[4]", "[3]")
    assert_same_error(lambda: F.layer_norm(x, ()), lambda: TF.layer_norm(x, ()), "at least 1-dimensional")
    assert_same_error(lambda: F.layer_norm(x, 3), lambda: TF.layer_norm(x, 3), "normalized_shape")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ dropout


def test_dropout_identity_when_not_training_or_p_zero() -> None:
    x = _randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 0.3, training=False, inplace=True) is x


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_and_gradient(p: float) -> None:
    torch.manual_seed(0)
    x = (torch.rand(200, 100) + 0.5).requires_grad_(True)
    y = F.dropout(x, p)
    kept = y != 0
    n = kept.numel()
    # the zeroed fraction is Binomial(n, p) / n: 5 standard deviations make a false alarm ~1e-6
    assert abs((~kept).float().mean().item() - p) < 5 * math.sqrt(p * (1 - p) / n)
    torch.testing.assert_close(y[kept], x[kept] / (1 - p))
    upstream = torch.randn_like(y)
    y.backward(upstream)
    assert x.grad is not None
    torch.testing.assert_close(x.grad, upstream * kept / (1 - p))


def test_dropout_p_one_gives_zeros_and_zero_gradient() -> None:
    x = _randn(4, 5)
    assert_matches(lambda x: F.dropout(x, 1.0), lambda x: TF.dropout(x, 1.0), [x])
    assert torch.equal(F.dropout(x, 1.0), torch.zeros(4, 5))


def test_dropout_follows_torch_manual_seed() -> None:
    x = torch.randn(50, 50)
    torch.manual_seed(3)
    a = F.dropout(x, 0.5)
    torch.manual_seed(3)
    b = F.dropout(x, 0.5)
    c = F.dropout(x, 0.5)
    assert torch.equal(a, b)
    assert not torch.equal(b, c)


def test_dropout_inplace_overwrites_input_and_backpropagates() -> None:
    leaf = _randn(20, 30)
    h = leaf * 2.0
    torch.manual_seed(1)
    out = F.dropout(h, 0.4, inplace=True)
    assert out is h
    kept = out != 0
    out.sum().backward()
    assert leaf.grad is not None
    torch.testing.assert_close(leaf.grad, 2.0 * kept / 0.6)


@pytest.mark.parametrize("p", [-0.1, 1.5, 2])
def test_dropout_rejects_p_outside_unit_interval(p: float) -> None:
    x = torch.randn(3)
    e_torch, e_impl = _raised(lambda: TF.dropout(x, p)), _raised(lambda: F.dropout(x, p))
    assert type(e_impl) is ValueError
    assert str(e_impl) == str(e_torch) == f"dropout probability has to be between 0 and 1, but got {p}"


# --------------------------------------------------------------------------------------------------- gelu


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("scale", [1.0, 5.0, 1e4])
def test_gelu_matches_torch(approximate: str, dtype: torch.dtype, scale: float) -> None:
    x = (_randn(8, 33, seed=1, grad=False) * scale).to(dtype).requires_grad_(True)
    assert_matches(lambda x: F.gelu(x, approximate=approximate), lambda x: TF.gelu(x, approximate=approximate), [x])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_special_values(approximate: str) -> None:
    x = torch.tensor([0.0, -0.0, float("-inf"), float("nan")], requires_grad=True)
    assert_matches(lambda x: F.gelu(x, approximate), lambda x: TF.gelu(x, approximate=approximate), [x])
    # GELU(+inf) = +inf. (torch's vectorised exact kernel returns NaN there, an artefact of its erf approximation.)
    assert F.gelu(torch.tensor(float("inf")), approximate).item() == float("inf")


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("n", [33, (1 << 14) + 1], ids=["small", "large"])  # both sides of the small-input form
def test_gelu_without_a_graph_matches_torch(approximate: str, dtype: torch.dtype, n: int) -> None:
    # magnitudes from 1e-2 to 1e4 (both tails saturate), and the special values torch and impl agree on
    x = _randn(n, seed=2, grad=False) * torch.logspace(-2, 4, n, dtype=torch.float64).float()
    x = torch.cat([torch.tensor([0.0, -0.0, float("-inf"), float("nan")]), x]).to(dtype)
    with torch.no_grad():
        got = F.gelu(x, approximate)
    assert got.dtype == dtype and not got.requires_grad
    torch.testing.assert_close(got, TF.gelu(x, approximate=approximate), equal_nan=True)
    assert F.gelu(torch.tensor(float("inf"), dtype=dtype), approximate).item() == float("inf")


def test_gelu_errors() -> None:
    x = torch.randn(3)
    assert_same_error(lambda: F.gelu(x, approximate="fast"), lambda: TF.gelu(x, approximate="fast"), "'fast'")
    assert_same_error(lambda: F.gelu(x, approximate=None), lambda: TF.gelu(x, approximate=None), "str")  # type: ignore[arg-type]
    xi = torch.tensor([1, 2])
    assert_same_error(lambda: F.gelu(xi), lambda: TF.gelu(xi), "torch.int64")


# ---------------------------------------------------------------------------------------- softmax family

SOFTMAXES = [(F.softmax, TF.softmax), (F.log_softmax, TF.log_softmax)]
SOFTMAX_IDS = ["softmax", "log_softmax"]


@pytest.mark.parametrize(("impl_fn", "torch_fn"), SOFTMAXES, ids=SOFTMAX_IDS)
@pytest.mark.parametrize(
    ("shape", "dim"),
    [
        ((), 0),
        ((), -1),
        ((7,), 0),
        ((4, 9), 1),
        ((4, 9), 0),
        ((4, 9), -2),
        ((2, 3, 5), 1),
        ((2, 4, 6, 6), -1),
        ((3, 0), 1),
        ((0, 3), 1),
    ],
)
def test_softmax_family_matches_torch(
    impl_fn: Callable[..., torch.Tensor], torch_fn: Callable[..., torch.Tensor], shape: tuple[int, ...], dim: int
) -> None:
    assert_matches(lambda x: impl_fn(x, dim), lambda x: torch_fn(x, dim), [_randn(*shape) * 4])


@pytest.mark.parametrize(("impl_fn", "torch_fn"), SOFTMAXES, ids=SOFTMAX_IDS)
@pytest.mark.parametrize(
    ("in_dtype", "dtype"),
    [
        (torch.float32, torch.float64),
        (torch.float64, torch.float32),
        (torch.float32, None),
        (torch.bfloat16, None),
        (torch.float16, None),
        (torch.float16, torch.float32),
    ],
)
def test_softmax_family_dtypes(
    impl_fn: Callable[..., torch.Tensor],
    torch_fn: Callable[..., torch.Tensor],
    in_dtype: torch.dtype,
    dtype: torch.dtype | None,
) -> None:
    x = _randn(5, 12, dtype=in_dtype)
    # computed at a lower precision than the gradient is compared at: 1-ulp differences exceed the defaults
    computed_low = (in_dtype in (torch.float16, torch.bfloat16) and dtype is None) or (
        dtype is not None and dtype.itemsize < in_dtype.itemsize
    )
    if computed_low:
        assert_as_accurate_as_torch(
            lambda x: impl_fn(x, 1, dtype=dtype),
            lambda x: torch_fn(x, 1, dtype=dtype),
            [x],
            reference_fn=lambda x: torch_fn(x, 1),
        )
    else:
        assert_matches(lambda x: impl_fn(x, 1, dtype=dtype), lambda x: torch_fn(x, 1, dtype=dtype), [x])


@pytest.mark.parametrize(("impl_fn", "torch_fn"), SOFTMAXES, ids=SOFTMAX_IDS)
def test_softmax_family_integer_input_with_float_dtype(
    impl_fn: Callable[..., torch.Tensor], torch_fn: Callable[..., torch.Tensor]
) -> None:
    x = torch.tensor([[1, 2, 3], [4, 4, 4]])
    assert_matches(lambda x: impl_fn(x, 1, dtype=torch.float64), lambda x: torch_fn(x, 1, dtype=torch.float64), [x])
    assert_same_error(lambda: impl_fn(x, 1), lambda: torch_fn(x, 1), "torch.int64")


@pytest.mark.parametrize(("impl_fn", "torch_fn"), SOFTMAXES, ids=SOFTMAX_IDS)
def test_softmax_family_is_stable_for_huge_logits_and_masks(
    impl_fn: Callable[..., torch.Tensor], torch_fn: Callable[..., torch.Tensor]
) -> None:
    big = _randn(6, 10, grad=False) * 3 + torch.tensor([1e4, -1e4, 0, 5e3, -3e4, 1e4]).unsqueeze(1)
    assert_matches(lambda x: impl_fn(x, 1), lambda x: torch_fn(x, 1), [big.requires_grad_(True)])
    # a causal-style mask: -inf above the diagonal, never a fully masked row
    masked = _randn(5, 5, grad=False).masked_fill(torch.ones(5, 5, dtype=torch.bool).triu(1), float("-inf"))
    out_i, _ = assert_matches(lambda x: impl_fn(x, -1), lambda x: torch_fn(x, -1), [masked.requires_grad_(True)])
    assert not out_i.isnan().any()
    # a fully masked row is NaN in both
    full = torch.full((2, 3), float("-inf")).requires_grad_(True)
    out_i, _ = assert_matches(lambda x: impl_fn(x, 1), lambda x: torch_fn(x, 1), [full])
    assert out_i.isnan().all()


@pytest.mark.parametrize(("impl_fn", "torch_fn"), SOFTMAXES, ids=SOFTMAX_IDS)
@pytest.mark.parametrize(("ndim", "implicit_dim"), [(0, 0), (1, 0), (2, 1), (3, 0), (4, 1)])
def test_softmax_family_implicit_dim(
    impl_fn: Callable[..., torch.Tensor], torch_fn: Callable[..., torch.Tensor], ndim: int, implicit_dim: int
) -> None:
    x = _randn(*([3] * ndim))
    with warnings.catch_warnings(record=True) as caught_t:
        warnings.simplefilter("always")
        torch_fn(x)
    with warnings.catch_warnings(record=True) as caught_i:
        warnings.simplefilter("always")
        out = impl_fn(x)
    assert [str(w.message) for w in caught_i] == [str(w.message) for w in caught_t]
    assert [w.category for w in caught_i] == [w.category for w in caught_t]
    assert caught_i[0].filename == __file__  # the warning points at the caller, as torch's does
    torch.testing.assert_close(out, torch_fn(x, implicit_dim))


@pytest.mark.parametrize(("impl_fn", "torch_fn"), SOFTMAXES, ids=SOFTMAX_IDS)
def test_softmax_family_dim_out_of_range(
    impl_fn: Callable[..., torch.Tensor], torch_fn: Callable[..., torch.Tensor]
) -> None:
    x = torch.randn(2, 3)
    assert_same_error(lambda: impl_fn(x, 2), lambda: torch_fn(x, 2), "[-2, 1]", "2")
    assert_same_error(lambda: impl_fn(x, -3), lambda: torch_fn(x, -3), "[-2, 1]", "-3")


# ---------------------------------------------------------------------------------------- cross_entropy


def _targets(shape: tuple[int, ...], num_classes: int, seed: int, ignore: int | None = None) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    t = torch.randint(0, num_classes, shape, generator=gen)
    if ignore is not None and t.numel() > 1:
        t.view(-1)[:: max(t.numel() // 3, 1)] = ignore  # about a third of the targets ignored
    return t


CE_INPUT_SHAPES = [(5,), (8, 5), (4, 5, 3), (2, 5, 3, 4), (2, 5, 2, 2, 3)]


@pytest.mark.parametrize("input_shape", CE_INPUT_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2, 1.0])
@pytest.mark.parametrize("ignore_index", [None, -100, 3])
def test_cross_entropy_class_indices(
    input_shape: tuple[int, ...], weighted: bool, label_smoothing: float, ignore_index: int | None
) -> None:
    num_classes = input_shape[0] if len(input_shape) == 1 else input_shape[1]
    target_shape = () if len(input_shape) == 1 else (input_shape[0], *input_shape[2:])
    target = _targets(target_shape, num_classes, seed=1, ignore=ignore_index)
    kwargs: dict[str, Any] = {"label_smoothing": label_smoothing}
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    if weighted:
        kwargs["weight"] = torch.rand(num_classes, generator=torch.Generator().manual_seed(2)) + 0.1
    for reduction in ("mean", "sum", "none"):
        assert_matches(
            F.cross_entropy, TF.cross_entropy, [_randn(*input_shape) * 2, target], kwargs | {"reduction": reduction}
        )


@pytest.mark.parametrize("input_shape", CE_INPUT_SHAPES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
def test_cross_entropy_probability_targets(
    input_shape: tuple[int, ...], weighted: bool, label_smoothing: float
) -> None:
    class_dim = 0 if len(input_shape) == 1 else 1
    num_classes = input_shape[class_dim]
    target = _randn(*input_shape, seed=4, grad=False).softmax(class_dim).requires_grad_(True)
    kwargs: dict[str, Any] = {"label_smoothing": label_smoothing}
    if weighted:
        kwargs["weight"] = torch.rand(num_classes, generator=torch.Generator().manual_seed(2)) + 0.1
    for reduction in ("mean", "sum", "none"):
        assert_matches(
            F.cross_entropy, TF.cross_entropy, [_randn(*input_shape), target], kwargs | {"reduction": reduction}
        )


def test_cross_entropy_probability_target_dtype_promotion_and_negative_ignore_index() -> None:
    x = _randn(4, 3)
    q = _randn(4, 3, seed=1, dtype=torch.float64).softmax(1).detach().requires_grad_(True)
    assert_matches(F.cross_entropy, TF.cross_entropy, [x, q], {"ignore_index": -1})


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_all_targets_ignored(reduction: str, label_smoothing: float, weighted: bool) -> None:
    kwargs: dict[str, Any] = {"reduction": reduction, "label_smoothing": label_smoothing}
    if weighted:
        kwargs["weight"] = torch.rand(3) + 0.1
    out, _ = assert_matches(F.cross_entropy, TF.cross_entropy, [_randn(4, 3), torch.full((4,), -100)], kwargs)
    if reduction == "mean":
        assert out.isnan()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_empty_batch(reduction: str) -> None:
    x = _randn(0, 4)
    assert_matches(F.cross_entropy, TF.cross_entropy, [x, torch.zeros(0, dtype=torch.long)], {"reduction": reduction})
    assert_matches(F.cross_entropy, TF.cross_entropy, [x, _randn(0, 4, seed=1)], {"reduction": reduction})


def test_cross_entropy_byte_targets_and_low_precision() -> None:
    target = torch.tensor([0, 4, 2, 1], dtype=torch.uint8)
    assert_matches(F.cross_entropy, TF.cross_entropy, [_randn(4, 5), target])
    for dtype in (torch.bfloat16, torch.float16):
        assert_matches(F.cross_entropy, TF.cross_entropy, [_randn(6, 5, dtype=dtype), _targets((6,), 5, 0)])


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_cross_entropy_large_logits(label_smoothing: float) -> None:
    offsets = torch.tensor([1e4, -1e4, 3e4, 0.0]).unsqueeze(1)
    x = (_randn(4, 7, grad=False) * 5 + offsets).requires_grad_(True)
    out, _ = assert_matches(
        F.cross_entropy, TF.cross_entropy, [x, torch.tensor([0, 6, 2, 3])], {"label_smoothing": label_smoothing}
    )
    assert out.isfinite()
    # a logit 1e4 above the rest gives a loss of 0 for its class and 1e4 for any other
    confident = torch.tensor([[1e4, 0.0, 0.0]])
    torch.testing.assert_close(F.cross_entropy(confident, torch.tensor([0])), torch.tensor(0.0))
    torch.testing.assert_close(F.cross_entropy(confident, torch.tensor([1])), torch.tensor(1e4))


@pytest.mark.parametrize(
    ("size_average", "reduce"), [(None, False), (False, None), (True, None), (True, True), (False, False)]
)
def test_cross_entropy_legacy_reduction_arguments(size_average: bool | None, reduce: bool | None) -> None:
    x, t = _randn(5, 4), _targets((5,), 4, 0)
    with warnings.catch_warnings(record=True) as caught_t:
        warnings.simplefilter("always")
        expected = TF.cross_entropy(x, t, size_average=size_average, reduce=reduce)
    with warnings.catch_warnings(record=True) as caught_i:
        warnings.simplefilter("always")
        got = F.cross_entropy(x, t, size_average=size_average, reduce=reduce)
    assert [str(w.message) for w in caught_i] == [str(w.message) for w in caught_t]
    torch.testing.assert_close(got, expected)


def test_cross_entropy_elementwise_mean_alias() -> None:
    x, t = _randn(5, 4), _targets((5,), 4, 0)
    with pytest.warns(UserWarning, match="elementwise_mean"):
        got = F.cross_entropy(x, t, reduction="elementwise_mean")
    torch.testing.assert_close(got, TF.cross_entropy(x, t))


def test_cross_entropy_negative_label_smoothing_is_no_smoothing() -> None:
    x, t = _randn(5, 4), _targets((5,), 4, 0)
    assert_matches(F.cross_entropy, TF.cross_entropy, [x, t], {"label_smoothing": -0.5})


def test_cross_entropy_errors() -> None:
    x, t = torch.randn(4, 3), torch.tensor([0, 1, 2, 1])
    ce, tce = F.cross_entropy, TF.cross_entropy
    bad = torch.tensor([0, 1, 3, 1])
    assert_same_error(lambda: ce(x, bad), lambda: tce(x, bad), "Target 3", "3 classes")
    neg = torch.tensor([0, -2, 1, 1])
    assert_same_error(lambda: ce(x, neg), lambda: tce(x, neg), "Target -2")
    assert_same_error(lambda: ce(x, t[:3]), lambda: tce(x, t[:3]), "(4)", "(3)")
    assert_same_error(lambda: ce(x, t.float()), lambda: tce(x, t.float()), "torch.float32")
    assert_same_error(lambda: ce(x, t.int()), lambda: tce(x, t.int()), "torch.int32")
    assert_same_error(lambda: ce(x, t, reduction="avg"), lambda: tce(x, t, reduction="avg"), "avg")
    w4 = torch.ones(4)
    assert_same_error(lambda: ce(x, t, weight=w4), lambda: tce(x, t, weight=w4), "3 classes", "[4]")
    w64 = torch.ones(3, dtype=torch.float64)
    assert_same_error(lambda: ce(x, t, weight=w64), lambda: tce(x, t, weight=w64), "torch.float64")
    assert_same_error(
        lambda: ce(x, t, label_smoothing=1.5), lambda: tce(x, t, label_smoothing=1.5), "label_smoothing", "1.5"
    )
    q = torch.rand(4, 3)
    assert_same_error(lambda: ce(x, q, ignore_index=1), lambda: tce(x, q, ignore_index=1), "ignore_index")
    assert_same_error(lambda: ce(x, q.long()), lambda: tce(x, q.long()), "torch.int64")
    assert_same_error(lambda: ce(x, q, weight=w4), lambda: tce(x, q, weight=w4), "[4]")
    x3 = torch.randn(2, 3, 5)
    t3 = torch.zeros(2, 4, dtype=torch.long)
    assert_same_error(lambda: ce(x3, t3), lambda: tce(x3, t3), "[2, 5]", "[2, 4]")
    x1 = torch.randn(3)
    t2 = torch.tensor([1, 2])
    assert_same_error(lambda: ce(x1, t2), lambda: tce(x1, t2), "2")
    xi = torch.randn(4, 3).long()
    assert_same_error(lambda: ce(xi, t), lambda: tce(xi, t), "torch.int64")
    wg = torch.ones(3, requires_grad=True)
    assert_same_error(lambda: ce(x, t, weight=wg), lambda: tce(x, t, weight=wg), "weight")


# ------------------------------------------------------------------------------------ across all operators

_W = _randn(6, 8, seed=11, grad=False)
OPS: dict[str, tuple[Callable[..., torch.Tensor], Callable[..., torch.Tensor]]] = {
    "linear": (lambda x: F.linear(x, _W), lambda x: TF.linear(x, _W)),
    "layer_norm": (lambda x: F.layer_norm(x, (8,)), lambda x: TF.layer_norm(x, (8,))),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, "tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "softmax": (lambda x: F.softmax(x, -1), lambda x: TF.softmax(x, -1)),
    "log_softmax": (lambda x: F.log_softmax(x, 0), lambda x: TF.log_softmax(x, 0)),
    "cross_entropy": (
        lambda x: F.cross_entropy(x, torch.tensor([1, 0, 7, 2, 7]), label_smoothing=0.1, ignore_index=2),
        lambda x: TF.cross_entropy(x, torch.tensor([1, 0, 7, 2, 7]), label_smoothing=0.1, ignore_index=2),
    ),
}


@pytest.mark.parametrize("name", list(OPS))
def test_non_contiguous_inputs(name: str) -> None:
    impl_fn, torch_fn = OPS[name]
    x = _randn(8, 5, grad=False).t().requires_grad_(True)  # (5, 8), transposed strides
    assert not x.is_contiguous()
    assert_matches(impl_fn, torch_fn, [x])


@pytest.mark.parametrize("name", list(OPS))
def test_backward_twice_leaves_saved_state_and_upstream_intact(name: str) -> None:
    """Backward passes work in place only on their own fresh buffers: a retained graph gives the same gradient
    twice and the upstream gradient is not modified."""
    impl_fn, _ = OPS[name]
    x = _randn(5, 8)
    out = impl_fn(x)
    upstream = torch.randn(out.shape, generator=torch.Generator().manual_seed(3))
    kept = upstream.clone()
    (first,) = torch.autograd.grad(out, x, upstream, retain_graph=True)
    (second,) = torch.autograd.grad(out, x, upstream)
    assert torch.equal(first, second)
    assert torch.equal(upstream, kept)


def test_backward_twice_embedding_and_dropout() -> None:
    w = _randn(10, 4)
    out = F.embedding(torch.tensor([[1, 1, 3], [9, 1, 0]]), w, padding_idx=0, scale_grad_by_freq=True)
    upstream = torch.randn(out.shape)
    kept = upstream.clone()
    (first,) = torch.autograd.grad(out, w, upstream, retain_graph=True)
    assert torch.equal(first, torch.autograd.grad(out, w, upstream)[0])
    assert torch.equal(upstream, kept)
    x = _randn(6, 7)
    out = F.dropout(x, 0.3)
    upstream = torch.randn(1, 7).expand(6, 7)  # an expanded upstream gradient must not be written to
    (first,) = torch.autograd.grad(out, x, upstream, retain_graph=True)
    assert torch.equal(first, torch.autograd.grad(out, x, upstream)[0])


# ------------------------------------------------------------------------------------------------- no graph

_NO_GRAPH_CASES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda x: F.linear(x, torch.linspace(-1, 1, 6 * 8).view(6, 8), torch.ones(6)),
    "layer_norm": lambda x: F.layer_norm(x, (8,), torch.linspace(0.5, 2, 8), torch.zeros(8)),
    "rms_norm": lambda x: F.rms_norm(x, (8,), torch.linspace(0.5, 2, 8)),
    "softmax": lambda x: F.softmax(x, dim=-1),
    "log_softmax": lambda x: F.log_softmax(x, dim=-1),
    "cross_entropy": lambda x: F.cross_entropy(x.reshape(-1, 8), torch.arange(15) % 8),
    "cross_entropy_smoothing": lambda x: F.cross_entropy(x.reshape(-1, 8), torch.arange(15) % 8, label_smoothing=0.1),
    "attention": lambda x: F.scaled_dot_product_attention(x, x, x, is_causal=True),
    "embedding": lambda x: F.embedding(torch.arange(15).view(3, 5) % 4, x.reshape(-1, 8)[:4]),
}


@pytest.mark.parametrize("name", sorted(_NO_GRAPH_CASES))
def test_forward_without_graph_equals_forward_with_graph(name: str) -> None:
    # Without a gradient to compute, the ops skip their autograd node; the numbers must not change.
    op = _NO_GRAPH_CASES[name]
    x = torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(0))
    with_graph = op(x.clone().requires_grad_(True))
    assert with_graph.grad_fn is not None
    for no_graph in (op(x), _under_no_grad(op, x.clone().requires_grad_(True))):
        assert no_graph.grad_fn is None and not no_graph.requires_grad
        torch.testing.assert_close(no_graph, with_graph.detach(), rtol=0, atol=0)


def _under_no_grad(op: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return op(x)
