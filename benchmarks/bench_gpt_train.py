"""One training iteration of the default GPT config, every component from impl against every one from torch.

The default config is nanoGPT's CPU "baby GPT" (4 layers, 4 heads, width 128, block 64, batch 12) on Tiny
Shakespeare; an iteration is forward, backward, gradient clipping and an AdamW step, as in ``impl.train``.
Run with ``tox -e bench`` (or ``pytest benchmarks/bench_gpt_train.py --benchmark-enable``); the summary prints
impl/torch of the median ms/iter.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from impl.checkpoint import build_model
from impl.config import load_config
from impl.data import BatchSampler, load_text, train_val_split
from impl.gpt import Components
from impl.tokenizer import CharTokenizer
from impl.train import train_step


@pytest.fixture(scope="module")
def tokens() -> torch.Tensor:
    text = load_text()
    return train_val_split(torch.tensor(CharTokenizer.from_text(text).encode(text)))[0]


@pytest.mark.parametrize("name", ["torch", "impl"])
def test_gpt_train_iteration(benchmark: Any, tokens: torch.Tensor, name: str) -> None:
    cfg = load_config(sets=[f"components.default={name}"])
    tc = cfg.train
    nn = Components.from_config(cfg.components)
    torch.manual_seed(tc.seed)
    model = build_model(cfg, 65, nn)
    optimizer = nn.AdamW(model.optim_groups(tc.weight_decay), lr=tc.learning_rate, betas=(tc.beta1, tc.beta2))
    sampler = BatchSampler(tokens, cfg.model.block_size, tc.batch_size, torch.Generator().manual_seed(tc.seed))

    def step() -> None:
        train_step(model, optimizer, nn.clip_grad_norm_, *sampler(), lr=tc.learning_rate, grad_clip=tc.grad_clip)

    for _ in range(3):  # warm up: first-call allocation and lazy imports are not what we measure
        step()
    benchmark.group = "GPT train iteration (default config)"
    benchmark.extra_info["impl"] = name
    benchmark.pedantic(step, rounds=30, iterations=1, warmup_rounds=2)
