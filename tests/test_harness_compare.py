"""conformance.compare: which element is worst, where NaN and inf may sit, shape and dtype mismatches."""

from __future__ import annotations

import math

import pytest
import torch

from conformance.compare import Mismatch, compare

RTOL, ATOL = 1.3e-6, 1e-5


def check(actual: object, expected: torch.Tensor, **kwargs: object) -> Mismatch | None:
    return compare(actual, expected, rtol=RTOL, atol=ATOL, what="output", **kwargs)  # type: ignore[arg-type]


def test_equal_tensors_match() -> None:
    x = torch.randn(3, 4)
    assert check(x.clone(), x) is None


def test_within_tolerance_matches_and_just_outside_does_not() -> None:
    expected = torch.tensor([2.0], dtype=torch.float64)
    limit = ATOL + RTOL * 2.0
    assert check(expected + 0.99 * limit, expected) is None
    mismatch = check(expected + 1.01 * limit, expected)
    assert mismatch is not None
    assert mismatch.bad == 1 and mismatch.total == 1


def test_worst_element_is_the_largest_error_and_its_index_is_reported() -> None:
    expected = torch.zeros(2, 3, 4, dtype=torch.float64)
    actual = expected.clone()
    actual[0, 1, 2] = 0.5
    actual[1, 2, 3] = -2.0
    actual[1, 0, 0] = 1e-6  # inside atol: not counted
    mismatch = check(actual, expected)
    assert mismatch is not None
    assert mismatch.index == (1, 2, 3)
    assert mismatch.actual == -2.0 and mismatch.expected == 0.0
    assert mismatch.max_abs == 2.0
    assert mismatch.bad == 2 and mismatch.total == 24
    assert (mismatch.rtol, mismatch.atol) == (RTOL, ATOL)


def test_relative_error_is_measured_against_the_expected_value() -> None:
    expected = torch.tensor([100.0, 1.0], dtype=torch.float64)
    actual = torch.tensor([101.0, 1.5], dtype=torch.float64)
    mismatch = check(actual, expected)
    assert mismatch is not None
    assert mismatch.max_abs == pytest.approx(1.0)
    assert mismatch.max_rel == pytest.approx(0.5)
    # The worst element is the one with the largest absolute error.
    assert mismatch.index == (0,)


def test_nan_in_the_same_place_matches() -> None:
    expected = torch.tensor([1.0, math.nan, 3.0])
    assert check(expected.clone(), expected) is None


@pytest.mark.parametrize("where", ["actual", "expected"])
def test_nan_in_one_tensor_only_is_the_worst_element(where: str) -> None:
    expected = torch.tensor([0.0, 1.0, 2.0, 3.0])
    actual = expected.clone()
    actual[0] = 10.0  # a large finite error elsewhere
    target = actual if where == "actual" else expected
    target[2] = math.nan
    mismatch = check(actual, expected)
    assert mismatch is not None
    assert mismatch.index == (2,)
    assert mismatch.bad == 2
    # max_abs is taken over finite elements only.
    assert mismatch.max_abs == 10.0
    assert mismatch.nonfinite == 1
    assert "2 of 4 elements outside tolerance (rtol=1.3e-06, atol=1e-05), 1 of them a NaN or an infinity" in str(
        mismatch
    )
    value = mismatch.actual if where == "actual" else mismatch.expected
    assert value is not None and math.isnan(value)


def test_matching_infinities_pass_and_opposite_ones_fail() -> None:
    expected = torch.tensor([math.inf, -math.inf, 1.0])
    assert check(expected.clone(), expected) is None
    actual = torch.tensor([math.inf, math.inf, 1.0])
    mismatch = check(actual, expected)
    assert mismatch is not None
    assert mismatch.index == (1,)
    assert mismatch.actual == math.inf and mismatch.expected == -math.inf


def test_finite_where_inf_expected_fails() -> None:
    mismatch = check(torch.tensor([1e30]), torch.tensor([math.inf]))
    assert mismatch is not None
    assert mismatch.index == (0,)
    assert math.isnan(mismatch.max_abs)  # no finite pair to measure
    assert mismatch.nonfinite == 1
    # The message says what is wrong instead of quoting an error of nan.
    assert "nan" not in str(mismatch) and "largest absolute error" not in str(mismatch)
    assert str(mismatch).endswith(f"worst at index [0]: got {float(torch.tensor(1e30))!r}, expected inf")


def test_shape_mismatch_is_named() -> None:
    mismatch = check(torch.zeros(2, 3), torch.zeros(3, 2))
    assert mismatch is not None
    assert mismatch.reason == "shape (2, 3) differs from the reference's (3, 2)"
    assert str(mismatch) == "output: shape (2, 3) differs from the reference's (3, 2)"


def test_dtype_mismatch_is_named_unless_ignored() -> None:
    expected = torch.ones(3, dtype=torch.float64)
    mismatch = check(torch.ones(3, dtype=torch.float32), expected)
    assert mismatch is not None
    assert "dtype torch.float32 differs from the reference's torch.float64" in str(mismatch)
    assert check(torch.ones(3, dtype=torch.float32), expected, check_dtype=False) is None


def test_device_mismatch_is_named() -> None:
    # The meta device holds no values, which is enough: the device is compared before any value is read.
    mismatch = check(torch.ones(3, device="meta"), torch.ones(3))
    assert mismatch is not None
    assert mismatch.reason == "on device meta, the reference's is on cpu"


def test_non_tensor_is_a_mismatch() -> None:
    mismatch = check([1.0, 2.0], torch.tensor([1.0, 2.0]))
    assert mismatch is not None
    assert mismatch.reason == "expected a tensor, got list"


def test_integer_tensors_must_be_equal() -> None:
    expected = torch.tensor([1, 2, 3])
    assert check(expected.clone(), expected) is None
    mismatch = check(torch.tensor([1, 2, 4]), expected)
    assert mismatch is not None
    assert (mismatch.rtol, mismatch.atol) == (0.0, 0.0)
    assert mismatch.index == (2,)


def test_zero_dim_tensors_report_an_empty_index() -> None:
    mismatch = check(torch.tensor(1.0), torch.tensor(2.0))
    assert mismatch is not None
    assert mismatch.index == ()
    assert mismatch.max_rel == pytest.approx(0.5)


def test_message_states_counts_errors_tolerance_and_worst_element() -> None:
    expected = torch.zeros(4, dtype=torch.float64)
    actual = torch.tensor([0.0, 0.0, 0.25, 0.0], dtype=torch.float64)
    text = str(check(actual, expected))
    assert text.startswith("output: values differ: 1 of 4 elements outside tolerance")
    assert "rtol=1.3e-06, atol=1e-05" in text
    assert "largest absolute error 0.25" in text
    assert "worst at index [2]: got 0.25, expected 0.0" in text


def test_gradients_may_be_compared_across_devices_and_without_grad() -> None:
    expected = torch.ones(3, requires_grad=True)
    actual = (torch.ones(3, requires_grad=True) * 1.0).detach().requires_grad_()
    assert check(actual, expected) is None
