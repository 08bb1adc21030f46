"""train.device / --device: training, evaluation and sampling on an accelerator, and clear errors where it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from impl import evaluate, sample, train
from impl.checkpoint import MODEL_FILE, read_model, read_train_state
from impl.config import ConfigError, load_config
from tests.test_train import TINY, tiny_config

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")


def test_device_defaults_to_cpu_and_a_bad_name_is_refused_at_once() -> None:
    assert load_config().train.device == "cpu"
    with pytest.raises(ConfigError, match=r"train.device must name a torch device .* got 'gpu0'"):
        load_config(sets=["train.device=gpu0"])


@NO_CUDA
def test_absent_cuda_is_a_clear_error_in_every_command(
    tmp_path: Path,
    small_text: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flat = [a for s in [*TINY, f"train.out_dir={tmp_path}", f"data.path={small_text}"] for a in ("--set", s)]
    assert train.main([*flat, "--no-progress", "--set", "train.max_iters=1", "--set", "train.device=cuda"]) == 2
    err = capsys.readouterr().err
    assert "error: train.device: device 'cuda' asked for, but torch.cuda.is_available() is False here" in err
    assert not (tmp_path / MODEL_FILE).exists()  # refused before any work
    assert train.main([*flat, "--no-progress", "--set", "train.max_iters=1"]) == 0
    capsys.readouterr()
    assert evaluate.main(["--checkpoint", str(tmp_path), "--device", "cuda"]) == 2
    assert "error: --device: device 'cuda' asked for" in capsys.readouterr().err
    assert sample.main(["--checkpoint", str(tmp_path), "--device", "cuda", "--max-new-tokens", "2"]) == 2
    assert "error: --device: device 'cuda' asked for" in capsys.readouterr().err


@CUDA
def test_cuda_training_follows_the_cpu_run(tmp_path: Path, small_text: Path) -> None:
    runs = {}
    for device in ("cpu", "cuda"):
        cfg = tiny_config(tmp_path / device, small_text, "train.max_iters=8", f"train.device={device}")
        train.train(cfg, progress=False)
        runs[device] = read_train_state(tmp_path / device, 8)[2]["loss"]
    # Same initial weights and batches; only the kernels' rounding differs, and eight Adam steps keep it small.
    torch.testing.assert_close(torch.tensor(runs["cuda"]), torch.tensor(runs["cpu"]), rtol=1e-4, atol=1e-5)
    cpu_eval = evaluate.evaluate(str(tmp_path / "cpu"))
    cuda_eval = evaluate.evaluate(str(tmp_path / "cpu"), device="cuda")
    assert cuda_eval["tokens"] == cpu_eval["tokens"]
    assert cuda_eval["loss"] == pytest.approx(cpu_eval["loss"], rel=1e-5)
    text = sample.sample(str(tmp_path / "cuda"), "ROMEO:", 20, device="cuda")
    assert text.startswith("ROMEO:") and len(text) == len("ROMEO:") + 20


@CUDA
def test_cuda_resume_restores_the_gpu_dropout_generator(tmp_path: Path, small_text: Path) -> None:
    common = ["model.dropout=0.2", "train.eval_interval=3", "train.device=cuda"]
    train.train(tiny_config(tmp_path / "straight", small_text, *common, "train.max_iters=8"), progress=False)
    train.train(tiny_config(tmp_path / "split", small_text, *common, "train.max_iters=4"), progress=False)
    assert "cuda" in read_train_state(tmp_path / "split", 4)[1]
    train.train(tiny_config(tmp_path / "split", small_text, *common, "train.max_iters=8"), resume=True, progress=False)
    assert read_model(tmp_path / "split")[3] == 8
    a, b = load_file(tmp_path / "straight" / MODEL_FILE), load_file(tmp_path / "split" / MODEL_FILE)
    # CUDA's embedding backward adds with atomics, in no fixed order: equal up to float32 rounding, not bitwise.
    # Other dropout masks would move the weights by far more.
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-5, msg=name)
