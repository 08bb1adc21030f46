"""``impl.nn.init`` against ``torch.nn.init``: gains, fans, errors, exact draws and distribution statistics."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.init as tinit

from impl.nn import init
from impl.nn.parameter import Parameter

# Large enough for tight statistics, small enough to stay fast. Every statistical bound below is at least 6 standard
# errors wide (false alarm rate < 1e-8 per check); the seeds are fixed, so the outcome is also deterministic.
N = 1 << 18


def _std_normal_cdf(x: torch.Tensor | float) -> torch.Tensor:
    return 0.5 * torch.special.erfc(-torch.as_tensor(x, dtype=torch.float64) / math.sqrt(2.0))


def _truncnorm_moments(mean: float, std: float, a: float, b: float) -> tuple[float, float]:
    """Mean and standard deviation of N(mean, std^2) truncated to [a, b]."""
    alpha, beta = (a - mean) / std, (b - mean) / std

    def pdf(x: float) -> float:
        return 0.0 if math.isinf(x) else math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

    z = float(_std_normal_cdf(beta) - _std_normal_cdf(alpha))
    ratio = (pdf(alpha) - pdf(beta)) / z
    a_term = 0.0 if math.isinf(alpha) else alpha * pdf(alpha)
    b_term = 0.0 if math.isinf(beta) else beta * pdf(beta)
    var = std**2 * (1 + (a_term - b_term) / z - ratio**2)
    return mean + std * ratio, math.sqrt(var)


def _empirical_cdf(samples: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Fraction of ``samples`` <= each grid point (``grid`` ascending, float32)."""
    # bucketize gives, per sample, the first grid index i with sample <= grid[i]; counting those is the CDF.
    idx = torch.bucketize(samples.flatten().float(), grid)
    return torch.bincount(idx, minlength=grid.numel() + 1)[:-1].cumsum(0).double() / samples.numel()


def _max_cdf_gap(samples: torch.Tensor, cdf: Callable[[torch.Tensor], torch.Tensor], grid: torch.Tensor) -> float:
    """sup over ``grid`` of |empirical CDF - cdf| (a Kolmogorov-Smirnov statistic on a grid)."""
    return float((_empirical_cdf(samples, grid) - cdf(grid.double())).abs().max())


def _dkw_epsilon(n: int, false_alarm: float = 1e-8) -> float:
    # Dvoretzky-Kiefer-Wolfowitz: P(sup |F_n - F| > eps) <= 2 exp(-2 n eps^2).
    return math.sqrt(math.log(2 / false_alarm) / (2 * n))


# --------------------------------------------------------------------------- gain and fans


@pytest.mark.parametrize(
    "nonlinearity, param",
    [
        ("linear", None),
        ("conv1d", None),
        ("conv2d", None),
        ("conv3d", None),
        ("conv_transpose1d", None),
        ("conv_transpose2d", None),
        ("conv_transpose3d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", 3),
        ("leaky_relu", math.sqrt(5)),
        ("selu", None),
    ],
)
def test_calculate_gain_matches_torch(nonlinearity: str, param: float | None) -> None:
    ours = init.calculate_gain(nonlinearity, param)
    assert ours == tinit.calculate_gain(nonlinearity, param)  # type: ignore[arg-type]
    assert type(ours) is type(tinit.calculate_gain(nonlinearity, param))  # type: ignore[arg-type]


@pytest.mark.parametrize("nonlinearity, param", [("softplus", None), ("leaky_relu", True), ("leaky_relu", "0.1")])
def test_calculate_gain_errors_match_torch(nonlinearity: str, param: Any) -> None:
    with pytest.raises(ValueError) as ref:
        tinit.calculate_gain(nonlinearity, param)  # type: ignore[arg-type]
    with pytest.raises(ValueError) as ours:
        init.calculate_gain(nonlinearity, param)
    assert str(ours.value) == str(ref.value)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (4, 2, 3), (8, 4, 3, 3), (2, 3, 1, 2, 5), (0, 4), (1, 1)])
