"""Checkpoints: weights in safetensors, everything else as JSON metadata; no pickle anywhere.

A checkpoint is a directory with two files, each written atomically (a temporary file in the same directory,
fsync, ``os.replace``), so a crash leaves the previous version of a file or the new one, never half of one:

- ``model.safetensors``: the weights, with the run's configuration, the tokenizer's vocabulary and a SHA-256 of
  the training text in its metadata. This is all that sampling and evaluation need.
- ``train_state.safetensors``: what resuming needs besides the weights: the optimizer's state (tensors here, the
  rest as JSON), the state of every random number generator, and the training history.

Both record the iteration they belong to; resuming checks that they agree. A weight shared by two names (the tied
embedding and output head) is stored once, with the other name recorded as an alias.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open
from safetensors.torch import save as safetensors_bytes
from torch import Tensor

from impl.config import Config, ConfigError
from impl.gpt import GPT, Components
from impl.tokenizer import CharTokenizer
from nnresolve import MissingComponent, describe_exception

__all__ = [
    "MODEL_FILE",
    "STATE_FILE",
    "CheckpointError",
    "atomic_write",
    "build_model",
    "load_model",
    "read_model",
    "read_train_state",
    "save_checkpoint",
]

MODEL_FILE = "model.safetensors"
STATE_FILE = "train_state.safetensors"
FORMAT = "nnspec-gpt-1"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, incomplete or inconsistent."""


class TextChangedWarning(UserWarning):
    """The file at a checkpoint's ``data.path`` is no longer the text the checkpoint was trained on."""


