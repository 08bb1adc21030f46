"""The two-sample tests of conformance/stats.py: calibrated false-alarm rate, and power where it matters."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conformance import stats

N = stats.SAMPLES


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.mark.parametrize(
    ("value", "expected"),
    # Classic critical values of the Kolmogorov distribution: P(K > 1.3581) = 0.05, P(K > 1.6276) = 0.01.
    [(1.3581, 0.05), (1.6276, 0.01), (1.2238, 0.10), (0.8276, 0.50)],
)
def test_kolmogorov_sf_matches_tabulated_values(value: float, expected: float) -> None:
    assert stats.kolmogorov_sf(value) == pytest.approx(expected, rel=2e-3)


def test_kolmogorov_sf_is_continuous_where_the_two_series_meet() -> None:
    below, above = stats.kolmogorov_sf(1.0 - 1e-9), stats.kolmogorov_sf(1.0 + 1e-9)
    assert below == pytest.approx(above, abs=1e-8)
    assert stats.kolmogorov_sf(0.0) == 1.0
    assert stats.kolmogorov_sf(10.0) < 1e-80


@pytest.mark.parametrize("test", [stats.ks_2samp, stats.mean_ztest, stats.variance_ztest])
@pytest.mark.parametrize("draw", ["normal", "uniform"])
def test_each_test_is_calibrated_on_same_distribution_samples(test: object, draw: str) -> None:
    # 400 pairs of same-distribution samples: about 5% of p-values fall below 0.05 (binomial sd about 1.1%).
    p_values = []
    for seed in range(400):
        rng = _rng(seed)
        x, y = getattr(rng, draw)(size=2000), getattr(rng, draw)(size=2000)
        p_values.append(test(x, y).p_value)  # type: ignore[operator]
    rate = np.mean(np.array(p_values) < 0.05)
    assert 0.015 <= rate <= 0.09, f"{test} rejects {rate:.3f} of same-distribution pairs at level 0.05"


def test_same_distribution_false_alarm_rate_is_at_most_alpha() -> None:
    # alpha = 0.05 split over three tests: the family-wise rate must not exceed 0.05 (400 trials, 3.4 sd margin).
    rejections = sum(
        not stats.same_distribution(_rng(s).normal(size=2000), _rng(s + 10_000).normal(size=2000), alpha=0.05).same
        for s in range(400)
    )
    assert rejections <= 35
    assert rejections >= 1  # a rule that never rejects would pass the line above and detect nothing


def test_same_distribution_accepts_large_same_distribution_samples_at_the_default_alpha() -> None:
    for seed in range(5):
        rng = _rng(seed)
        verdict = stats.same_distribution(rng.uniform(-1, 1, N), rng.uniform(-1, 1, N))
        assert verdict.same, verdict.describe()
        assert verdict.alpha == stats.FALSE_ALARM


@pytest.mark.parametrize("draw", ["normal", "uniform"])
def test_detects_std_off_by_five_percent(draw: str) -> None:
    rng = _rng(1)
    if draw == "normal":
        x, y = rng.normal(scale=1.05, size=N), rng.normal(size=N)
    else:
        x, y = rng.uniform(-1.05, 1.05, N), rng.uniform(-1, 1, N)
    verdict = stats.same_distribution(x, y)
    assert not verdict.same
    assert verdict.results[2].p_value < verdict.per_test_alpha  # the variance test is the one that sees it


def test_detects_uniform_in_place_of_normal_at_equal_variance() -> None:
    rng = _rng(2)
    verdict = stats.same_distribution(rng.uniform(-math.sqrt(3), math.sqrt(3), N), rng.normal(size=N))
    assert not verdict.same
    assert verdict.results[0].p_value < verdict.per_test_alpha  # KS: same mean and variance, different shape


def test_detects_a_mean_shift_of_five_percent_of_a_std() -> None:
    rng = _rng(3)
    verdict = stats.same_distribution(rng.normal(0.05, 1.0, N), rng.normal(size=N))
    assert not verdict.same
    assert verdict.results[1].p_value < verdict.per_test_alpha


def test_detects_swapped_fans_of_kaiming_init() -> None:
    torch.manual_seed(0)
    w = torch.empty(32, 48)  # fan_in 48, fan_out 32
    fan_in = [torch.nn.init.kaiming_normal_(w, mode="fan_in").flatten().clone() for _ in range(66)]
    fan_out = [torch.nn.init.kaiming_normal_(w, mode="fan_out").flatten().clone() for _ in range(66)]
    assert not stats.same_distribution(torch.cat(fan_out), torch.cat(fan_in)).same


def test_detects_clamping_in_place_of_truncation() -> None:
    # Clamping piles values onto the bounds; torch redraws them. Same support, different shape.
    torch.manual_seed(0)
    truncated = torch.nn.init.trunc_normal_(torch.empty(N), a=-1.0, b=1.0)
    clamped = torch.randn(N).clamp(-1.0, 1.0)
    assert not stats.same_distribution(clamped, truncated).same


def test_constant_samples() -> None:
    assert stats.same_distribution(np.full(10, 2.0), np.full(10, 2.0)).same
    assert not stats.same_distribution(np.full(10, 2.0), np.full(10, 3.0)).same


def test_accepts_tensors_arrays_and_lists() -> None:
    a = stats.as_array(torch.arange(4.0, requires_grad=True).reshape(2, 2))
    assert a.dtype == np.float64 and a.shape == (4,)
    assert stats.ks_2samp([1.0, 2.0, 3.0], np.array([1.0, 2.0, 3.0])).statistic == 0.0


def test_ks_statistic_with_ties_is_exact() -> None:
    # F_x jumps to 1 at 0, F_y is 1/2 at 0: D = 1/2, whatever the order of tied values.
    assert stats.ks_2samp([0.0, 0.0], [0.0, 1.0]).statistic == 0.5


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="alpha"):
        stats.same_distribution([1.0, 2.0], [1.0, 2.0], alpha=0.0)
    with pytest.raises(ValueError, match="at least 2"):
        stats.same_distribution([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="non-empty"):
        stats.ks_2samp([], [1.0])


def test_verdict_describes_the_statistics() -> None:
    text = stats.same_distribution(_rng(0).normal(size=100), _rng(1).normal(size=100)).describe()
    for word in ("KS distance", "mean z", "variance z", "false-alarm rate"):
        assert word in text
