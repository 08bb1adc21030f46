"""conformance.model_checks and its CLI: model invariants (causality, batch independence, cached decoding) pass on
correct models and catch broken ones. The models here are one-layer language models built from impl's attention,
rotary embedding and KV cache; ``tests/test_modern_kv_cache.py`` runs the same checks on the GPT."""

from __future__ import annotations

import re
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from conformance.model import load_factory, main
from conformance.model_checks import MODEL_CHECKS, check_model
from impl.nn import RotaryEmbedding
from impl.nn.functional import scaled_dot_product_attention
from impl.nn.kv_cache import KVCache, causal_attention_kwargs

pytestmark = pytest.mark.usefixtures("one_thread")


VOCAB, BLOCK, WIDTH, HEADS, KV_HEADS = 11, 16, 16, 4, 2
HS = WIDTH // HEADS


class TinyLM(torch.nn.Module):
    """Embedding, one causal grouped-query attention layer with rotary or learned positions, and an output head.

    ``bug`` plants one mistake: ``"bidirectional"`` (no causal mask), ``"batch_mixing"`` (subtracts the batch mean),
    ``"top_left"`` (``is_causal`` in cached steps: the top-left mask), ``"no_offset"`` (cached tokens rotated and
    embedded as if at position 0).
    """

    def __init__(self, pos: str = "rope", bug: str | None = None) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.config = SimpleNamespace(vocab_size=VOCAB, block_size=BLOCK)
        self.pos, self.bug = pos, bug
        self.wte = torch.nn.Embedding(VOCAB, WIDTH)
        self.wpe = torch.nn.Embedding(BLOCK, WIDTH)
        self.qkv = torch.nn.Linear(WIDTH, (HEADS + 2 * KV_HEADS) * HS)
        self.head = torch.nn.Linear(WIDTH, VOCAB)
        self.rope = RotaryEmbedding(HS, BLOCK)

    def new_kv_cache(self, batch_size: int) -> KVCache:
        return KVCache(1, batch_size, KV_HEADS, HS, BLOCK)

    def forward(self, idx: torch.Tensor, kv_cache: KVCache | None = None) -> torch.Tensor:
        B, T = idx.shape
        past = 0 if kv_cache is None or self.bug == "no_offset" else kv_cache.length
        x = self.wte(idx)  # (B, T, C)
        if self.pos == "learned":
            x = x + self.wpe(torch.arange(past, past + T))
        if self.bug == "batch_mixing":
            x = x - x.mean(0, keepdim=True)
        q, k, v = self.qkv(x).split([HEADS * HS, KV_HEADS * HS, KV_HEADS * HS], dim=-1)
        q = q.view(B, T, HEADS, HS).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, KV_HEADS, HS).transpose(1, 2)  # (B, n_kv, T, hs)
        v = v.view(B, T, KV_HEADS, HS).transpose(1, 2)
        if self.pos == "rope":
            q, k = self.rope(q, offset=past), self.rope(k, offset=past)
        if kv_cache is not None:
            k, v = kv_cache[0].update(k, v)
        mask = causal_attention_kwargs(T, k.shape[-2])
        if self.bug == "top_left":
            mask = {"is_causal": True}
        elif self.bug == "bidirectional":
            mask = {}
        y = scaled_dot_product_attention(q, k, v, enable_gqa=True, **mask)
        return self.head(x + y.transpose(1, 2).reshape(B, T, WIDTH))  # (B, T, V)


def tiny_rope() -> TinyLM:
    return TinyLM("rope")


def factory_that_fails() -> TinyLM:
    raise RuntimeError("no weights here")


def tiny_top_left() -> TinyLM:
    return TinyLM("rope", bug="top_left")


class NoCacheLM(TinyLM):
    """A correct model without a key/value cache."""

    new_kv_cache = None  # type: ignore[assignment]


def _statuses(model: Any, **kwargs: Any) -> dict[str, str]:
    return {r.check: r.status for r in check_model(model, **kwargs)}


@pytest.mark.parametrize("pos", ["rope", "learned"])
def test_correct_models_pass_every_check(pos: str) -> None:
    assert _statuses(TinyLM(pos)) == dict.fromkeys(MODEL_CHECKS, "passed")