def text_sha256(text: str) -> str:
    """The fingerprint a checkpoint keeps of its training text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def trained_text_sha256(out_dir: str | Path) -> str | None:
    """The fingerprint of the text the checkpoint in ``out_dir`` was trained on; None for a checkpoint that
    predates fingerprints."""
    with _opened(Path(out_dir) / MODEL_FILE) as f:  # the header alone: no tensor is read
        return (f.metadata() or {}).get("text_sha256")


def text_changed(out_dir: str | Path, text: str) -> bool:
    """Whether the checkpoint in ``out_dir`` was trained on another text than ``text`` (False for a checkpoint that
    predates fingerprints: nothing to compare)."""
    return trained_text_sha256(out_dir) not in (None, text_sha256(text))


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[Any]:
    """``safe_open(path)``, with a file that cannot be read reported as a damaged checkpoint."""
    if not path.is_file():
        raise CheckpointError(f"no checkpoint file {str(path)!r}")
    try:
        with safe_open(str(path), framework="pt") as f:
            yield f
    except (SafetensorError, OSError) as exc:  # truncated in a copy, overwritten, not a safetensors file at all
        raise CheckpointError(f"checkpoint file {str(path)!r} cannot be read, it is damaged: {exc}") from None


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a partial one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the rename itself durable
    finally:
        os.close(dir_fd)


def _plain(t: Tensor) -> Tensor:
    """A detached, contiguous, plain-Tensor copy with storage of its own (safetensors refuses shared memory)."""
    return t.detach().as_subclass(Tensor).to("cpu", copy=True).contiguous()


def _dedupe(state: Mapping[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, str]]:
    """Split a state_dict into unique tensors and ``{alias: canonical name}`` for names that view the same data."""
    tensors: dict[str, Tensor] = {}
    aliases: dict[str, str] = {}
    seen: dict[tuple[Any, ...], str] = {}
    for name, t in state.items():
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()), t.dtype)
        if t.numel() and key in seen:
            aliases[name] = seen[key]
        else:
            seen[key] = name
            tensors[name] = _plain(t)
    return tensors, aliases


def _to_json_tree(obj: Any, path: str, tensors: dict[str, Tensor]) -> Any:
    """``obj`` as JSON-able data; every tensor goes into ``tensors`` under its path and is replaced by a reference."""
    if isinstance(obj, Tensor):
        tensors[path] = _plain(obj)
        return {"__tensor__": path}
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) for k in obj):
            return {k: _to_json_tree(v, f"{path}.{k}", tensors) for k, v in obj.items()}
        return {"__items__": [[k, _to_json_tree(v, f"{path}.{k}", tensors)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_to_json_tree(v, f"{path}.{i}", tensors) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_to_json_tree(v, f"{path}.{i}", tensors) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"cannot store {path} of type {type(obj).__name__} in a checkpoint (no pickling)")


def _from_json_tree(obj: Any, tensors: Mapping[str, Tensor]) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {"__tensor__"}:
            return tensors[obj["__tensor__"]]
        if set(obj) == {"__items__"}:
            return {k: _from_json_tree(v, tensors) for k, v in obj["__items__"]}
        if set(obj) == {"__tuple__"}:
            return tuple(_from_json_tree(v, tensors) for v in obj["__tuple__"])
        return {k: _from_json_tree(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_from_json_tree(v, tensors) for v in obj]
    return obj


def save_checkpoint(
    out_dir: str | Path,
    *,
    iteration: int,
    model_state: Mapping[str, Tensor],
    config: Mapping[str, Any],
    vocab: str,
    optimizer_state: Mapping[str, Any],
    rng_state: Mapping[str, Tensor],
    history: Mapping[str, Any],
    text_sha256: str | None = None,
) -> None:
    """Write ``out_dir/model.safetensors`` and ``out_dir/train_state.safetensors`` atomically.

    Args:
        out_dir: the checkpoint directory (created if missing).
        iteration: number of optimizer steps taken so far.
        model_state: the model's ``state_dict()``.
        config: the run's full configuration (JSON-able).
        vocab: the tokenizer's characters, in id order.
        optimizer_state: the optimizer's ``state_dict()``.
        rng_state: name -> state tensor of each random number generator (``torch.get_rng_state()``, ...).
        history: JSON-able training history (losses) to carry over on resume.
        text_sha256: :func:`text_sha256` of the training text, so that a later change to the file at
            ``data.path`` can be told.
    """
    weights, aliases = _dedupe(model_state)
    meta = {
        "format": FORMAT,
        "iteration": str(iteration),
        "config": json.dumps(config),
        "vocab": json.dumps(vocab),
        "aliases": json.dumps(aliases),
    }
    if text_sha256 is not None:
        meta["text_sha256"] = text_sha256
    state_tensors: dict[str, Tensor] = {f"rng.{k}": _plain(v) for k, v in rng_state.items()}
    optimizer_tree = _to_json_tree(dict(optimizer_state), "optimizer", state_tensors)
    state_meta = {
        "format": FORMAT,
        "iteration": str(iteration),
        "optimizer": json.dumps(optimizer_tree),
        "rng": json.dumps(sorted(rng_state)),
        "history": json.dumps(history),
    }
    out = Path(out_dir)
    atomic_write(out / STATE_FILE, safetensors_bytes(state_tensors, state_meta))
    atomic_write(out / MODEL_FILE, safetensors_bytes(weights, meta))


def _read(path: Path) -> tuple[dict[str, Tensor], dict[str, str]]:
    with _opened(path) as f:
        meta = f.metadata() or {}
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a Mapping)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{str(path)!r} is not a checkpoint of this format ({FORMAT}): {meta.get('format')!r}")
    return tensors, meta


def read_model(out_dir: str | Path) -> tuple[dict[str, Tensor], dict[str, Any], str, int]:
    """The weights (a full state_dict, aliases restored), configuration, vocabulary and iteration of a checkpoint."""
    tensors, meta = _read(Path(out_dir) / MODEL_FILE)
    for alias, name in json.loads(meta["aliases"]).items():
        tensors[alias] = tensors[name]
    return tensors, json.loads(meta["config"]), json.loads(meta["vocab"]), int(meta["iteration"])


def read_train_state(out_dir: str | Path, iteration: int) -> tuple[dict[str, Any], dict[str, Tensor], dict[str, Any]]:
    """The optimizer state_dict, RNG states and history saved with the weights of ``iteration``."""
    path = Path(out_dir) / STATE_FILE
    tensors, meta = _read(path)
    if int(meta["iteration"]) != iteration:
        raise CheckpointError(
            f"{str(path)!r} is from iteration {meta['iteration']} but the weights are from iteration {iteration}; "
            "the checkpoint was interrupted while being written"
        )
    optimizer_state = _from_json_tree(json.loads(meta["optimizer"]), tensors)
    rng = {k: tensors[f"rng.{k}"] for k in json.loads(meta["rng"])}
    return optimizer_state, rng, json.loads(meta["history"])


def load_model(
    out_dir: str | Path, components: Components | None = None, overrides: Mapping[str, str] | None = None
) -> tuple[GPT, CharTokenizer, Config]:
    """The model (in eval mode), tokenizer and configuration stored in a checkpoint directory.

    Args:
        out_dir: the checkpoint directory.
        components: where the model's building blocks come from; default: the checkpoint's ``[components]``
            table with ``overrides`` laid over it (``{"default": "torch"}``, ``{"LayerNorm": "impl"}``).
        overrides: see ``components``.
    """
    weights, config_dict, vocab, _ = read_model(out_dir)
    config = Config.from_dict(config_dict)
    tokenizer = CharTokenizer(vocab)
    if components is None:
        components = Components.from_config({**config.components, **(overrides or {})})
    model = build_model(config, tokenizer.vocab_size, components)
    model.load_state_dict(weights)
    model.eval()
    return model, tokenizer, config


def build_model(config: Config, vocab_size: int, components: Components) -> GPT:
    """A freshly initialised GPT of the ``[model]`` section's shape.

    Raises:
        ConfigError: a component could not be built or used as torch's would be (a ``LayerNorm`` served by a
            class that takes other arguments, say), naming the components and where it broke.
    """
    try:
        return GPT(config.model.gpt_config(vocab_size), components)
    except MissingComponent:
        raise
    except Exception as exc:
        raise ConfigError(
            f"the model cannot be built from {components!r}: {describe_exception(exc)}; each component must take "
            "the arguments and offer the methods that torch's does"
        ) from exc
