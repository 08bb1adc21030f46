"""Training configuration: the bundled default, --config layering, --set overrides, type checks, clear errors."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from impl.config import Config, ConfigError, load_config


def test_default_is_nanogpt_baby_gpt() -> None:
    cfg = load_config()
    m, t = cfg.model, cfg.train
    assert (m.n_layer, m.n_head, m.n_embd, m.block_size, m.dropout, m.bias) == (4, 4, 128, 64, 0.0, True)
    assert (t.batch_size, t.max_iters, t.learning_rate, t.min_lr, t.lr_decay_iters) == (12, 2000, 1e-3, 1e-4, 2000)
    assert (t.warmup_iters, t.weight_decay, t.beta1, t.beta2, t.grad_clip) == (100, 0.0, 0.8, 0.999, 1.0)
    assert (t.eval_interval, t.eval_iters) == (250, 20)
    assert cfg.components == {"default": "impl"}
    assert cfg.data.path == "" and cfg.data.train_fraction == 0.9


def test_set_overrides_are_typed() -> None:
    cfg = load_config(
        sets=[
            "train.max_iters=200",
            "train.learning_rate=3e-4",
            "model.bias=true",
            "model.dropout=0",
            "train.out_dir=/tmp/x y",
            'data.path="quoted.txt"',
            "components.LayerNorm=torch",
        ]
    )
    assert cfg.train.max_iters == 200 and cfg.train.learning_rate == 3e-4 and cfg.model.bias is True
    assert isinstance(cfg.model.dropout, float)
    assert cfg.train.out_dir == "/tmp/x y" and cfg.data.path == "quoted.txt"
    assert cfg.components == {"default": "impl", "LayerNorm": "torch"}


def test_config_file_is_laid_over_the_default(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[model]\nn_layer = 2\n[train]\nlearning_rate = 1\n[components]\ndefault = 'torch'\n")
    cfg = load_config(path, ["model.n_layer=3"])
    assert cfg.model.n_layer == 3  # --set wins over the file
    assert cfg.train.learning_rate == 1.0 and isinstance(cfg.train.learning_rate, float)
    assert cfg.model.n_embd == 128  # untouched keys keep the default
    assert cfg.components == {"default": "torch"}


def test_round_trip_through_dict() -> None:
    cfg = load_config(sets=["components.Linear=torch"])
    assert Config.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["train.lr=1"], r"unknown key train\.lr; known keys in \[train\]: \['batch_size', "),
        (["trian.max_iters=1"], r"unknown section \[trian\]"),
        (["train.max_iters=1.5"], r"train\.max_iters must be int, got '1\.5'"),
        (["model.bias=yes"], r"model\.bias must be bool, got 'yes'"),
        (["train.learning_rate=fast"], r"train\.learning_rate must be float, got 'fast'"),
        (["train.max_iters"], r"expected section\.key=value"),
        (["components.LayerNrom=torch"], r"unknown key components\.LayerNrom; known: \['default', 'Module'"),
        (["train.batch_size=0"], r"train\.batch_size must be >= 1, got 0"),
        (["train.beta2=1.0"], r"train\.beta2 must be in \[0, 1\), got 1\.0"),
        # float() and TOML read nan and inf: each would end in a NaN loss or a traceback, not a clear error
        (["train.learning_rate=nan"], r"^--set train\.learning_rate=nan: train\.learning_rate must be a finite number"),
        (["train.weight_decay=inf"], r"train\.weight_decay must be a finite number, got inf$"),
        (["model.dropout=-inf"], r"model\.dropout must be a finite number, got -inf$"),
        (["data.train_fraction=1.5"], r"^data\.train_fraction must be in \(0, 1\), got 1\.5$"),
        (["model.pos=rope", "model.rope_base=0"], r"^model\.rope_base must be a positive number, got 0\.0$"),
        # the model's own rules, reported as configuration errors before any data is read
        (["model.n_head=3"], r"^model\.n_embd \(128\) must be divisible by n_head \(3\)$"),
        (["model.n_layer=0"], r"^model\.n_layer must be a positive int, got 0$"),
        (["model.pos=rope", "model.n_head=128"], r"^model: rotary positions need an even head size, got 1$"),
        (["model.norm=batchnorm"], r"^model\.norm must be 'layernorm' or 'rmsnorm', got 'batchnorm'$"),
        (["model.mlp=relu"], r"^model\.mlp must be 'gelu' or 'swiglu', got 'relu'$"),
    ],
)
def test_bad_overrides_are_named(sets: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(sets=sets)


def test_bad_files_are_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[model]\nn_layer = '4'\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: model\.n_layer must be int, got str '4'"):
        load_config(path)
    path.write_text("[model\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    path.write_text("[train]\ngrad_clip = nan\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: train\.grad_clip must be a finite number, got nan"):
        load_config(path)
    path.write_text("[model]\nbias = 1\n")
    with pytest.raises(ConfigError, match=r"model\.bias must be bool, got int 1"):
        load_config(path)
    with pytest.raises(ConfigError, match="is not a file"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match=r"\[train\] lacks \['batch_size'"):
        Config.from_dict({"model": load_config().to_dict()["model"], "train": {}, "data": {}})


def test_sections_built_directly_refuse_nan() -> None:
    # Config.from_dict refuses nan first; a TrainConfig built in code must too (nan < 0 is False)
    train = load_config().train
    with pytest.raises(ConfigError, match=r"^train\.learning_rate must be >= 0\.0, got nan$"):
        dataclasses.replace(train, learning_rate=math.nan)


def test_rope_base_is_checked_only_with_rotary_positions() -> None:
    # learned positions never read it, so a config or checkpoint that holds any value still loads
    assert load_config(sets=["model.rope_base=0"]).model.rope_base == 0.0
    with pytest.raises(ConfigError, match="rope_base must be a positive number"):
        load_config(sets=["model.rope_base=0", "model.pos=rope"])
