"""Decoding with and without the key/value cache: 480 tokens from a 32-token prompt with a block-512 model.

The model is the default config's shape (4 layers, 4 heads, width 128, vocabulary 65) with ``block_size = 512``, so
the 32 + 480 tokens just fill the context and nothing is cropped. Without the cache, step t runs the model over all
t tokens (cost growing with t); with it, over the new token only, so the cost per token stays nearly flat: the
``decoding step`` groups time one cached step with 50 and with 500 positions already in the cache.

Run with ``pytest benchmarks/bench_kv_cache.py --benchmark-enable``; each group compares impl with torch (the
summary prints impl/torch), and the medians of the ``with cache`` and ``no cache`` groups give the speedup.
``extra_info["tokens_per_s"]`` holds the decoding rate of each measurement.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch

from impl.gpt import GPT, Components, GPTConfig

PROMPT, NEW_TOKENS, BLOCK = 32, 480, 512
SIDES = ("torch", "impl")


def _model(side: str) -> GPT:
    torch.manual_seed(0)
    config = GPTConfig(block_size=BLOCK, vocab_size=65, n_layer=4, n_head=4, n_embd=128, bias=False)
    return GPT(config, Components(side)).eval()


def _prompt(length: int = PROMPT) -> torch.Tensor:
    return torch.randint(0, 65, (1, length), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("use_kv_cache", [True, False], ids=["cache", "no-cache"])
def test_generate(benchmark: Any, side: str, use_kv_cache: bool) -> None:
    model, prompt = _model(side), _prompt()
    model.generate(prompt, 8, temperature=0.0, use_kv_cache=use_kv_cache)  # warm up
    benchmark.group = f"generate {NEW_TOKENS} tokens, block {BLOCK}, " + ("with cache" if use_kv_cache else "no cache")
    benchmark.extra_info["impl"] = side

    def run() -> torch.Tensor:
        return model.generate(prompt, NEW_TOKENS, temperature=0.0, use_kv_cache=use_kv_cache)

    out = benchmark.pedantic(run, rounds=3 if use_kv_cache else 1, iterations=1)
    assert out.shape == (1, PROMPT + NEW_TOKENS)
    if benchmark.stats is not None:
        benchmark.extra_info["tokens_per_s"] = NEW_TOKENS / benchmark.stats.stats.median


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("position", [50, 500])
def test_decoding_step(benchmark: Any, side: str, position: int) -> None:
    model, context = _model(side), _prompt(position + 1)
    benchmark.group = f"decoding step at position {position} (cache holds {position} positions)"
    benchmark.extra_info["impl"] = side

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        cache = model.new_kv_cache(1)
        with torch.no_grad():
            model(context[:, :position], kv_cache=cache)
        return (cache,), {}

    def step(cache: Any) -> None:
        with torch.no_grad():
            model(context[:, position:], kv_cache=cache)

    benchmark.pedantic(step, setup=setup, rounds=30, iterations=1, warmup_rounds=2)
    if benchmark.stats is not None:
        benchmark.extra_info["tokens_per_s"] = 1.0 / benchmark.stats.stats.median
