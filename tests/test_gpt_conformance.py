"""Model-level conformance: the GPT built from impl components behaves as the one built from torch components.

Both models hold the same weights; they must agree on logits, loss and every parameter gradient, and 20 steps of
training (AdamW, gradient clipping, dropout off) must produce the same losses.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from impl.config import load_config
from impl.data import BatchSampler, load_text
from impl.gpt import GPT, Components, GPTConfig
from impl.tokenizer import CharTokenizer
from impl.train import lr_at

CONFIG = GPTConfig(block_size=32, vocab_size=65, n_layer=2, n_head=4, n_embd=32, dropout=0.0, bias=True)


def pair(config: GPTConfig = CONFIG) -> tuple[GPT, GPT]:
    torch.manual_seed(0)
    reference = GPT(config, Components("torch"))
    iut = GPT(config, Components("impl"))
    iut.load_state_dict(reference.state_dict())
    return reference, iut


def prefixed(what: str) -> Callable[[str], str]:
    return lambda message: f"{what}: {message}"


def batch(seed: int, B: int = 4, T: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 65, (B, T), generator=gen), torch.randint(0, 65, (B, T), generator=gen)


def shakespeare_tokens(n: int = 20_000) -> torch.Tensor:
    text = load_text()
    return torch.tensor(CharTokenizer.from_text(text).encode(text[:n]))


@pytest.mark.parametrize(
    "change",
    [{}, {"bias": False}, {"mlp": "swiglu"}, {"mlp": "swiglu", "bias": False}],
    ids=["gpt2", "no-bias", "swiglu", "swiglu-no-bias"],
)
def test_logits_loss_and_every_gradient_agree(change: dict[str, object]) -> None:
    reference, iut = pair(GPTConfig(**{**CONFIG.__dict__, **change}))
    idx, targets = batch(1)
    logits_ref, loss_ref = reference(idx, targets)
    logits_iut, loss_iut = iut(idx, targets)
    torch.testing.assert_close(logits_iut, logits_ref)
    assert loss_ref is not None and loss_iut is not None
    torch.testing.assert_close(loss_iut, loss_ref)
    loss_ref.backward()
    loss_iut.backward()
    grads_ref = {n: p.grad for n, p in reference.named_parameters()}
    grads_iut = {n: p.grad for n, p in iut.named_parameters()}
    assert grads_iut.keys() == grads_ref.keys()
    for name, g in grads_ref.items():
        assert g is not None and grads_iut[name] is not None, name
        torch.testing.assert_close(grads_iut[name], g, msg=prefixed(f"gradient of {name}"))


def test_twenty_training_steps_give_the_same_losses() -> None:
    train_cfg = load_config(sets=["train.learning_rate=1e-2", "train.warmup_iters=5", "train.lr_decay_iters=20"]).train
    losses: dict[str, list[float]] = {}
    tokens = shakespeare_tokens()
    for model, nn in zip(pair(), (Components("torch"), Components("impl")), strict=True):
        sampler = BatchSampler(tokens, 32, 4, torch.Generator().manual_seed(0))
        optimizer = nn.AdamW(model.optim_groups(0.1), lr=1e-3, betas=(0.9, 0.99))
        params = [p for g in optimizer.param_groups for p in g["params"]]
        losses[nn.default] = []
        for step in range(20):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, train_cfg)
            _, loss = model(*sampler())
            optimizer.zero_grad()
            loss.backward()
            nn.clip_grad_norm_(params, 1.0)
            optimizer.step()
            losses[nn.default].append(loss.item())
    assert losses["torch"][-1] < losses["torch"][0] - 0.5  # it did learn
    torch.testing.assert_close(torch.tensor(losses["impl"]), torch.tensor(losses["torch"]))
