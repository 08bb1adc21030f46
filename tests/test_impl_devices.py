"""impl's ops put their results and gradients on the input's device, the constants they build included.

Checked on the meta device, which holds no values but, like CUDA, allocates each result on a device its inputs
decide: a constant left on the CPU there (a GEMM's added term, the output of an ``out=`` op) shows up as a result
or a gradient on the wrong device, or as a refused cross-device copy. ``embedding`` and ``cross_entropy`` are left
out: they check their indices by value, which a meta tensor does not have.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor

import impl.nn.functional as F

META = torch.device("meta")


def _leaf(*shape: int, dtype: torch.dtype = torch.float32) -> Tensor:
    return torch.randn(*shape, dtype=dtype, device=META, requires_grad=True)


def _mask(*shape: int, dtype: torch.dtype = torch.bool) -> Tensor:
    return torch.ones(*shape, dtype=dtype, device=META)


def _qkv(*q: int) -> tuple[Tensor, ...]:
    kv = (*q[:-2], 5, q[-1]) if len(q) == 3 else (q[0], q[1] // 2, 5, q[-1])  # four query heads share two
    return _leaf(*q), _leaf(*kv), _leaf(*kv)


sdpa = F.scaled_dot_product_attention
# name: (the inputs, the call)
CASES: dict[str, tuple[Callable[[], tuple[Tensor, ...]], Callable[..., Tensor]]] = {
    "linear": (lambda: (_leaf(3, 4), _leaf(5, 4), _leaf(5)), F.linear),
    "layer_norm": (lambda: (_leaf(3, 4), _leaf(4), _leaf(4)), lambda x, w, b: F.layer_norm(x, (4,), w, b)),
    "rms_norm": (lambda: (_leaf(3, 4), _leaf(4)), lambda x, w: F.rms_norm(x, (4,), w)),
    "gelu": (lambda: (_leaf(3, 4),), F.gelu),
    "gelu-float64": (lambda: (_leaf(3, 4, dtype=torch.float64),), F.gelu),
    "gelu-large": (lambda: (_leaf(2, 1 << 14),), F.gelu),  # past the small-input form of the evaluation path
    "gelu-tanh": (lambda: (_leaf(3, 4),), lambda x: F.gelu(x, approximate="tanh")),
    "softmax": (lambda: (_leaf(3, 4),), lambda x: F.softmax(x, -1)),
    "log_softmax": (lambda: (_leaf(3, 4),), lambda x: F.log_softmax(x, -1)),
    "dropout": (lambda: (_leaf(3, 4),), lambda x: F.dropout(x, 0.5)),
    "attention": (lambda: _qkv(2, 3, 4), sdpa),
    "attention-causal": (lambda: _qkv(2, 3, 4), lambda q, k, v: sdpa(q, k, v, is_causal=True)),
    "attention-bool-mask": (lambda: _qkv(2, 3, 4), lambda q, k, v: sdpa(q, k, v, attn_mask=_mask(3, 5))),
    "attention-float-mask-per-batch": (
        lambda: _qkv(2, 3, 4),
        lambda q, k, v: sdpa(q, k, v, attn_mask=_mask(2, 3, 5, dtype=torch.float32)),
    ),
    "attention-gqa": (lambda: _qkv(1, 4, 3, 4), lambda q, k, v: sdpa(q, k, v, enable_gqa=True)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_results_and_gradients_stay_on_the_input_device(name: str) -> None:
    make, call = CASES[name]
    inputs = make()
    out = call(*inputs)
    assert out.device == META, f"{name}: output on {out.device}"
    out.sum().backward()
    for i, t in enumerate(inputs):
        assert t.grad is not None and t.grad.device == META, f"{name}: gradient of input {i} on the wrong device"


@pytest.mark.parametrize("name", list(CASES))
def test_the_evaluation_path_stays_on_the_input_device(name: str) -> None:
    make, call = CASES[name]
    with torch.no_grad():  # the forward pass alone, without an autograd node
        out = call(*make())
    assert out.device == META, f"{name} without a graph: output on {out.device}"
