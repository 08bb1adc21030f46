"""Rotary position embeddings: the reference against the RoFormer formula, impl against the reference, float32 angle
drift with position, and the conformance entry catching wrong implementations while passing a differently written
correct one."""

from __future__ import annotations

import math

import hypothesis
import pytest
import torch

import spec
from conformance import run_check
from impl.nn import RotaryEmbedding
from nnresolve import Implementation
from spec.reference.rotary import RotaryEmbedding as Reference

pytestmark = pytest.mark.usefixtures("one_thread")


def _x(*shape: int, dtype: torch.dtype = torch.float64, seed: int = 0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def formula(x: torch.Tensor, offset: int, base: float, interleaved: bool) -> torch.Tensor:
    """RoFormer's formula in complex numbers, in float64: pair i times exp(i m theta_i)."""
    d = x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
    m = torch.arange(offset, offset + x.shape[-2], dtype=torch.float64)[:, None]  # (T, 1)
    rot = torch.polar(torch.ones((), dtype=torch.float64), m * theta)  # (T, d/2) unit complex numbers
    x = x.double()
    pairs = x.unflatten(-1, (d // 2, 2)) if interleaved else torch.stack(x.chunk(2, -1), -1)
    z = torch.view_as_complex(pairs.contiguous()) * rot
    out = torch.view_as_real(z)
    return out.flatten(-2) if interleaved else torch.cat((out[..., 0], out[..., 1]), -1)


@pytest.mark.parametrize("interleaved", [False, True])
def test_reference_is_the_roformer_formula(interleaved: bool) -> None:
    x = _x(2, 3, 5, 8)
    ref = Reference(8, 64, base=100.0, interleaved=interleaved)
    torch.testing.assert_close(ref(x, offset=40), formula(x, 40, 100.0, interleaved))


@pytest.mark.parametrize("interleaved", [False, True])
def test_impl_in_float64_is_the_roformer_formula(interleaved: bool) -> None:
    x = _x(2, 3, 50, 16)
    rope = RotaryEmbedding(16, 5000, interleaved=interleaved)
    torch.testing.assert_close(rope(x, offset=4000), formula(x, 4000, 10000.0, interleaved))


def test_the_conventions_differ_by_a_permutation_of_coordinates() -> None:
    x = _x(1, 2, 6, 8)
    # Interleaved pair i is (2i, 2i+1); half-split pair i is (i, i + 4). Moving coordinates 0,2,4,6 to the front
    # turns one layout into the other.
    perm = torch.tensor([0, 2, 4, 6, 1, 3, 5, 7])
    half, inter = RotaryEmbedding(8, 16), RotaryEmbedding(8, 16, interleaved=True)
    torch.testing.assert_close(half(x[..., perm]), inter(x)[..., perm])
    assert not torch.allclose(half(x), inter(x))


def test_float32_angles_drift_with_position_and_the_reference_evaluates_them_the_same_way() -> None:
    x = _x(1, 1, 4, 64, dtype=torch.float32)
    rope = RotaryEmbedding(64, 4100)
    exact = formula(x, 4000, 10000.0, False)
    drift = (rope(x, offset=4000).double() - exact).abs().max().item()
    # The trap: near position 4000 a float32 angle is off by up to m * 2**-24 ~ 2.4e-4 rad, far outside the
    # default tolerance of an exact evaluation, yet within that bound times |x|.
    assert 1e-5 < drift < 4000 * 2.0**-23 * float(x.abs().max()) * 2
    torch.testing.assert_close(rope(x, offset=4000), Reference(64, 4100)(x, offset=4000))


def test_norms_and_relative_positions() -> None:
    q, k = _x(2, 2, 6, 16), _x(2, 2, 6, 16, seed=1)
    rope = RotaryEmbedding(16, 1000)
    torch.testing.assert_close(rope(q, offset=7).norm(dim=-1), q.norm(dim=-1))
    scores = rope(q) @ rope(k).transpose(-2, -1)
    torch.testing.assert_close(rope(q, offset=500) @ rope(k, offset=500).transpose(-2, -1), scores)


def test_offset_continues_the_sequence() -> None:
    x = _x(2, 3, 10, 8, dtype=torch.float32)
    rope = RotaryEmbedding(8, 10, interleaved=True)
    full = rope(x)
    for start in range(10):
        torch.testing.assert_close(rope(x[..., start:, :], offset=start), full[..., start:, :])


def test_backward_is_the_inverse_rotation() -> None:
    x = _x(2, 2, 5, 6).requires_grad_()
    for interleaved in (False, True):
        rope = RotaryEmbedding(6, 12, interleaved=interleaved)
        assert torch.autograd.gradcheck(lambda t, r=rope: r(t, offset=3), (x,))
        g = _x(2, 2, 5, 6, seed=3)
        (grad,) = torch.autograd.grad(rope(x, offset=3), x, g)
        # R^T g: rotating the gradient back by the same angles undoes it.
        torch.testing.assert_close(rope(grad, offset=3), g)


def test_no_state_and_dtype_follows_the_input() -> None:
    rope = RotaryEmbedding(8, 32)
    assert list(rope.state_dict()) == [] and list(rope.parameters()) == [] and list(rope.buffers()) == []
    assert rope(_x(1, 1, 3, 8, dtype=torch.float32)).dtype == torch.float32
    assert rope.to(torch.float64)(_x(1, 1, 3, 8)).dtype == torch.float64
    assert rope(_x(1, 1, 3, 8, dtype=torch.float32).half()).dtype == torch.float16


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RotaryEmbedding(7, 8), "even"),
        (lambda: RotaryEmbedding(8, 0), "max_seq_len"),
        (lambda: RotaryEmbedding(8, 8)(torch.ones(1, 1, 2, 6)), "expected x of shape"),
        (lambda: RotaryEmbedding(8, 8)(torch.ones(1, 1, 3, 8), offset=6), "outside 0..7"),
        (lambda: RotaryEmbedding(8, 8)(torch.ones(1, 1, 3, 8), offset=-1), "outside"),
    ],
)
def test_bad_input_names_what_is_wrong(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


# Implementations under test for the conformance entry, written unlike impl.


class FloatPowRotary(RotaryEmbedding):
    """Correct, written as many codebases do: inv_freq = 1 / base ** (arange(0, d, 2) / d), all in the input's dtype
    (float32 pow, reciprocal, cos and sin: angles a bit or two off impl's, which the tolerance absorbs)."""

    def tables(self, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        inv_freq = 1.0 / (self.base ** (torch.arange(0, self.head_dim, 2, dtype=dtype) / self.head_dim))
        angles = torch.outer(torch.arange(self.max_seq_len, dtype=dtype), inv_freq)
        return angles.cos(), angles.sin()


class WrongExponentRotary(RotaryEmbedding):
    """Wrong: theta_i = base^(-i/d) (i instead of 2i)."""

    def tables(self, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        inv_freq = self.base ** -(torch.arange(self.head_dim // 2, dtype=torch.float64) / self.head_dim)
        angles = torch.outer(torch.arange(self.max_seq_len, dtype=torch.float64), inv_freq)
        return angles.cos().to(dtype), angles.sin().to(dtype)


class OffsetIgnoredRotary(RotaryEmbedding):
    """Wrong: always starts at position 0 (a cached decoding step would rotate its token as position 0)."""

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        return super().forward(x)


class SwappedConventionRotary(RotaryEmbedding):
    """Wrong: pairs neighbours when asked for halves and the other way round."""

    def __init__(self, head_dim: int, max_seq_len: int, base: float = 10000.0, interleaved: bool = False) -> None:
        super().__init__(head_dim, max_seq_len, base, not interleaved)


def _run(cls: str, check: str, settings: hypothesis.settings) -> str:
    impl = Implementation("impl", {"nn.RotaryEmbedding": f"tests.test_modern_rotary:{cls}"})
    return run_check(impl, spec.get("RotaryEmbedding"), check, settings).status


def test_conformance_entry_passes_a_differently_written_implementation(ci_settings: hypothesis.settings) -> None:
    # impl itself runs the whole entry in test_conformance.py; torch has no rotary embedding to compare with
    entry = spec.get("RotaryEmbedding")
    for check in ("forward", "backward", "dtype", "properties"):
        assert _run("FloatPowRotary", check, ci_settings) == "passed", check
    assert run_check(Implementation("torch"), entry, "forward", ci_settings).status == "missing"


@pytest.mark.parametrize(
    ("cls", "check"),
    [
        ("WrongExponentRotary", "forward"),
        ("OffsetIgnoredRotary", "forward"),
        ("OffsetIgnoredRotary", "properties"),
        ("SwappedConventionRotary", "forward"),
    ],
)
def test_conformance_entry_catches_wrong_implementations(
    cls: str, check: str, ci_settings_unshrunk: hypothesis.settings
) -> None:
    assert _run(cls, check, ci_settings_unshrunk) == "failed"


class HalfSplitOnlyRotary(RotaryEmbedding):
    """Supports only the half-split convention, and says so."""

    def __init__(self, head_dim: int, max_seq_len: int, base: float = 10000.0, interleaved: bool = False) -> None:
        if interleaved:
            raise NotImplementedError("interleaved pairs")
        super().__init__(head_dim, max_seq_len, base)


def test_properties_check_reports_the_violated_property_and_unsupported_settings(
    ci_settings_unshrunk: hypothesis.settings,
) -> None:
    entry = spec.get("RotaryEmbedding")
    bad = Implementation("impl", {"nn.RotaryEmbedding": "tests.test_modern_rotary:OffsetIgnoredRotary"})
    outcome = run_check(bad, entry, "properties", ci_settings_unshrunk)
    assert outcome.status == "failed"
    assert "property violated: Rotating the last positions alone with ``offset``" in outcome.message
    partial = Implementation("impl", {"nn.RotaryEmbedding": "tests.test_modern_rotary:HalfSplitOnlyRotary"})
    outcome = run_check(partial, entry, "properties", ci_settings_unshrunk)
    assert outcome.status == "unsupported" and "interleaved pairs" in outcome.message


def test_reference_angles_are_rounded_like_the_inputs_dtype() -> None:
    ref = Reference(10, 4096)
    exact = 4000 * 10000.0 ** (-2 / 10)
    assert ref.angle(4000, 1, torch.float64) == pytest.approx(exact, rel=1e-15)
    angle32 = ref.angle(4000, 1, torch.float32)
    assert angle32 == float(torch.tensor(4000.0) * torch.tensor(10000.0 ** (-2 / 10), dtype=torch.float32))
    assert angle32 != exact and math.isclose(angle32, exact, rel_tol=2**-22)
