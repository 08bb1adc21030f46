"""Perplexity of a checkpoint on its validation split or on any text file.

Usage::

    python -m impl.evaluate --checkpoint DIR [--text FILE]

Prints JSON ``{"loss": ..., "perplexity": ..., "tokens": ...}``. The text is cut into non-overlapping windows of
``block_size`` targets, each window's inputs being the ``block_size`` tokens before its targets, so every token is
scored exactly once, with the context available inside its window (between 0 and ``block_size - 1`` earlier tokens).
The text's first token has no earlier token to be predicted from (the tokenizer has no start-of-text token), so it
is context only: ``tokens`` is the length of the text minus one.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from typing import Any

import torch
from torch import Tensor

from impl import checkpoint
from impl.config import device_of
from impl.data import load_text, train_val_split
from impl.gpt import GPT
from impl.stdout import CLOSED_STATUS, write_line

__all__ = ["main", "mean_loss"]


@torch.no_grad()
def mean_loss(model: GPT, ids: Tensor, batch_size: int = 64) -> tuple[float, int]:
    """Mean next-token cross-entropy over ``ids[1:]`` (every token scored once), and the number of tokens scored.

    Args:
        model: the GPT, in eval mode.
        ids: (N,) token ids, N >= 2.
        batch_size: windows per forward pass.
    """
    if ids.dim() != 1 or len(ids) < 2:
        raise ValueError(f"need a 1-D text of at least 2 tokens, got shape {tuple(ids.shape)}")
    T = model.config.block_size
    n = len(ids) - 1  # scored tokens
    full = n // T
    total = 0.0
    x = ids[: full * T].view(full, T)  # (full, T) inputs of the whole windows
    y = ids[1 : full * T + 1].view(full, T)  # (full, T) their targets
    for i in range(0, full, batch_size):
        _, loss = model(x[i : i + batch_size], y[i : i + batch_size])
        total += loss.item() * y[i : i + batch_size].numel()  # mean -> sum over the batch
    if n > full * T:  # the last, shorter window
        _, loss = model(ids[full * T : n][None], ids[full * T + 1 :][None])
        total += loss.item() * (n - full * T)
    return total / n, n


def evaluate(checkpoint_dir: str, text_path: str | None = None, device: str = "cpu") -> dict[str, Any]:
    """``{"loss", "perplexity", "tokens"}`` of the checkpoint on ``text_path``, or on its validation split."""
    where = device_of(device, "--device")
    model, tokenizer, config = checkpoint.load_model(checkpoint_dir)
    model.to(where)
    if text_path is None:
        # the checkpoint's own text, which may have been moved or changed since training
        hint = (
            "; without --text the validation split of the checkpoint's data.path is scored: name the text with --text"
        )
        try:
            text = load_text(config.data.path)
        except (FileNotFoundError, ValueError) as exc:
            raise type(exc)(f"{exc}{hint}") from None
        try:
            data = torch.tensor(tokenizer.encode(text), dtype=torch.long)
        except ValueError as exc:
            raise ValueError(f"data.path {config.data.path!r}: {exc}{hint}") from None
        if checkpoint.text_changed(checkpoint_dir, text):
            warnings.warn(
                f"data.path {config.data.path or '(the bundled text)'!r} has changed since training: the validation "
                "split scored is not the one the run held out",
                checkpoint.TextChangedWarning,
                stacklevel=2,
            )
        _, ids = train_val_split(data, config.data.train_fraction)
    else:
        text = load_text(text_path, "--text")
        try:
            ids = torch.tensor(tokenizer.encode(text), dtype=torch.long)
        except ValueError as exc:
            raise ValueError(f"{text_path}: {exc}") from None
    if len(ids) < 2:
        source = (
            f"--text {text_path!r}"
            if text_path is not None
            else f"the validation split of data.path {config.data.path or '(the bundled text)'!r} "
            f"(data.train_fraction {config.data.train_fraction})"
        )
        raise ValueError(
            f"{source} holds {len(ids)} token(s): a perplexity needs at least 2 (the first is context only)"
        )
    loss, n = mean_loss(model, ids.to(where))
    return {"loss": loss, "perplexity": math.exp(loss), "tokens": n}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m impl.evaluate", description="Perplexity of a checkpoint.")
    p.add_argument("--checkpoint", required=True, help="directory written by impl.train (its train.out_dir)")
    p.add_argument("--text", help="UTF-8 text file to score (default: the checkpoint's validation split)")
    p.add_argument("--device", default="cpu", help="where the model runs: cpu (default), cuda, cuda:1, ...")
    args = p.parse_args(argv)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", checkpoint.TextChangedWarning)
            result = evaluate(args.checkpoint, args.text, args.device)
    except (ValueError, FileNotFoundError, checkpoint.CheckpointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in caught:  # one line each, not the file and line that raised it
        print(f"warning: {warning.message}", file=sys.stderr)
    if not write_line(json.dumps(result)):
        return CLOSED_STATUS
    return 0


if __name__ == "__main__":
    sys.exit(main())