def test_fan_in_and_fan_out_match_torch(shape: tuple[int, ...]) -> None:
    t = torch.empty(shape)
    assert init._calculate_fan_in_and_fan_out(t) == tinit._calculate_fan_in_and_fan_out(t)


@pytest.mark.parametrize("shape", [(), (7,)])
def test_fans_need_two_dimensions(shape: tuple[int, ...]) -> None:
    msg = "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
    for fn in (init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.raises(ValueError, match=msg):
            fn(torch.empty(shape))


def test_bad_mode_and_nonlinearity_errors_match_torch() -> None:
    pairs: list[tuple[Any, Any]] = [
        (init.kaiming_uniform_, tinit.kaiming_uniform_),
        (init.kaiming_normal_, tinit.kaiming_normal_),
    ]
    bad_kwargs: list[dict[str, Any]] = [{"mode": "fan_avg"}, {"nonlinearity": "gelu"}]
    for ours_fn, ref_fn in pairs:
        for kwargs in bad_kwargs:
            with pytest.raises(ValueError) as ref:
                ref_fn(torch.empty(3, 4), **kwargs)
            with pytest.raises(ValueError) as ours:
                ours_fn(torch.empty(3, 4), **kwargs)
            assert str(ours.value) == str(ref.value)
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(torch.empty(3, 4), mode="fan_avg")  # type: ignore[arg-type]
    # The mode is matched case-insensitively, as torch does.
    init.kaiming_uniform_(torch.empty(3, 4), mode="FAN_OUT")  # type: ignore[arg-type]


def test_kaiming_on_zero_elements_warns_and_is_a_no_op() -> None:
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        t = torch.empty(0, 4)
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            assert fn(t) is t


# --------------------------------------------------------------------------- in place, no autograd


@pytest.mark.parametrize(
    "fn",
    [
        lambda t: init.uniform_(t, -1, 1),
        lambda t: init.normal_(t, 0, 0.02),
        lambda t: init.trunc_normal_(t, std=0.02),
        lambda t: init.constant_(t, 0.5),
        init.zeros_,
        init.ones_,
        init.xavier_uniform_,
        init.xavier_normal_,
        init.kaiming_uniform_,
        init.kaiming_normal_,
    ],
)
def test_fills_a_parameter_in_place_without_recording(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    p = Parameter(torch.full((16, 8), float("nan")))
    ptr = p.data_ptr()
    out = fn(p)
    assert out is p and p.data_ptr() == ptr
    assert p.is_leaf and p.grad_fn is None and p.requires_grad
    assert torch.isfinite(p).all()
    # Non-contiguous views are filled in place too.
    base = torch.full((8, 16), float("nan"))
    view = base.t()
    assert fn(view) is view and torch.isfinite(base).all()


def test_constant_ones_zeros() -> None:
    t = torch.empty(3, 4, dtype=torch.float64)
    assert torch.equal(init.constant_(t, 0.25), torch.full((3, 4), 0.25, dtype=torch.float64))
    assert torch.equal(init.ones_(t), torch.ones(3, 4, dtype=torch.float64))
    assert torch.equal(init.zeros_(t), torch.zeros(3, 4, dtype=torch.float64))
    i = torch.empty(5, dtype=torch.int64)
    assert torch.equal(init.constant_(i, 7), torch.full((5,), 7))


# --------------------------------------------------------------------------- exact agreement with torch


@pytest.mark.parametrize(
    "ours, ref, kwargs",
    [
        (init.uniform_, tinit.uniform_, {}),
        (init.uniform_, tinit.uniform_, {"a": -3.0, "b": 0.5}),
        (init.normal_, tinit.normal_, {}),
        (init.normal_, tinit.normal_, {"mean": 1.0, "std": 0.02}),
        (init.xavier_uniform_, tinit.xavier_uniform_, {}),
        (init.xavier_uniform_, tinit.xavier_uniform_, {"gain": 5.0 / 3}),
        (init.xavier_normal_, tinit.xavier_normal_, {"gain": math.sqrt(2.0)}),
        (init.kaiming_uniform_, tinit.kaiming_uniform_, {}),
        (init.kaiming_uniform_, tinit.kaiming_uniform_, {"a": math.sqrt(5)}),
        (init.kaiming_uniform_, tinit.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"}),
        (init.kaiming_normal_, tinit.kaiming_normal_, {}),
        (init.kaiming_normal_, tinit.kaiming_normal_, {"a": 0.1, "mode": "fan_out"}),
        (init.kaiming_normal_, tinit.kaiming_normal_, {"nonlinearity": "tanh"}),
    ],
)
@pytest.mark.parametrize("shape", [(64, 32), (16, 8, 3)])
def test_same_draws_as_torch_for_the_same_generator(ours: Any, ref: Any, kwargs: dict[str, Any], shape: Any) -> None:
    # These functions draw with the same tensor primitive (uniform_/normal_) as torch and compute the same bound or
    # std, so one generator state must give identical tensors: this pins the bound arithmetic exactly.
    expected = ref(torch.empty(shape), **kwargs, generator=torch.Generator().manual_seed(7))
    got = ours(torch.empty(shape), **kwargs, generator=torch.Generator().manual_seed(7))
    assert got.dtype == expected.dtype and torch.equal(got, expected)


def test_generator_makes_draws_reproducible() -> None:
    for fn in (init.uniform_, init.normal_, init.trunc_normal_, init.xavier_normal_, init.kaiming_uniform_):
        a = fn(torch.empty(32, 16), generator=torch.Generator().manual_seed(3))
        b = fn(torch.empty(32, 16), generator=torch.Generator().manual_seed(3))
        c = fn(torch.empty(32, 16), generator=torch.Generator().manual_seed(4))
        assert torch.equal(a, b) and not torch.equal(a, c)


# --------------------------------------------------------------------------- distribution statistics


def test_uniform_statistics() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = -0.3, 0.7
    t = init.uniform_(torch.empty(N), a, b, generator=g).double()
    assert t.min() >= a and t.max() < b
    sd = (b - a) / math.sqrt(12)
    assert abs(t.mean().item() - (a + b) / 2) < 6 * sd / math.sqrt(N)
    # Relative error of a sample std is about sqrt((kurtosis - 1) / N) / 2; a uniform's kurtosis is 1.8.
    assert abs(t.std().item() / sd - 1) < 6 * math.sqrt(0.8 / N) / 2


def test_normal_statistics() -> None:
    g = torch.Generator().manual_seed(1)
    t = init.normal_(torch.empty(N), 0.5, 0.02, generator=g).double()
    assert abs(t.mean().item() - 0.5) < 6 * 0.02 / math.sqrt(N)
    assert abs(t.std().item() / 0.02 - 1) < 6 * math.sqrt(1 / (2 * N))


@pytest.mark.parametrize(
    "fn, kwargs, expected_std",
    [
        (init.xavier_uniform_, {}, math.sqrt(2.0 / (1024 + 512))),
        (init.xavier_normal_, {"gain": 2.0}, 2.0 * math.sqrt(2.0 / (1024 + 512))),
        (init.kaiming_uniform_, {"nonlinearity": "relu"}, math.sqrt(2.0) / math.sqrt(1024)),
        (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2.0) / math.sqrt(512)),
        (init.kaiming_normal_, {}, math.sqrt(2.0 / (1 + 0.0)) / math.sqrt(1024)),
    ],
)
def test_scaled_init_statistics(fn: Any, kwargs: dict[str, Any], expected_std: float) -> None:
    # Weight of shape (fan_out=512, fan_in=1024).
    t = fn(torch.empty(512, 1024), **kwargs, generator=torch.Generator().manual_seed(2)).double()
    n = t.numel()
    assert abs(t.mean().item()) < 6 * expected_std / math.sqrt(n)
    assert abs(t.std().item() / expected_std - 1) < 6 * math.sqrt(1 / (2 * n))
    if "uniform" in fn.__name__:
        bound = math.sqrt(3.0) * expected_std
        assert t.abs().max() <= bound and t.abs().max() > 0.999 * bound


@pytest.mark.parametrize(
    "mean, std, a, b",
    [
        (0.0, 1.0, -2.0, 2.0),
        (0.0, 0.02, -0.04, 0.04),
        (1.0, 2.0, 0.0, 5.0),
        (0.0, 1.0, -1.0, 0.5),
        (0.0, 1.0, 3.0, 4.0),  # far in the upper tail
        (0.0, 1.0, -8.0, -7.0),  # far in the lower tail
        (0.0, 1.0, -math.inf, math.inf),
        (0.0, 1.0, 0.0, math.inf),
    ],
)
def test_trunc_normal_distribution(mean: float, std: float, a: float, b: float) -> None:
    g = torch.Generator().manual_seed(5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = init.trunc_normal_(torch.empty(N), mean, std, a, b, generator=g)
    far = mean < a - 2 * std or mean > b + 2 * std
    assert any("mean is more than 2 std" in str(w.message) for w in caught) == far
    assert t.min() >= a and t.max() <= b and torch.isfinite(t).all()
    exp_mean, exp_std = _truncnorm_moments(mean, std, a, b)
    t64 = t.double()
    assert abs(t64.mean().item() - exp_mean) < 6 * exp_std / math.sqrt(N)
    # Truncated normals have kurtosis below 3, so the normal's sqrt(1/(2N)) relative error bound is safe.
    assert abs(t64.std().item() / exp_std - 1) < 6 * math.sqrt(1 / (2 * N))

    lo, hi = max(a, mean - 6 * std), min(b, mean + 6 * std)
    grid = torch.linspace(lo, hi, 257)
    alpha_cdf = _std_normal_cdf((a - mean) / std)
    z = _std_normal_cdf((b - mean) / std) - alpha_cdf

    def cdf(x: torch.Tensor) -> torch.Tensor:
        return ((_std_normal_cdf((x - mean) / std) - alpha_cdf) / z).clamp(0, 1)

    assert _max_cdf_gap(t, cdf, grid) < _dkw_epsilon(N)


def test_trunc_normal_matches_torchs_distribution() -> None:
    # torch samples by rejection, we by inverting the CDF: the same law, compared by a two-sample KS statistic.
    ours = init.trunc_normal_(torch.empty(N), 0.1, 0.5, -0.5, 1.0, generator=torch.Generator().manual_seed(8))
    m = 1 << 16  # torch's rejection sampler is the slow side
    ref = tinit.trunc_normal_(torch.empty(m), 0.1, 0.5, -0.5, 1.0, generator=torch.Generator().manual_seed(9))
    grid = torch.linspace(-0.5, 1.0, 301)
    gap = (_empirical_cdf(ours, grid) - _empirical_cdf(ref, grid)).abs().max().item()
    # Two-sample DKW: each empirical CDF is within its eps of the truth, so within the sum of each other.
    assert gap < _dkw_epsilon(N) + _dkw_epsilon(m)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_trunc_normal_other_dtypes(dtype: torch.dtype) -> None:
    t = init.trunc_normal_(torch.empty(1 << 16, dtype=dtype), 0.0, 1.0, -1.0, 0.5, generator=torch.Generator())
    assert t.dtype == dtype and t.min() >= -1.0 and t.max() <= 0.5
    exp_mean, exp_std = _truncnorm_moments(0.0, 1.0, -1.0, 0.5)
    # Rounding to 8 mantissa bits (bfloat16) shifts values by at most 2^-9 relative: well inside 0.01.
    assert abs(t.double().mean().item() - exp_mean) < 6 * exp_std / math.sqrt(t.numel()) + 0.01


def test_trunc_normal_warns_when_mean_is_far_outside() -> None:
    with pytest.warns(UserWarning, match="mean is more than 2 std from \\[a, b\\] in nn.init.trunc_normal_"):
        init.trunc_normal_(torch.empty(10), mean=5.0, std=1.0, a=-1.0, b=1.0)


def test_trunc_normal_meta_tensor_is_a_no_op() -> None:
    t = torch.empty(4, 4, device="meta")
    assert init.trunc_normal_(t) is t
