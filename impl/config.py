"""Training configuration: TOML files layered on the bundled default, then ``--set section.key=value`` overrides.

Every key is type-checked against the sections below, and an unknown section or key is an error that lists the
known ones, so a typo never passes silently.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, get_type_hints

import torch

from impl.gpt.components import COMPONENTS
from impl.gpt.model import GPTConfig, GPTConfigError
from nnresolve import usable_device

__all__ = ["Config", "ConfigError", "DataConfig", "ModelConfig", "TrainConfig", "load_config", "merge", "parse_set"]


class ConfigError(ValueError):
    """A configuration key, value or type is wrong."""


def device_of(name: str, what: str = "device") -> torch.device:
    """The torch device ``name``, checked to be present on this machine (ConfigError naming ``what`` otherwise)."""
    try:
        return usable_device(name)
    except ValueError as exc:
        raise ConfigError(f"{what}: {exc}") from None


@dataclass
class ModelConfig:
    n_layer: int
    n_head: int
    n_embd: int
    block_size: int
    dropout: float
    bias: bool
    # Modern-GPT switches; their defaults are GPT-2's, so configs and checkpoints written without them still load.
    pos: str = "learned"  # "learned" | "rope"
    norm: str = "layernorm"  # "layernorm" | "rmsnorm"
    mlp: str = "gelu"  # "gelu" | "swiglu"
    n_kv_head: int = 0  # key/value heads; 0 means n_head
    max_seq_len: int = 0  # with pos = "rope": longest sequence; 0 means block_size
    rope_base: float = 10000.0

    def __post_init__(self) -> None:
        # The model's own rules (n_head dividing n_embd, ...) are checked here, so that a bad value is reported as
        # a configuration error before any data is read.
        try:
            self.gpt_config(vocab_size=1)
        except GPTConfigError as exc:
            raise ConfigError(exc.named("model")) from None

    def gpt_config(self, vocab_size: int) -> GPTConfig:
        """The :class:`GPTConfig` of this section, for a vocabulary of ``vocab_size`` tokens."""
        return GPTConfig(
            block_size=self.block_size,
            vocab_size=vocab_size,
            n_layer=self.n_layer,
            n_head=self.n_head,
            n_embd=self.n_embd,
            dropout=self.dropout,
            bias=self.bias,
            pos=self.pos,
            norm=self.norm,
            mlp=self.mlp,
            n_kv_head=self.n_kv_head or None,
            max_seq_len=self.max_seq_len or None,
            rope_base=self.rope_base,
        )


@dataclass
class TrainConfig:
    batch_size: int
    max_iters: int
    learning_rate: float
    min_lr: float
    warmup_iters: int
    lr_decay_iters: int
    weight_decay: float
    beta1: float
    beta2: float
    grad_clip: float
    eval_interval: int
    eval_iters: int
    seed: int
    out_dir: str
    device: str = "cpu"  # optional: configurations written before it existed train on the CPU
    grad_accum_steps: int = 1  # optional too: micro-batches per optimizer step

    def __post_init__(self) -> None:
        at_least = {
            **{"batch_size": 1, "grad_accum_steps": 1, "max_iters": 0, "warmup_iters": 0, "lr_decay_iters": 1},
            **{"eval_interval": 1, "eval_iters": 1, "learning_rate": 0.0, "min_lr": 0.0, "weight_decay": 0.0},
            **{"grad_clip": 0.0},
        }
        for name, low in at_least.items():
            if not getattr(self, name) >= low:  # written so that NaN fails too
                raise ConfigError(f"train.{name} must be >= {low}, got {getattr(self, name)!r}")
        for name in ("beta1", "beta2"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ConfigError(f"train.{name} must be in [0, 1), got {getattr(self, name)!r}")
        try:
            torch.device(self.device)  # presence is checked when training starts: a config may travel
        except (RuntimeError, TypeError):
            raise ConfigError(
                f"train.device must name a torch device (cpu, cuda, cuda:1, ...), got {self.device!r}"
            ) from None


@dataclass
class DataConfig:
    path: str
    train_fraction: float

    def __post_init__(self) -> None:
        if not 0.0 < self.train_fraction < 1.0:
            raise ConfigError(f"data.train_fraction must be in (0, 1), got {self.train_fraction!r}")


@dataclass
class Config:
    """The whole configuration; ``components`` is the ``[components]`` table (``default`` plus overrides)."""

    model: ModelConfig
    train: TrainConfig
    data: DataConfig
    components: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Config:
        """Build from a complete nested dict (as :meth:`to_dict` gives), checking every key and type."""
        d = merge(_empty(), d, "config")
        for name, section in _SECTIONS.items():
            required = {f.name for f in dataclasses.fields(section) if f.default is dataclasses.MISSING}
            missing = sorted(required - set(d[name]))
            if missing:
                raise ConfigError(f"config: [{name}] lacks {missing}")
        return cls(**{name: section(**d[name]) for name, section in _SECTIONS.items()}, components=d["components"])


_SECTIONS: dict[str, type] = {"model": ModelConfig, "train": TrainConfig, "data": DataConfig}
_COMPONENT_KEYS = {"default", *COMPONENTS, *COMPONENTS.values()}


def _empty() -> dict[str, Any]:
    return {**{name: {} for name in _SECTIONS}, "components": {}}


def _check(section: str, key: str, value: Any, source: str) -> Any:
    """``value`` for ``[section] key``, converted where lossless (int -> float); raises ConfigError otherwise."""
    if section == "components":
        if key not in _COMPONENT_KEYS:
            known = ["default", *COMPONENTS]
            raise ConfigError(f"{source}: unknown key components.{key}; known: {known} (or full paths: nn.Linear, ...)")
        expected: type = str
    else:
        hints = get_type_hints(_SECTIONS[section])
        if key not in hints:
            raise ConfigError(f"{source}: unknown key {section}.{key}; known keys in [{section}]: {sorted(hints)}")
        expected = hints[key]
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not expected:
        raise ConfigError(
            f"{source}: {section}.{key} must be {expected.__name__}, got {type(value).__name__} {value!r}"
        )
    if isinstance(value, float) and not math.isfinite(value):
        # TOML and float() both read nan and inf; no key has a use for them (grad_clip = 0 turns clipping off).
        raise ConfigError(f"{source}: {section}.{key} must be a finite number, got {value!r}")
    return value


def merge(base: Mapping[str, Any], update: Mapping[str, Any], source: str) -> dict[str, Any]:
    """A copy of ``base`` with the sections of ``update`` laid over it, every key checked."""
    out = {name: dict(section) for name, section in base.items()}
    for name, section in update.items():
        if name not in out:
            raise ConfigError(f"{source}: unknown section [{name}]; known: {sorted(out)}")
        if not isinstance(section, Mapping):
            raise ConfigError(f"{source}: [{name}] must be a table, got {type(section).__name__}")
        for key, value in section.items():
            out[name][key] = _check(name, key, value, source)
    return out


def parse_set(assignment: str, base: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with one ``section.key=value`` override applied, ``value`` read as the key's type.

    Example::

        >>> base = load_config().to_dict()
        >>> parse_set("train.max_iters=500", base)["train"]["max_iters"]
        500
    """
    lhs, eq, raw = assignment.partition("=")
    section, dot, key = lhs.strip().partition(".")
    if not eq or not dot or not key:
        raise ConfigError(f"--set {assignment!r}: expected section.key=value, e.g. train.max_iters=200")
    source = f"--set {assignment}"
    if section not in base:
        raise ConfigError(f"{source}: unknown section [{section}]; known: {sorted(base)}")
    if section == "components":
        expected: type = str
    else:
        hints = get_type_hints(_SECTIONS[section])
        expected = hints.get(key, str)  # an unknown key is reported by _check below
    raw = raw.strip()
    value: Any
    try:
        if expected is bool:
            if raw.lower() not in ("true", "false"):
                raise ValueError
            value = raw.lower() == "true"
        elif expected is int:
            value = int(raw)
        elif expected is float:
            value = float(raw)
        else:
            value = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" else raw
    except ValueError:
        raise ConfigError(f"{source}: {section}.{key} must be {expected.__name__}, got {raw!r}") from None
    return merge(base, {section: {key: value}}, source)


def _read_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None


def default_dict() -> dict[str, Any]:
    """The bundled ``impl/configs/default.toml`` as a nested dict."""
    text = resources.files("impl").joinpath("configs", "default.toml").read_text(encoding="utf-8")
    return merge(_empty(), _read_toml(text, "impl/configs/default.toml"), "impl/configs/default.toml")


def load_config(
    path: str | Path | None = None, sets: Iterable[str] = (), base: Mapping[str, Any] | None = None
) -> Config:
    """The configuration: ``base`` (default: the bundled default), the TOML file ``path`` over it, then ``sets``.

    Example::

        >>> cfg = load_config(sets=["train.max_iters=200", "components.LayerNorm=torch"])
        >>> cfg.train.max_iters, cfg.components
        (200, {'default': 'impl', 'LayerNorm': 'torch'})
    """
    d = merge(_empty(), base, "config") if base is not None else default_dict()
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"--config {str(p)!r} is not a file")
        d = merge(d, _read_toml(p.read_text(encoding="utf-8"), str(p)), str(p))
    for assignment in sets:
        d = parse_set(assignment, d)
    return Config.from_dict(d)
