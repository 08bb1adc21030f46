"""Forward+backward of each component at GPT shapes, impl against torch in the same run.

Shapes: batch 12, sequence 64, vocabulary 65, width 128 (the baby GPT) and 768 (GPT-2 small). Each benchmark runs
the two sides interleaved (``run_interleaved``), on the same inputs.
Run with ``tox -e bench`` (or ``pytest benchmarks --benchmark-enable``); the summary prints impl/torch ratios.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from interleave import run_interleaved

from nnresolve import Implementation

B, T, V = 12, 64, 65
WIDTHS = (128, 768)
SIDES = ("torch", "impl")


def _get(path: str) -> dict[str, Any]:
    """The component at ``path`` from each side."""
    return {name: Implementation(name).get(path) for name in SIDES}


def _grad_input(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0)).requires_grad_(True)


def _fwd_bwd(module_or_fn: Callable[..., torch.Tensor], *inputs: torch.Tensor) -> Callable[[], None]:
    def step() -> None:
        out = module_or_fn(*inputs)
        out.backward(torch.ones_like(out))
        for t in inputs:
            t.grad = None

    return step


@pytest.mark.parametrize("width", WIDTHS)
def test_linear(benchmark: Any, width: int) -> None:
    x = _grad_input(B, T, width)
    steps = {name: _fwd_bwd(cls(width, 4 * width), x) for name, cls in _get("nn.Linear").items()}
    run_interleaved(benchmark, f"Linear C={width}", steps)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("norm", ["LayerNorm", "RMSNorm"])
def test_norm(benchmark: Any, norm: str, width: int) -> None:
    x = _grad_input(B, T, width)
    steps = {name: _fwd_bwd(cls(width), x) for name, cls in _get(f"nn.{norm}").items()}
    run_interleaved(benchmark, f"{norm} C={width}", steps)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("activation", ["GELU", "SiLU"])
def test_activation(benchmark: Any, activation: str, width: int) -> None:
    # The MLP's hidden width 4C (SwiGLU's gate is 8C/3 wide in the model; 4C here to compare the two).
    x = _grad_input(B, T, 4 * width)
    steps = {name: _fwd_bwd(cls(), x) for name, cls in _get(f"nn.{activation}").items()}
    run_interleaved(benchmark, f"{activation} C={4 * width}", steps)


def test_softmax(benchmark: Any) -> None:
    # Attention scores of the baby GPT: (batch, heads, T, T).
    x = _grad_input(B, 4, T, T)
    steps = {name: _fwd_bwd(lambda t, f=f: f(t, dim=-1), x) for name, f in _get("nn.functional.softmax").items()}
    run_interleaved(benchmark, "softmax (12,4,64,64)", steps)


def test_attention(benchmark: Any) -> None:
    # Causal attention of the baby GPT, q, k and v split off one (B, T, 3C) projection as in the model.
    width, n_head = WIDTHS[0], 4
    qkv = _grad_input(B, T, 3 * width)

    def heads(t: torch.Tensor) -> torch.Tensor:
        return t.view(B, T, n_head, width // n_head).transpose(1, 2)  # (B, nh, T, hs), strided as in the model

    def attend(attention: Callable[..., torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
        def run(x: torch.Tensor) -> torch.Tensor:
            q, k, v = (heads(t) for t in x.split(width, dim=2))
            return attention(q, k, v, is_causal=True)

        return run

    steps = {name: _fwd_bwd(attend(f), qkv) for name, f in _get("nn.functional.scaled_dot_product_attention").items()}
    run_interleaved(benchmark, "causal attention (12,4,64,32)", steps)


@pytest.mark.parametrize("width", WIDTHS)
def test_embedding(benchmark: Any, width: int) -> None:
    idx = torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(0))

    def step_of(emb: Any) -> Callable[[], None]:
        def step() -> None:
            out = emb(idx)
            out.backward(torch.ones_like(out))
            emb.weight.grad = None

        return step

    steps = {name: step_of(cls(V, width)) for name, cls in _get("nn.Embedding").items()}
    run_interleaved(benchmark, f"Embedding C={width}", steps)


def test_cross_entropy(benchmark: Any) -> None:
    logits = _grad_input(B * T, V)
    target = torch.randint(0, V, (B * T,), generator=torch.Generator().manual_seed(1))
    ce = _get("nn.functional.cross_entropy")
    steps = {name: _fwd_bwd(lambda x, f=f: f(x, target), logits) for name, f in ce.items()}
    run_interleaved(benchmark, "cross_entropy (768,65)", steps)


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


@pytest.mark.parametrize("width", WIDTHS)
def test_adamw_step(benchmark: Any, width: int) -> None:
    # Each side updates its own copy of the same parameters.
    opts = {name: cls(_gpt_sized_params(width), lr=1e-3, weight_decay=0.1) for name, cls in _get("optim.AdamW").items()}
    run_interleaved(benchmark, f"AdamW step 4 layers C={width}", {name: opt.step for name, opt in opts.items()})


@pytest.mark.parametrize("width", WIDTHS)
def test_sgd_momentum_step(benchmark: Any, width: int) -> None:
    opts = {
        name: cls(_gpt_sized_params(width), lr=1e-2, momentum=0.9, nesterov=True, weight_decay=1e-4)
        for name, cls in _get("optim.SGD").items()
    }
    run_interleaved(benchmark, f"SGD step 4 layers C={width}", {name: opt.step for name, opt in opts.items()})
