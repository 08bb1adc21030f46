"""Invariants of any language model that maps token ids to next-token logits, checked on the model alone.

The component checks compare layers with torch; these check properties a whole decoder-only model must have
whatever it is built from:

* ``causality``: the logits at position t do not change when a later token changes (and do when token t does);
* ``batch_independence``: a sequence's logits do not depend on the other sequences of its batch;
* ``cached_decoding``: decoding with a key/value cache, a few tokens at a time, gives at every position the logits
  of the full forward pass over the whole sequence.

The model protocol is duck-typed. ``model(idx)`` with ``idx`` (B, T) int64 returns the logits (B, T, V) or a tuple
whose first item they are (``(logits, loss)``, nanoGPT's convention). For cached decoding the model also offers
``new_kv_cache(batch_size)``, and ``model(idx, kv_cache=cache)`` returns the logits of the new tokens only, which
sit at positions ``cache.length ...`` and are appended to the cache; without ``new_kv_cache`` that check is
reported unsupported. Models with dropout are put in eval mode first.

Use :func:`check_model` from Python, or ``python -m conformance.model MODULE:FACTORY`` from the shell.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch

from conformance.compare import compare
from spec.tolerances import DEFAULTS

__all__ = ["MODEL_CHECKS", "ModelCheckFailed", "ModelCheckResult", "check_model"]

Status = Literal["passed", "failed", "unsupported"]


class ModelCheckFailed(AssertionError):
    """The model violates an invariant."""


class ModelCheckUnsupported(Exception):
    """The model lacks what the check needs (e.g. a key/value cache)."""


@dataclass(frozen=True)
class ModelCheckResult:
    """The outcome of one invariant check on one model."""

    check: str
    status: Status
    message: str = ""

    def __str__(self) -> str:
        return f"{self.status:<11} {self.check}" + (f": {self.message}" if self.message else "")


@dataclass(frozen=True)
class _Setup:
    vocab_size: int
    seq_len: int
    batch_size: int
    seed: int
    rtol: float
    atol: float


def logits_of(model: Any, idx: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """The logits a model returns for ``idx``: its output, or the first item of a tuple output."""
    with torch.no_grad():
        out = model(idx, **kwargs)
    logits = out[0] if isinstance(out, (tuple, list)) else out
    if not isinstance(logits, torch.Tensor) or logits.shape[:2] != idx.shape:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ModelCheckFailed(f"for idx of shape {tuple(idx.shape)} the model returned logits of shape {shape}")
    return logits


def _tokens(setup: _Setup, batch: int | None = None) -> torch.Tensor:
    gen = torch.Generator().manual_seed(setup.seed)
    return torch.randint(0, setup.vocab_size, (batch or setup.batch_size, setup.seq_len), generator=gen)


def _expect_close(setup: _Setup, actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    mismatch = compare(actual, expected, rtol=setup.rtol, atol=setup.atol, what=what)
    if mismatch is not None:
        raise ModelCheckFailed(str(mismatch))


def _other_token(setup: _Setup, token: torch.Tensor) -> torch.Tensor:
    """A token different from each of ``token``'s (the vocabulary has at least two)."""
    return (token + 1 + torch.arange(token.numel()).view(token.shape) % (setup.vocab_size - 1)) % setup.vocab_size


