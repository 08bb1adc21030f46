"""RMSNorm and rms_norm: impl against torch and the formula, the eps=None default, and the conformance entries."""

from __future__ import annotations

from typing import Any

import pytest
import torch

import impl.nn as nn
import impl.nn.functional as F

pytestmark = pytest.mark.usefixtures("one_thread")


def _x(*shape: int, scale: float = 1.0, dtype: torch.dtype = torch.float32, seed: int = 0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).mul(scale).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_the_formula(dtype: torch.dtype) -> None:
    x, w = _x(4, 6, 10, dtype=dtype), _x(10, dtype=dtype, seed=1)
    expected = x.double() / (x.double().square().mean(-1, keepdim=True) + 1e-5).sqrt() * w.double()
    torch.testing.assert_close(F.rms_norm(x, (10,), w, 1e-5), expected.to(dtype))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_default_eps_is_the_machine_epsilon_not_1e_6(dtype: torch.dtype) -> None:
    # Rows whose mean square is below 1e-6: eps decides the result.
    x = _x(3, 8, scale=1e-4 if dtype == torch.float32 else 1e-9, dtype=dtype)
    ours = F.rms_norm(x, (8,))
    torch.testing.assert_close(ours, torch.nn.functional.rms_norm(x, (8,)))
    torch.testing.assert_close(ours, F.rms_norm(x, (8,), eps=torch.finfo(dtype).eps))
    assert not torch.allclose(ours, F.rms_norm(x, (8,), eps=1e-6), rtol=1e-2)
    torch.testing.assert_close(nn.RMSNorm(8)(x.requires_grad_()).detach(), torch.nn.RMSNorm(8, dtype=dtype)(x).detach())


def test_gradients_match_finite_differences() -> None:
    x = _x(3, 2, 5, dtype=torch.float64).requires_grad_()
    w = _x(2, 5, dtype=torch.float64, seed=2).requires_grad_()
    assert torch.autograd.gradcheck(lambda a, b: F.rms_norm(a, (2, 5), b), (x, w))
    assert torch.autograd.gradcheck(lambda a: F.rms_norm(a, (5,)), (x,))


def test_gradients_match_torch() -> None:
    x = _x(4, 7, 16).requires_grad_()
    w = _x(16, seed=3).requires_grad_()
    g = _x(4, 7, 16, seed=4)
    ours = torch.autograd.grad(F.rms_norm(x, (16,), w), (x, w), g)
    theirs = torch.autograd.grad(torch.nn.functional.rms_norm(x, (16,), w), (x, w), g)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b)


def test_zero_rows_give_zeros_and_no_nan() -> None:
    x = torch.zeros(2, 4, requires_grad=True)
    y = F.rms_norm(x, (4,))
    y.sum().backward()
    assert torch.equal(y, torch.zeros(2, 4))
    assert x.grad is not None and bool(x.grad.isfinite().all())


def test_module_layout_repr_and_state_dict_match_torch() -> None:
    cases: list[tuple[Any, dict[str, Any]]] = [(8, {}), ([2, 3], {"eps": 1e-6}), (4, {"elementwise_affine": False})]
    for shape, kwargs in cases:
        ours, theirs = nn.RMSNorm(shape, **kwargs), torch.nn.RMSNorm(shape, **kwargs)
        assert repr(ours) == repr(theirs)
        assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
            (k, v.shape) for k, v in theirs.state_dict().items()
        ]
        assert ours.normalized_shape == theirs.normalized_shape
    assert torch.equal(nn.RMSNorm(5).weight.detach(), torch.ones(5))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: F.rms_norm(torch.ones(2, 4), (5,)), "expected input with shape"),
        (lambda: F.rms_norm(torch.ones(2, 4), (4,), torch.ones(5)), "weight"),
        (lambda: F.rms_norm(torch.ones(2, 4), ()), "at least 1-dimensional"),
        (lambda: nn.RMSNorm((2, 3))(torch.ones(3)), "expected input with shape"),
    ],
)
def test_bad_input_names_what_is_wrong(call: object, message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        call()  # type: ignore[operator]
