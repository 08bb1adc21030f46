"""Generate text from a trained checkpoint.

Usage::

    python -m impl.sample --checkpoint DIR [--prompt TEXT] [--max-new-tokens N] [--temperature T] [--top-k K]
                          [--seed S] [--component NAME=IMPL ...] [--no-kv-cache]

Prints the prompt followed by the generated continuation, each character as soon as it is drawn (Ctrl-C stops
there, exit status 130). ``--temperature 0`` decodes greedily. Decoding keeps a key/value cache (one position per
token); ``--no-kv-cache`` reruns the model over the whole context at every step, which gives the same tokens,
slower.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import torch

from impl import checkpoint
from impl.config import device_of
from impl.stdout import CLOSED_STATUS, silence

__all__ = ["PromptError", "main", "sample", "stream"]

#: What ``--prompt`` is when it is not given: nanoGPT's start, a line break.
DEFAULT_PROMPT = "\n"


class PromptError(ValueError):
    """The prompt holds a character outside the checkpoint's vocabulary."""


def stream(
    checkpoint_dir: str,
    prompt: str,
    max_new_tokens: int,
    temperature: float = 0.8,
    top_k: int | None = 200,
    seed: int = 1337,
    components: dict[str, str] | None = None,
    use_kv_cache: bool = True,
    device: str = "cpu",
) -> Iterator[str]:
    """The ``max_new_tokens`` characters that the checkpoint's model generates after ``prompt``, one at a time, each
    yielded as soon as it is drawn. Every argument is checked, and the checkpoint loaded, before the first.

    ``components`` overrides entries of the checkpoint's ``[components]`` table (``{"default": "torch"}``);
    ``use_kv_cache=False`` decodes without the key/value cache. ``device`` is where the model runs; the draws
    come from a generator on that device, so another device gives other text for the same seed.
    """
    if not prompt:
        raise ValueError("prompt must hold at least one character (the model has no start-of-text token)")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    where = device_of(device, "--device")
    model, tokenizer, _ = checkpoint.load_model(checkpoint_dir, overrides=components)
    model.to(where)
    try:
        ids = tokenizer.encode(prompt)
    except ValueError as exc:
        raise PromptError(f"prompt {prompt!r}: {exc} of checkpoint {checkpoint_dir!r}") from None
    idx = torch.tensor([ids], dtype=torch.long, device=where)  # (1, T)
    generator = torch.Generator(device=where).manual_seed(seed)
    steps = model.stream(
        idx, max_new_tokens, temperature=temperature, top_k=top_k, generator=generator, use_kv_cache=use_kv_cache
    )
    return (tokenizer.decode(step[0].tolist()) for step in steps)  # step: (1, 1)


def sample(
    checkpoint_dir: str,
    prompt: str,
    max_new_tokens: int,
    temperature: float = 0.8,
    top_k: int | None = 200,
    seed: int = 1337,
    components: dict[str, str] | None = None,
    use_kv_cache: bool = True,
    device: str = "cpu",
) -> str:
    """The prompt and the ``max_new_tokens`` characters generated after it (:func:`stream`'s, joined)."""
    pieces = stream(checkpoint_dir, prompt, max_new_tokens, temperature, top_k, seed, components, use_kv_cache, device)
    return prompt + "".join(pieces)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m impl.sample", description="Generate text from a checkpoint.")
    p.add_argument("--checkpoint", required=True, help="directory written by impl.train (its train.out_dir)")
    p.add_argument("--prompt", help="text to continue (default: a newline)")
    p.add_argument("--max-new-tokens", type=int, default=500)
    p.add_argument("--temperature", type=float, default=0.8, help="0 = greedy")
    p.add_argument("--top-k", type=int, default=200, help="keep the k most likely tokens; 0 keeps all")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument(
        "--component",
        action="extend",
        nargs="+",
        default=[],
        metavar="NAME=IMPL",
        help="override components (repeatable; several may follow one --component)",
    )
    p.add_argument("--no-kv-cache", action="store_true", help="decode without the key/value cache (same tokens)")
    p.add_argument("--device", default="cpu", help="where the model runs: cpu (default), cuda, cuda:1, ...")
    args = p.parse_args(argv)
    if args.top_k < 0:
        p.error(f"argument --top-k: must be >= 0 (0 keeps every token), got {args.top_k}")
    prompt = DEFAULT_PROMPT if args.prompt is None else args.prompt
    try:
        overrides = dict(_pair(c) for c in args.component)
        pieces = stream(
            args.checkpoint,
            prompt,
            args.max_new_tokens,
            args.temperature,
            args.top_k or None,
            args.seed,
            overrides,
            use_kv_cache=not args.no_kv_cache,
            device=args.device,
        )
    except (ValueError, checkpoint.CheckpointError) as exc:
        default = isinstance(exc, PromptError) and args.prompt is None
        print(
            f"error: {exc}" + ("; that is the default prompt: give one with --prompt" if default else ""),
            file=sys.stderr,
        )
        return 2
    try:
        # each character as it is drawn: on a slow model or a long run the text shows up as it grows
        print(prompt, end="", flush=True)
        for piece in pieces:
            print(piece, end="", flush=True)
        print(flush=True)
    except KeyboardInterrupt:  # Ctrl-C: keep what was printed, end its line, no traceback
        print()
        return 130
    except BrokenPipeError:  # the reader has gone (| head): stop drawing, quietly, as a filter would
        silence()
        return CLOSED_STATUS
    return 0


def _pair(assignment: str) -> tuple[str, str]:
    name, eq, value = assignment.partition("=")
    if not eq or not name or not value:
        raise ValueError(f"--component {assignment!r}: expected NAME=IMPL, e.g. LayerNorm=torch")
    return name.strip(), value.strip()


if __name__ == "__main__":
    sys.exit(main())
