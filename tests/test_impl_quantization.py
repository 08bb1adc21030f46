"""impl's fake quantization against torch's: the same values and gradients, bit for bit, in every dtype; ties to
even; the straight-through gradient masked where values were clamped; errors that name the bad argument."""

from __future__ import annotations

import pytest
import torch

from impl import fake_quantize_per_channel_affine, fake_quantize_per_tensor_affine

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
RANGES = [(-128, 127, 0.05, 0), (0, 255, 0.02, 128), (-8, 7, 0.3, 2), (0, 1, 0.5, 0)]


def _pair(dtype: torch.dtype, shape: tuple[int, ...] = (50, 7)) -> tuple[torch.Tensor, torch.Tensor]:
    x = (torch.randn(shape, generator=torch.Generator().manual_seed(0)) * 3).to(dtype)
    return x.clone().requires_grad_(), x.clone().requires_grad_()


def _grad(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    g = torch.randn(y.shape, generator=torch.Generator().manual_seed(1)).to(y.dtype)
    (grad,) = torch.autograd.grad(y, x, g)
    return grad


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize(("quant_min", "quant_max", "scale", "zero_point"), RANGES)
@pytest.mark.parametrize("as_tensors", [False, True], ids=["numbers", "tensors"])
def test_per_tensor_is_bitwise_torch(
    dtype: torch.dtype, quant_min: int, quant_max: int, scale: float, zero_point: int, as_tensors: bool
) -> None:
    ours, ref = _pair(dtype)
    qparams: tuple[object, object] = (scale, zero_point)
    if as_tensors:
        qparams = (torch.tensor([scale]), torch.tensor([zero_point], dtype=torch.int32))
    a = fake_quantize_per_tensor_affine(ours, *qparams, quant_min, quant_max)  # type: ignore[arg-type]
    b = torch.fake_quantize_per_tensor_affine(ref, *qparams, quant_min, quant_max)  # type: ignore[call-overload]
    assert a.dtype == dtype and torch.equal(a, b)
    assert torch.equal(_grad(a, ours), _grad(b, ref))


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_per_channel_is_bitwise_torch(dtype: torch.dtype, axis: int) -> None:
    ours, ref = _pair(dtype, (4, 5, 6))
    channels = ours.shape[axis]
    gen = torch.Generator().manual_seed(2)
    scale = torch.rand(channels, generator=gen) * 0.2 + 0.01
    zero_point = torch.randint(-3, 4, (channels,), generator=gen, dtype=torch.int32)
    a = fake_quantize_per_channel_affine(ours, scale, zero_point, axis, -8, 7)
    b = torch.fake_quantize_per_channel_affine(ref, scale, zero_point, axis, -8, 7)
    assert a.dtype == dtype and torch.equal(a, b)
    assert torch.equal(_grad(a, ours), _grad(b, ref))


def test_ties_round_to_even_and_the_gradient_stops_at_the_clamp() -> None:
    x = torch.tensor([1.0, 3.0, 5.0, -1.0, -3.0, 300.0, -300.0], requires_grad=True)
    y = fake_quantize_per_tensor_affine(x, 2.0, 0, -128, 127)
    assert y.tolist() == [0.0, 4.0, 4.0, 0.0, -4.0, 254.0, -256.0]
    y.sum().backward()
    assert x.grad is not None and x.grad.tolist() == [1.0] * 5 + [0.0, 0.0]
    edge = torch.tensor([254.0, -256.0], requires_grad=True)  # exactly quant_max and quant_min: inside
    fake_quantize_per_tensor_affine(edge, 2.0, 0, -128, 127).sum().backward()
    assert edge.grad is not None and edge.grad.tolist() == [1.0, 1.0]


def test_without_a_graph_no_node_is_built() -> None:
    with torch.no_grad():
        y = fake_quantize_per_tensor_affine(torch.randn(3, requires_grad=True), 0.1, 0, -128, 127)
    assert y.grad_fn is None and not y.requires_grad


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: fake_quantize_per_tensor_affine(x, 0.1, 0, 5, 3), r"`quant_min` \(5\) should be less than"),
        (lambda x: fake_quantize_per_tensor_affine(x, 0.1, 200, -128, 127), r"`zero_point` must be between.*200"),
        (
            lambda x: fake_quantize_per_channel_affine(x, torch.ones(3), torch.zeros(3, dtype=torch.int32), 2, 0, 9),
            r"`axis` must be between 0 and number of dimensions of input \(2\), got 2",
        ),
        (
            lambda x: fake_quantize_per_channel_affine(x, torch.ones(2), torch.zeros(2, dtype=torch.int32), 0, 0, 9),
            r"not consistent with input tensor: \(2,\) for 3 channels along axis 0",
        ),
        (
            lambda x: fake_quantize_per_channel_affine(x, torch.ones(3), torch.zeros(2, dtype=torch.int32), 0, 0, 9),
            r"scale and zero-point need to have the same dimensions, got \(3,\) and \(2,\)",
        ),
    ],
    ids=["range", "zero-point", "axis", "channels", "qparams"],
)
def test_bad_arguments_are_named(call: object, message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        call(torch.randn(3, 4))  # type: ignore[operator]
    with pytest.raises(NotImplementedError, match="floating point"):
        fake_quantize_per_tensor_affine(torch.arange(3), 0.1, 0, -128, 127)
