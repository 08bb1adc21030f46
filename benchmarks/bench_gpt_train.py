"""One training iteration of the default GPT config, every component from impl against every one from torch.

The default config is nanoGPT's CPU "baby GPT" (4 layers, 4 heads, width 128, block 64, batch 12) on Tiny
Shakespeare; an iteration is forward, backward, gradient clipping and an AdamW step, as in ``impl.train``.
The sides run interleaved, a step of each per round; this is measured at one thread and at two (``python -m
impl.train`` uses every core).
Run with ``tox -e bench`` (or ``pytest benchmarks/bench_gpt_train.py --benchmark-enable``); the summary prints
impl/torch of the median ms/iter. With ``NNSPEC_NANOGPT_DIR`` naming a checkout of karpathy/nanoGPT, its own model
and training step (``GPT``, ``configure_optimizers``, clip, step, zero_grad) run as a third side on the same
batches, and the summary adds impl/nanoGPT. Another benchmark serves one component from torch at a time (the rest
from impl) and prints what each swap saves: where impl's step spends its extra time.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from interleave import run_interleaved

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


def _step(name: str, tokens: torch.Tensor, *overrides: str) -> Callable[[], None]:
    """One ``impl.train`` iteration of the default config with every component from ``name``, but for the
    ``overrides`` (``"LayerNorm=torch"``)."""
    cfg = load_config(sets=[f"components.default={name}", *(f"components.{o}" for o in overrides)])
    tc = cfg.train
    nn = Components.from_config(cfg.components)
    torch.manual_seed(tc.seed)
    model = build_model(cfg, 65, nn)
    optimizer = nn.AdamW(model.optim_groups(tc.weight_decay), lr=tc.learning_rate, betas=(tc.beta1, tc.beta2))
    sampler = BatchSampler(tokens, cfg.model.block_size, tc.batch_size, torch.Generator().manual_seed(tc.seed))

    def step() -> None:
        train_step(model, optimizer, nn.clip_grad_norm_, [sampler()], lr=tc.learning_rate, grad_clip=tc.grad_clip)

    return step


@pytest.mark.parametrize("threads", [1, 2], ids=["1-thread", "2-threads"])
def test_gpt_train_iteration(benchmark: Any, tokens: torch.Tensor, threads: int) -> None:
    torch.set_num_threads(threads)  # the one_thread fixture restores the count afterwards
    sides = {"torch": _step("torch", tokens), "impl": _step("impl", tokens)}
    directory = os.environ.get("NNSPEC_NANOGPT_DIR")
    if directory:
        sides["nanoGPT"] = _nanogpt_step(directory, tokens)
    for step in sides.values():
        for _ in range(3):  # warm up: first-call allocation and lazy imports are not what we measure
            step()
    group = "GPT train iteration (default config)" + ("" if threads == 1 else f", {threads} threads")
    run_interleaved(benchmark, group, sides, rounds=30)


# The components whose implementation differs in cost: each is served from torch in turn, the rest from impl.
SWAPPED = ("Linear", "Embedding", "LayerNorm", "GELU", "scaled_dot_product_attention", "cross_entropy", "AdamW",
           "clip_grad_norm_")  # fmt: skip


def test_gpt_train_iteration_one_component_from_torch(benchmark: Any, tokens: torch.Tensor) -> None:
    """Where impl's training step spends its extra time: the step with one component served by torch, for each
    component in turn, interleaved with all-impl and all-torch steps. The summary prints what each swap saves."""
    sides = {"torch": _step("torch", tokens), "impl": _step("impl", tokens)}
    sides |= {f"{name} from torch": _step("impl", tokens, f"{name}=torch") for name in SWAPPED}
    for step in sides.values():
        for _ in range(3):
            step()
    run_interleaved(benchmark, "GPT train iteration, one component from torch", sides, rounds=30)


def _nanogpt_model(directory: str) -> Any:
    """nanoGPT's ``model.py`` from ``directory``, imported under a name of its own."""
    path = Path(directory) / "model.py"
    spec = importlib.util.spec_from_file_location("nanogpt_model", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise FileNotFoundError(f"NNSPEC_NANOGPT_DIR={directory!r} holds no nanoGPT model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nanogpt_step(directory: str, tokens: torch.Tensor) -> Callable[[], None]:
    """nanoGPT's own training iteration (its ``train.py`` loop body, without gradient accumulation) on the default
    config, with its ``GPT`` and ``configure_optimizers``."""
    nano = _nanogpt_model(directory)
    cfg = load_config()
    tc, mc = cfg.train, cfg.model
    torch.manual_seed(tc.seed)
    config = nano.GPTConfig(
        block_size=mc.block_size, vocab_size=65, n_layer=mc.n_layer, n_head=mc.n_head, n_embd=mc.n_embd,
        dropout=mc.dropout, bias=mc.bias,
    )  # fmt: skip
    model = nano.GPT(config)
    optimizer = model.configure_optimizers(tc.weight_decay, tc.learning_rate, (tc.beta1, tc.beta2), "cpu")
    sampler = BatchSampler(tokens, mc.block_size, tc.batch_size, torch.Generator().manual_seed(tc.seed))

    def step() -> None:
        for group in optimizer.param_groups:
            group["lr"] = tc.learning_rate
        x, y = (t.contiguous() for t in sampler())
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()

    return step