def check_causality(model: Any, setup: _Setup) -> None:
    """Changing the token at position t leaves the logits before t unchanged and changes those at t."""
    idx = _tokens(setup)
    base = logits_of(model, idx)
    for t in sorted({0, setup.seq_len // 2, setup.seq_len - 1}):
        changed = idx.clone()
        changed[:, t] = _other_token(setup, idx[:, t])
        logits = logits_of(model, changed)
        _expect_close(setup, logits[:, :t], base[:, :t], f"logits before position {t} after changing token {t}")
        if torch.equal(logits[:, t], base[:, t]):
            raise ModelCheckFailed(f"the logits at position {t} do not depend on the token at position {t}")


def check_batch_independence(model: Any, setup: _Setup) -> None:
    """Each sequence's logits are the same alone, in a batch, and in a batch whose other sequences change."""
    idx = _tokens(setup, max(setup.batch_size, 2))
    together = logits_of(model, idx)
    for b in range(idx.shape[0]):
        _expect_close(setup, logits_of(model, idx[b : b + 1])[0], together[b], f"logits of sequence {b} alone")
    others = idx.clone()
    others[1:] = _other_token(setup, idx[1:])
    _expect_close(setup, logits_of(model, others)[0], together[0], "logits of sequence 0 when the others change")


def _chunks(seq_len: int, seed: int) -> list[tuple[int, int]]:
    """A prompt, then one token at a time, then a few multi-token steps: [(start, end), ...] covering 0..seq_len."""
    gen = torch.Generator().manual_seed(seed)
    bounds, pos = [], 0
    prompt = max(1, seq_len // 4)
    while pos < seq_len:
        if pos == 0:
            step = prompt
        elif pos < seq_len // 2:
            step = 1
        else:
            step = int(torch.randint(1, 4, (), generator=gen))
        bounds.append((pos, min(seq_len, pos + step)))
        pos = bounds[-1][1]
    return bounds


def check_cached_decoding(model: Any, setup: _Setup) -> None:
    """Decoding with a key/value cache gives the full forward pass's logits at every position.

    The sequence is fed as a prompt, then one token at a time, then a few tokens at a time (which needs the
    bottom-right causal mask), each step seeing only its new tokens.
    """
    if not callable(getattr(model, "new_kv_cache", None)):
        raise ModelCheckUnsupported("the model has no new_kv_cache(batch_size) method")
    idx = _tokens(setup)
    full = logits_of(model, idx)
    cache = model.new_kv_cache(idx.shape[0])
    for start, end in _chunks(setup.seq_len, setup.seed):
        step = logits_of(model, idx[:, start:end], kv_cache=cache)
        _expect_close(setup, step, full[:, start:end], f"cached logits of positions {start}..{end - 1}")


#: Every model check by name, in report order.
MODEL_CHECKS: dict[str, Callable[[Any, _Setup], None]] = {
    "causality": check_causality,
    "batch_independence": check_batch_independence,
    "cached_decoding": check_cached_decoding,
}


def _config_value(model: Any, name: str) -> int | None:
    value = getattr(getattr(model, "config", None), name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def check_model(
    model: Any,
    vocab_size: int | None = None,
    seq_len: int | None = None,
    batch_size: int = 3,
    seed: int = 0,
    checks: list[str] | None = None,
    tolerance: tuple[float, float] | None = None,
) -> list[ModelCheckResult]:
    """Run the model checks on ``model``; returns one result per check (never raises for a violated invariant).

    Args:
        model: the model (see the module docstring for the protocol).
        vocab_size: token ids are drawn from 0..vocab_size-1. Default: ``model.config.vocab_size``.
        seq_len: length of the sequences. Default: ``min(model.config.block_size, 32)``.
        batch_size: sequences per batch. Default: 3.
        seed: seeds the token ids.
        checks: names from :data:`MODEL_CHECKS`; default all.
        tolerance: (rtol, atol) for comparing logits; default ``torch.testing.assert_close``'s for the logits'
            dtype.

    Example::

        >>> from impl.gpt import GPT, GPTConfig
        >>> results = check_model(GPT(GPTConfig(block_size=16, vocab_size=11, n_layer=1, n_head=2, n_embd=8)))
        >>> [r.status for r in results]
        ['passed', 'passed', 'passed']
    """
    if not callable(model):
        raise ValueError(
            f"the model must be callable on token ids (B, T), got {type(model).__name__} {reprlib.repr(model)}"
        )
    for name, value, low in (("vocab_size", vocab_size, 2), ("seq_len", seq_len, 1), ("batch_size", batch_size, 1)):
        if value is not None and value < low:  # given, not taken from model.config: an error, not a fallback
            raise ValueError(f"{name} must be >= {low}, got {value}")
    if vocab_size is None:
        vocab_size = _config_value(model, "vocab_size")
    block_size = _config_value(model, "block_size")
    if seq_len is None and block_size:
        seq_len = min(block_size, 32)
    if not vocab_size or vocab_size < 2 or not seq_len or seq_len < 1:
        raise ValueError(
            f"need vocab_size >= 2 and seq_len >= 1 (from the arguments or model.config), got "
            f"vocab_size={vocab_size}, seq_len={seq_len}"
        )
    unknown = sorted(set(checks or ()) - set(MODEL_CHECKS))
    if unknown:
        raise ValueError(f"unknown model checks {unknown}; known: {list(MODEL_CHECKS)}")
    if callable(getattr(model, "eval", None)):
        model.eval()
    if tolerance is None:
        probe = logits_of(model, torch.zeros(1, 1, dtype=torch.long))
        tolerance = DEFAULTS.get(str(probe.dtype).removeprefix("torch."), (0.0, 0.0))
    setup = _Setup(vocab_size, seq_len, batch_size, seed, *tolerance)
    results = []
    for name in checks or list(MODEL_CHECKS):
        try:
            MODEL_CHECKS[name](model, setup)
        except ModelCheckFailed as exc:
            results.append(ModelCheckResult(name, "failed", str(exc)))
        except ModelCheckUnsupported as exc:
            results.append(ModelCheckResult(name, "unsupported", str(exc)))
        except NotImplementedError as exc:
            results.append(ModelCheckResult(name, "unsupported", f"NotImplementedError: {exc}"))
        except Exception as exc:
            results.append(ModelCheckResult(name, "failed", f"the model raised {type(exc).__name__}: {exc}"))
        else:
            results.append(ModelCheckResult(name, "passed"))
    return results