@pytest.mark.parametrize(
    ("bug", "caught_by"),
    [
        ("bidirectional", "causality"),
        ("batch_mixing", "batch_independence"),
        ("top_left", "cached_decoding"),
        ("no_offset", "cached_decoding"),
    ],
)
def test_broken_models_are_caught(bug: str, caught_by: str) -> None:
    results = {r.check: r for r in check_model(TinyLM("rope", bug=bug))}
    assert results[caught_by].status == "failed"
    assert results[caught_by].message  # says what differed, and where
    if bug == "no_offset":
        assert _statuses(TinyLM("learned", bug=bug))["cached_decoding"] == "failed"


def test_a_model_without_a_cache_is_unsupported_not_failed() -> None:
    statuses = _statuses(NoCacheLM())
    assert statuses["cached_decoding"] == "unsupported"
    assert statuses["causality"] == statuses["batch_independence"] == "passed"


def test_a_model_that_ignores_its_input_fails_causality() -> None:
    class Constant(torch.nn.Module):
        def forward(self, idx: torch.Tensor) -> torch.Tensor:
            return torch.zeros(*idx.shape, VOCAB)

    results = {r.check: r for r in check_model(Constant(), vocab_size=VOCAB, seq_len=8)}
    assert results["causality"].status == "failed"
    assert "do not depend on the token" in results["causality"].message


def test_check_model_needs_sizes_and_known_checks() -> None:
    with pytest.raises(ValueError, match="vocab_size"):
        check_model(torch.nn.Identity())
    with pytest.raises(ValueError, match="unknown model checks"):
        check_model(TinyLM(), checks=["speed"])
    with pytest.raises(ValueError, match=r"^the model must be callable on token ids \(B, T\), got dict \{\}$"):
        check_model({})
    # a size given is used or refused, never replaced by model.config's
    for kwargs, message in [
        ({"vocab_size": 1}, "vocab_size must be >= 2, got 1"),
        ({"seq_len": 0}, "seq_len must be >= 1, got 0"),
        ({"batch_size": 0}, "batch_size must be >= 1, got 0"),
    ]:
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            check_model(TinyLM(), **kwargs)


def test_load_factory() -> None:
    model = load_factory("tests.test_modern_model_checks:tiny_rope")
    assert type(model).__name__ == "TinyLM" and model.pos == "rope"
    with pytest.raises(ValueError, match="MODULE:FACTORY"):
        load_factory("tests.test_modern_model_checks")
    with pytest.raises(ValueError, match=r"impl.gpt:GPT cannot be called without arguments \(missing a required "):
        load_factory("impl.gpt:GPT")  # the class, which needs its config
    assert load_factory("builtins:dict") == {}  # no signature to read: called all the same
    with pytest.raises(ValueError) as failed:
        load_factory("tests.test_modern_model_checks:factory_that_fails")
    assert re.fullmatch(
        r"tests\.test_modern_model_checks:factory_that_fails\(\) raised RuntimeError: no weights here "
        r"\(at tests/test_modern_model_checks\.py:\d+, in factory_that_fails\)",
        str(failed.value),
    ), str(failed.value)


def test_cli_passes_a_correct_model(repo_root: Any) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "conformance.model", "tests.test_modern_model_checks:tiny_rope"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=repo_root,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "passed      cached_decoding" in ok.stdout and "PASSED" in ok.stdout


def test_cli_into_a_closed_pipe_ends_quietly(repo_root: Any) -> None:
    command = [
        sys.executable,
        "-m",
        "conformance.model",
        "tests.test_modern_model_checks:tiny_rope",
        "--check",
        "causality",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=repo_root) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # `| head -0`: the reader has gone before the first line
        err = proc.stderr.read().decode()
    assert (proc.returncode, err) == (141, "")  # no BrokenPipeError traceback


def test_cli_fails_a_broken_model_and_reports_a_bad_target(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tests.test_modern_model_checks:tiny_top_left", "--check", "cached_decoding"]) == 1
    assert "failed      cached_decoding" in capsys.readouterr().out
    assert main(["tests.test_modern_model_checks:nothing"]) == 2
    assert "error" in capsys.readouterr().err
    assert main(["tests.test_modern_model_checks:NoCacheLM", "--strict"]) == 1
