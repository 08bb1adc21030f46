"""``python -m conformance.model MODULE:FACTORY``: check a language model's invariants (see ``model_checks``).

``FACTORY`` is a callable of ``MODULE`` that takes no arguments and returns the model (or the model itself)::

    python -m conformance.model mypkg.models:tiny_gpt --seq-len 24
    python -m conformance.model mypkg.models:tiny_gpt --check cached_decoding

Exit status 0 when every check passed (unsupported ones count as failures with ``--strict``), 1 otherwise, 2 when
the model cannot be loaded, 141 when the reader closed the pipe (``| head``) before the results were printed.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from typing import Any

from conformance.model_checks import MODEL_CHECKS, check_model
from conformance.stdout import print_results
from nnresolve import describe_exception


def load_factory(target: str) -> Any:
    """The model named by ``MODULE:ATTR``: the attribute called if callable and not a model already."""
    module_name, colon, attr = target.partition(":")
    if not colon or not module_name or not attr:
        raise ValueError(f"expected MODULE:FACTORY, got {target!r}")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    is_model = hasattr(obj, "forward") and not isinstance(obj, type)
    if is_model or not callable(obj):
        return obj
    try:
        inspect.signature(obj).bind()
    except TypeError as exc:  # a class or function that needs arguments: the model's config, say
        raise ValueError(
            f"{target} cannot be called without arguments ({exc}): name a zero-argument function that returns the "
            "model, or the model itself"
        ) from None
    except ValueError:  # no signature to read (a builtin): calling it tells
        pass
    try:
        return obj()
    except Exception as exc:  # the user's factory failed: its own error, in a line, is what they need
        raise ValueError(f"{target}() raised {describe_exception(exc)}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.model", description=__doc__.split("\n")[0])
    parser.add_argument("target", help="MODULE:FACTORY, a zero-argument callable returning the model")
    parser.add_argument("--vocab-size", type=int, help="token ids are drawn below this (default: model.config)")
    parser.add_argument("--seq-len", type=int, help="sequence length (default: min(model.config.block_size, 32))")
    parser.add_argument("--batch-size", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="append", choices=list(MODEL_CHECKS), help="run only these (repeatable)")
    parser.add_argument("--strict", action="store_true", help="an unsupported check fails the run")
    args = parser.parse_args(argv)
    try:
        model = load_factory(args.target)
        results = check_model(model, args.vocab_size, args.seq_len, args.batch_size, args.seed, args.check)
    except (ImportError, AttributeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return print_results(results, args.strict)


if __name__ == "__main__":
    sys.exit(main())
