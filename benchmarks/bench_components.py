"""Forward+backward of each component at GPT shapes, impl against torch in the same run.

Shapes: batch 12, sequence 64, vocabulary 65, width 128 (the baby GPT) and 768 (GPT-2 small).
Run with ``tox -e bench`` (or ``pytest benchmarks --benchmark-enable``); the summary prints impl/torch ratios.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

from nnresolve import Implementation

B, T, V = 12, 64, 65
WIDTHS = (128, 768)
SIDES = ("torch", "impl")


def side(name: str) -> Implementation:
    return Implementation(name)


def _grad_input(*shape: int, gen: torch.Generator) -> torch.Tensor:
    return torch.randn(*shape, generator=gen).requires_grad_(True)


def _run(benchmark: Any, group: str, name: str, step: Callable[[], None]) -> None:
    benchmark.group = group
    benchmark.extra_info["impl"] = name
    step()  # warm up: first-call allocation is not what we measure
    benchmark(step)


def _fwd_bwd(module_or_fn: Callable[..., torch.Tensor], *inputs: torch.Tensor) -> Callable[[], None]:
    def step() -> None:
        out = module_or_fn(*inputs)
        out.backward(torch.ones_like(out))
        for t in inputs:
            t.grad = None

    return step


@pytest.mark.parametrize("name", SIDES)
@pytest.mark.parametrize("width", WIDTHS)
def test_linear(benchmark: Any, name: str, width: int) -> None:
    gen = torch.Generator().manual_seed(0)
    layer = side(name).get("nn.Linear")(width, 4 * width)
    _run(benchmark, f"Linear C={width}", name, _fwd_bwd(layer, _grad_input(B, T, width, gen=gen)))


@pytest.mark.parametrize("name", SIDES)
@pytest.mark.parametrize("width", WIDTHS)
def test_layer_norm(benchmark: Any, name: str, width: int) -> None:
    gen = torch.Generator().manual_seed(0)
    layer = side(name).get("nn.LayerNorm")(width)
    _run(benchmark, f"LayerNorm C={width}", name, _fwd_bwd(layer, _grad_input(B, T, width, gen=gen)))


@pytest.mark.parametrize("name", SIDES)
@pytest.mark.parametrize("width", WIDTHS)
def test_gelu(benchmark: Any, name: str, width: int) -> None:
    gen = torch.Generator().manual_seed(0)
    layer = side(name).get("nn.GELU")()
    _run(benchmark, f"GELU C={4 * width}", name, _fwd_bwd(layer, _grad_input(B, T, 4 * width, gen=gen)))


@pytest.mark.parametrize("name", SIDES)
def test_softmax(benchmark: Any, name: str) -> None:
    # Attention scores of the baby GPT: (batch, heads, T, T).
    gen = torch.Generator().manual_seed(0)
    softmax = side(name).get("nn.functional.softmax")
    x = _grad_input(B, 4, T, T, gen=gen)
    _run(benchmark, "softmax (12,4,64,64)", name, _fwd_bwd(lambda t: softmax(t, dim=-1), x))


@pytest.mark.parametrize("name", SIDES)
def test_attention(benchmark: Any, name: str) -> None:
    # Causal attention of the baby GPT, q, k and v split off one (B, T, 3C) projection as in the model.
    gen = torch.Generator().manual_seed(0)
    attention = side(name).get("nn.functional.scaled_dot_product_attention")
    width, n_head = WIDTHS[0], 4
    qkv = _grad_input(B, T, 3 * width, gen=gen)

    def heads(t: torch.Tensor) -> torch.Tensor:
        return t.view(B, T, n_head, width // n_head).transpose(1, 2)  # (B, nh, T, hs), strided as in the model

    def attend(x: torch.Tensor) -> torch.Tensor:
        q, k, v = (heads(t) for t in x.split(width, dim=2))
        return attention(q, k, v, is_causal=True)

    _run(benchmark, "causal attention (12,4,64,32)", name, _fwd_bwd(attend, qkv))


@pytest.mark.parametrize("name", SIDES)
@pytest.mark.parametrize("width", WIDTHS)
def test_embedding(benchmark: Any, name: str, width: int) -> None:
    gen = torch.Generator().manual_seed(0)
    emb = side(name).get("nn.Embedding")(V, width)
    idx = torch.randint(0, V, (B, T), generator=gen)

    def step() -> None:
        out = emb(idx)
        out.backward(torch.ones_like(out))
        emb.weight.grad = None

    _run(benchmark, f"Embedding C={width}", name, step)


@pytest.mark.parametrize("name", SIDES)
def test_cross_entropy(benchmark: Any, name: str) -> None:
    gen = torch.Generator().manual_seed(0)
    ce = side(name).get("nn.functional.cross_entropy")
    logits = _grad_input(B * T, V, gen=gen)
    target = torch.randint(0, V, (B * T,), generator=gen)
    _run(benchmark, "cross_entropy (768,65)", name, _fwd_bwd(lambda x: ce(x, target), logits))


def _gpt_sized_params(width: int, n_layer: int = 4) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    shapes: list[tuple[int, ...]] = [(V, width), (T, width)]
    for _ in range(n_layer):
        shapes += [(width,), (3 * width, width), (width, width), (width,), (4 * width, width), (width, 4 * width)]
    shapes.append((width,))
    params = [(torch.randn(s, generator=gen) * 0.02).requires_grad_(True) for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen) * 1e-3
    return params


@pytest.mark.parametrize("name", SIDES)
@pytest.mark.parametrize("width", WIDTHS)
def test_adamw_step(benchmark: Any, name: str, width: int) -> None:
    opt = side(name).get("optim.AdamW")(_gpt_sized_params(width), lr=1e-3, weight_decay=0.1)
    _run(benchmark, f"AdamW step 4 layers C={width}", name, opt.step)
