"""The key/value cache and the modern GPT switches: cached decoding equals the full pass, greedy generation is the
same token for token with and without the cache (also past block_size), and pos / norm / n_kv_head configure the
model from the config file through training and sampling."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conformance.model_checks import MODEL_CHECKS, check_model
from impl import sample, train
from impl.config import load_config
from impl.data import load_text
from impl.gpt import GPT, Components, GPTConfig
from impl.nn.kv_cache import KVCache

pytestmark = pytest.mark.usefixtures("one_thread")


VOCAB = 23


def tiny(components: Components | None = None, **kwargs: object) -> GPT:
    torch.manual_seed(0)
    config = GPTConfig(block_size=16, vocab_size=VOCAB, n_layer=2, n_head=4, n_embd=32, bias=True, **kwargs)  # type: ignore[arg-type]
    return GPT(config, components).eval()


def _prompt(length: int = 5, batch: int = 2) -> torch.Tensor:
    return torch.randint(0, VOCAB, (batch, length), generator=torch.Generator().manual_seed(1))


def test_kv_cache_appends_and_returns_everything_stored() -> None:
    cache = KVCache(n_layer=2, batch_size=1, n_kv_head=2, head_dim=4, max_len=6)
    k1, v1 = torch.randn(1, 2, 4, 4), torch.randn(1, 2, 4, 4)
    keys, values = cache[0].update(k1, v1)
    assert torch.equal(keys, k1) and torch.equal(values, v1)
    assert cache[0].length == 4 and cache[1].length == 0
    k2 = torch.randn(1, 2, 1, 4)
    keys, _ = cache[0].update(k2, k2)
    assert torch.equal(keys, torch.cat([k1, k2], dim=2)) and len(cache) == 2
    with pytest.raises(ValueError, match="KV cache full: 5 \\+ 2 positions exceed max_len=6"):
        cache[0].update(torch.randn(1, 2, 2, 4), torch.randn(1, 2, 2, 4))
    with pytest.raises(ValueError, match="expected keys and values of shape"):
        cache[1].update(torch.randn(1, 3, 1, 4), torch.randn(1, 3, 1, 4))
    cache.reset()
    assert cache.length == 0 and cache[0].length == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"pos": "rope"},
        {"norm": "rmsnorm"},
        {"n_kv_head": 2},
        {"n_kv_head": 1, "pos": "rope", "norm": "rmsnorm"},
        {"pos": "rope", "max_seq_len": 40},
        {"mlp": "swiglu", "norm": "rmsnorm", "pos": "rope", "n_kv_head": 2},
    ],
    ids=["gpt2", "rope", "rmsnorm", "gqa", "mqa-rope-rmsnorm", "rope-long", "llama"],
)
@pytest.mark.parametrize("default", ["impl", "torch"])
def test_model_invariants_hold(kwargs: dict[str, object], default: str) -> None:
    # torch has no rotary embedding; the spec's namespace takes impl's for it.
    model = tiny(Components(default, {"RotaryEmbedding": "impl"}), **kwargs)
    results = check_model(model, seq_len=model.config.context_len)
    assert [(r.check, r.status) for r in results] == [(name, "passed") for name in MODEL_CHECKS], results


@pytest.mark.parametrize(
    ("kwargs", "new_tokens"),
    [({}, 30), ({"pos": "rope"}, 30), ({"pos": "rope", "max_seq_len": 24, "n_kv_head": 2}, 30)],
    ids=["learned-past-block", "rope-past-block", "rope-past-max-seq-len"],
)
def test_greedy_generation_is_the_same_with_and_without_the_cache(kwargs: dict[str, object], new_tokens: int) -> None:
    # 5 + 30 tokens outgrow block_size (16) and max_seq_len (24): both paths crop the context the same way.
    model = tiny(None, **kwargs)
    prompt = _prompt()
    cached = model.generate(prompt, new_tokens, temperature=0.0)
    uncached = model.generate(prompt, new_tokens, temperature=0.0, use_kv_cache=False)
    assert cached.shape == (2, 5 + new_tokens)
    assert torch.equal(cached, uncached)


def test_sampled_generation_is_the_same_with_and_without_the_cache() -> None:
    model = tiny(pos="rope", norm="rmsnorm", n_kv_head=2)
    runs = [
        model.generate(
            _prompt(), 20, temperature=0.9, top_k=5, generator=torch.Generator().manual_seed(3), use_kv_cache=c
        )
        for c in (True, False)
    ]
    assert torch.equal(runs[0], runs[1])


def test_context_limits() -> None:
    learned = tiny()
    assert learned.config.context_len == 16
    with pytest.raises(ValueError, match="sequence length 17 exceeds block_size 16"):
        learned(torch.zeros(1, 17, dtype=torch.long))
    rope = tiny(pos="rope", max_seq_len=40)
    assert rope(torch.zeros(1, 40, dtype=torch.long))[0].shape == (1, 40, VOCAB)  # rotary positions go further
    with pytest.raises(ValueError, match="sequence length 41 exceeds max_seq_len 40"):
        rope(torch.zeros(1, 41, dtype=torch.long))
    cache = rope.new_kv_cache(1)
    rope(torch.zeros(1, 39, dtype=torch.long), kv_cache=cache)
    with pytest.raises(ValueError, match="sequence length 41 exceeds max_seq_len 40"):
        rope(torch.zeros(1, 2, dtype=torch.long), kv_cache=cache)


def test_config_switches_change_the_parameters() -> None:
    base = {name for name, _ in tiny().named_parameters()}
    rope = {name for name, _ in tiny(pos="rope").named_parameters()}
    assert base - rope == {"wpe.weight"}
    rms = dict(tiny(norm="rmsnorm").named_parameters())
    assert "h.0.ln_1.bias" not in rms and rms["h.0.ln_1.weight"].shape == (32,)
    assert type(tiny(norm="rmsnorm").h[0].ln_1).__name__ == "RMSNorm"
    gqa = dict(tiny(n_kv_head=1).named_parameters())
    assert gqa["h.0.attn.c_attn.weight"].shape == ((4 + 2 * 1) * 8, 32)  # 4 query heads, 1 key and 1 value head
    assert tiny(n_kv_head=2).new_kv_cache(3).keys.shape == (2, 3, 2, 16, 8)  # n_layer, B, n_kv_head, len, hs


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_kv_head": 3}, "n_kv_head \\(3\\) must divide n_head \\(4\\)"),
        ({"pos": "alibi"}, "pos must be 'learned' or 'rope'"),
        ({"norm": "batchnorm"}, "norm must be 'layernorm' or 'rmsnorm'"),
        ({"max_seq_len": 32}, "needs pos='rope'"),
        ({"pos": "rope", "max_seq_len": 8}, "must be >= block_size"),
    ],
)
def test_bad_config_names_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        GPTConfig(block_size=16, vocab_size=VOCAB, n_layer=1, n_head=4, n_embd=32, **kwargs)  # type: ignore[arg-type]


def test_torch_components_need_a_rotary_embedding_from_elsewhere() -> None:
    with pytest.raises(Exception, match=r"torch has no nn\.RotaryEmbedding"):
        tiny(Components("torch"), pos="rope")


def test_train_and_sample_with_the_modern_switches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "small.txt"
    text.write_text(load_text()[:5_000], encoding="utf-8")
    sets = [
        *("model.n_layer=1", "model.n_head=4", "model.n_embd=16", "model.block_size=16", "model.max_seq_len=24"),
        *("model.pos=rope", "model.norm=rmsnorm", "model.n_kv_head=2", "model.mlp=swiglu"),
        *("train.batch_size=4", "train.max_iters=2"),
        *("train.eval_interval=2", "train.eval_iters=1", f"train.out_dir={tmp_path / 'run'}", f"data.path={text}"),
    ]
    train.train(load_config(sets=sets), progress=False)
    assert "SiLU" in capsys.readouterr().out  # training's own report names who serves SwiGLU's activation
    args = ["--checkpoint", str(tmp_path / "run"), "--prompt", "ROMEO:", "--max-new-tokens", "30", "--temperature", "0"]
    outputs = []
    for extra in ([], ["--no-kv-cache"]):
        assert sample.main(args + extra) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and outputs[0].startswith("ROMEO:") and len(outputs[0]) == 6 + 30 + 1
