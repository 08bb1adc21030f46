"""GPT-2 weights: a Hugging Face GPT2LMHeadModel (random, tiny, built offline) and our GPT agree on logits."""

from __future__ import annotations

import pytest
import torch

from impl.gpt import GPT, Components

transformers = pytest.importorskip("transformers")


def hf_gpt2(activation: str = "gelu_new", n_layer: int = 2, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    config = transformers.GPT2Config(
        vocab_size=50,
        n_positions=24,
        n_embd=32,
        n_layer=n_layer,
        n_head=4,
        activation_function=activation,
        bos_token_id=0,
        eos_token_id=0,
        attn_implementation="eager",
    )
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():  # random biases and LayerNorm affines, so that every weight matters
        for name, p in model.named_parameters():
            if name.endswith("bias") or ".ln_" in name:
                p.add_(torch.randn_like(p) * 0.1)
    return model


@pytest.mark.parametrize("components", ["torch", "impl"])
def test_logits_match_hugging_face(components: str) -> None:
    hf = hf_gpt2()
    model = GPT.from_gpt2(hf.state_dict(), n_head=4, components=Components(components)).eval()
    assert model.config.n_layer == 2 and model.config.block_size == 24 and model.config.bias
    idx = torch.randint(0, 50, (3, 24), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = hf(idx).logits
        logits, _ = model(idx)
    torch.testing.assert_close(logits, expected)


def test_exact_gelu_variant() -> None:
    hf = hf_gpt2(activation="gelu")
    model = GPT.from_gpt2(hf.state_dict(), n_head=4, components=Components("torch"), gelu_approximate="none").eval()
    idx = torch.randint(0, 50, (2, 10), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        torch.testing.assert_close(model(idx)[0], hf(idx).logits)


def test_conv1d_weights_are_transposed() -> None:
    sd = hf_gpt2().state_dict()
    model = GPT.from_gpt2(sd, n_head=4, components=Components("torch"))
    torch.testing.assert_close(model.h[1].attn.c_attn.weight, sd["transformer.h.1.attn.c_attn.weight"].t())
    torch.testing.assert_close(model.h[0].mlp.c_fc.weight, sd["transformer.h.0.mlp.c_fc.weight"].t())
    assert model.lm_head.weight is model.wte.weight


def test_bad_state_dicts_are_rejected_with_reasons() -> None:
    sd = hf_gpt2().state_dict()
    nn = Components("torch")
    with pytest.raises(KeyError, match="not a GPT-2 state_dict"):
        GPT.from_gpt2({"foo.weight": torch.zeros(1)}, n_head=4, components=nn)
    untied = dict(sd, **{"lm_head.weight": sd["lm_head.weight"] + 1})
    with pytest.raises(ValueError, match=r"lm_head\.weight differs from wte\.weight"):
        GPT.from_gpt2(untied, n_head=4, components=nn)
    extra = dict(sd, **{"transformer.h.0.attn.extra": torch.zeros(3)})
    with pytest.raises(KeyError, match=r"unexpected \['h.0.attn.extra'\]"):
        GPT.from_gpt2(extra, n_head=4, components=nn)
    missing = {k: v for k, v in sd.items() if k != "transformer.h.1.ln_2.bias"}
    with pytest.raises(KeyError, match=r"missing \['h.1.ln_2.bias'\]"):
        GPT.from_gpt2(missing, n_head=4, components=nn)
    with pytest.raises(ValueError, match="divisible by n_head"):
        GPT.from_gpt2(sd, n_head=5, components=nn)
