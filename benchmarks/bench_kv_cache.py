"""Decoding with and without the key/value cache: 480 tokens from a 32-token prompt with a block-512 model.

The model is the default config's shape (4 layers, 4 heads, width 128, vocabulary 65) with ``block_size = 512``, so
the 32 + 480 tokens just fill the context and nothing is cropped. Without the cache, step t runs the model over all
t tokens (cost growing with t); with it, over the new token only, so the cost per token stays nearly flat: the
``decoding step`` groups time one cached step with 50 and with 500 positions already in the cache.

Run with ``pytest benchmarks/bench_kv_cache.py --benchmark-enable``; each group compares impl with torch, run
interleaved (the summary prints impl/torch), and the medians of the ``with cache`` and ``no cache`` groups give the
speedup. ``extra_info["tokens_per_s"]`` holds each side's decoding rate.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from interleave import run_interleaved

from impl.gpt import GPT, Components, GPTConfig

PROMPT, NEW_TOKENS, BLOCK = 32, 480, 512
SIDES = ("torch", "impl")


def _model(side: str) -> GPT:
    torch.manual_seed(0)
    config = GPTConfig(block_size=BLOCK, vocab_size=65, n_layer=4, n_head=4, n_embd=128, bias=False)
    return GPT(config, Components(side)).eval()


def _prompt(length: int = PROMPT) -> torch.Tensor:
    return torch.randint(0, 65, (1, length), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("use_kv_cache", [True, False], ids=["cache", "no-cache"])
def test_generate(benchmark: Any, use_kv_cache: bool) -> None:
    prompt = _prompt()
    runs = {}
    for side in SIDES:
        model = _model(side)
        warm_up = model.generate(prompt, 8, temperature=0.0, use_kv_cache=use_kv_cache)
        assert warm_up.shape == (1, PROMPT + 8), side
        runs[side] = lambda model=model: model.generate(prompt, NEW_TOKENS, temperature=0.0, use_kv_cache=use_kv_cache)
    group = f"generate {NEW_TOKENS} tokens, block {BLOCK}, " + ("with cache" if use_kv_cache else "no cache")
    medians = run_interleaved(benchmark, group, runs, rounds=3)
    benchmark.extra_info["tokens_per_s"] = {side: NEW_TOKENS / t for side, t in medians.items()}


@pytest.mark.parametrize("position", [50, 500])
def test_decoding_step(benchmark: Any, position: int) -> None:
    context = _prompt(position + 1)
    models = {side: _model(side) for side in SIDES}

    def filled_cache(model: GPT) -> tuple[Any, ...]:
        cache = model.new_kv_cache(1)
        with torch.no_grad():
            model(context[:, :position], kv_cache=cache)
        return (cache,)

    def step_of(model: GPT) -> Any:
        def step(cache: Any) -> None:
            with torch.no_grad():
                model(context[:, position:], kv_cache=cache)

        return step

    group = f"decoding step at position {position} (cache holds {position} positions)"
    setup = {side: (lambda m=m: filled_cache(m)) for side, m in models.items()}
    medians = run_interleaved(benchmark, group, {s: step_of(m) for s, m in models.items()}, setup=setup)
    benchmark.extra_info["tokens_per_s"] = {side: 1.0 / t for side, t in medians.items()}
