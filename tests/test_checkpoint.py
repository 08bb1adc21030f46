"""Checkpoints: safetensors + JSON only, atomic writes, tied weights stored once, exact optimizer/RNG round trips."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors import safe_open

from impl import checkpoint
from impl.config import load_config
from impl.gpt import Components

CFG = load_config(sets=["model.n_layer=1", "model.n_embd=16", "model.n_head=2", "model.block_size=8"])


def model_and_optimizer(components: str) -> tuple[Any, Any]:
    torch.manual_seed(0)
    nn = Components(components)
    model = checkpoint.build_model(CFG, 12, nn)
    optimizer = nn.AdamW(model.optim_groups(0.1), lr=1e-2, betas=(0.9, 0.99))
    return model, optimizer


def step(model: Any, optimizer: Any, seed: int) -> None:
    idx = torch.randint(0, 12, (2, 8), generator=torch.Generator().manual_seed(seed))
    _, loss = model(idx, idx.roll(1, 1))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def save(out: Path, model: Any, optimizer: Any, iteration: int = 3) -> None:
    checkpoint.save_checkpoint(
        out,
        iteration=iteration,
        model_state=model.state_dict(),
        config=CFG.to_dict(),
        vocab="abcdefghijkl",
        optimizer_state=optimizer.state_dict(),
        rng_state={"torch": torch.get_rng_state(), "sampler": torch.Generator().manual_seed(5).get_state()},
        history={"loss": [3.0, 2.5], "eval": [[0, 3.1, 3.2]]},
    )


@pytest.mark.parametrize("components", ["torch", "impl"])
def test_round_trip_restores_weights_optimizer_and_rng(tmp_path: Path, components: str) -> None:
    model, optimizer = model_and_optimizer(components)
    step(model, optimizer, 0)
    save(tmp_path, model, optimizer)

    weights, config, vocab, iteration = checkpoint.read_model(tmp_path)
    assert (config, vocab, iteration) == (CFG.to_dict(), "abcdefghijkl", 3)
    assert weights.keys() == model.state_dict().keys()
    for name, value in model.state_dict().items():
        torch.testing.assert_close(weights[name], value, rtol=0, atol=0)
    opt_state, rng, history = checkpoint.read_train_state(tmp_path, 3)
    assert history == {"loss": [3.0, 2.5], "eval": [[0, 3.1, 3.2]]}
    assert torch.equal(rng["torch"], torch.get_rng_state())

    restored, restored_opt = model_and_optimizer(components)
    restored.load_state_dict(weights)
    restored_opt.load_state_dict(opt_state)
    step(model, optimizer, 1)
    step(restored, restored_opt, 1)
    for (name, a), b in zip(model.state_dict().items(), restored.state_dict().values(), strict=True):
        assert torch.equal(b, a), name


def test_tied_weight_is_stored_once(tmp_path: Path) -> None:
    model, optimizer = model_and_optimizer("torch")
    save(tmp_path, model, optimizer)
    with safe_open(str(tmp_path / checkpoint.MODEL_FILE), framework="pt") as f:
        keys = set(f.keys())
    assert ("wte.weight" in keys) != ("lm_head.weight" in keys)
    weights, *_ = checkpoint.read_model(tmp_path)
    assert torch.equal(weights["wte.weight"], weights["lm_head.weight"])


def test_load_model_rebuilds_an_eval_mode_model(tmp_path: Path) -> None:
    model, optimizer = model_and_optimizer("torch")
    save(tmp_path, model, optimizer)
    loaded, tokenizer, config = checkpoint.load_model(tmp_path, Components("impl"))
    assert not loaded.training and tokenizer.chars == "abcdefghijkl" and config == CFG
    idx = torch.randint(0, 12, (2, 8))
    model.eval()
    torch.testing.assert_close(loaded(idx)[0], model(idx)[0])


def test_interrupted_checkpoint_is_detected(tmp_path: Path) -> None:
    model, optimizer = model_and_optimizer("torch")
    save(tmp_path / "a", model, optimizer, iteration=5)
    save(tmp_path / "b", model, optimizer, iteration=6)
    os.replace(tmp_path / "b" / checkpoint.STATE_FILE, tmp_path / "a" / checkpoint.STATE_FILE)
    with pytest.raises(checkpoint.CheckpointError, match="from iteration 6 but the weights are from iteration 5"):
        checkpoint.read_train_state(tmp_path / "a", 5)


def test_missing_or_foreign_files_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(checkpoint.CheckpointError, match="no checkpoint file"):
        checkpoint.read_model(tmp_path)
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / checkpoint.MODEL_FILE))
    with pytest.raises(checkpoint.CheckpointError, match="not a checkpoint of this format"):
        checkpoint.read_model(tmp_path)


@pytest.mark.parametrize("damage", ["truncated", "overwritten", "cut-in-the-tensors"])
def test_a_damaged_file_is_named_not_a_traceback(tmp_path: Path, damage: str) -> None:
    model, optimizer = model_and_optimizer("torch")
    save(tmp_path, model, optimizer)
    for name in (checkpoint.MODEL_FILE, checkpoint.STATE_FILE):
        path = tmp_path / name
        whole = path.read_bytes()
        cut = {"truncated": whole[:100], "overwritten": b"garbage\n", "cut-in-the-tensors": whole[:-8]}[damage]
        path.write_bytes(cut)
        read = checkpoint.read_model if name == checkpoint.MODEL_FILE else lambda d: checkpoint.read_train_state(d, 3)
        with pytest.raises(checkpoint.CheckpointError, match=f"checkpoint file '.*{name}' cannot be read, it is dam"):
            read(tmp_path)
        path.write_bytes(whole)


def test_the_training_text_fingerprint_is_kept_in_the_header(tmp_path: Path) -> None:
    model, optimizer = model_and_optimizer("torch")
    save(tmp_path / "old", model, optimizer)  # a checkpoint written without one, as before fingerprints
    assert checkpoint.trained_text_sha256(tmp_path / "old") is None
    checkpoint.save_checkpoint(
        tmp_path / "new",
        iteration=1,
        model_state=model.state_dict(),
        config=CFG.to_dict(),
        vocab="abcdefghijkl",
        optimizer_state=optimizer.state_dict(),
        rng_state={"torch": torch.get_rng_state()},
        history={"loss": [], "eval": []},
        text_sha256=checkpoint.text_sha256("abc\u00e6"),
    )
    # sha256 of the text's UTF-8 bytes ("abc" then 0xC3 0xA6), as `printf 'abc\xc3\xa6' | sha256sum` gives it
    assert checkpoint.trained_text_sha256(tmp_path / "new") == (
        "06d7ba520d653642a577b421675028096b12293cf10c9df9b10813b85f15a9d0"
    )


def test_unpicklable_state_is_refused(tmp_path: Path) -> None:
    model, optimizer = model_and_optimizer("torch")
    state = optimizer.state_dict()
    state["param_groups"][0]["custom"] = object()
    with pytest.raises(TypeError, match=r"optimizer\.param_groups\.0\.custom of type object"):
        checkpoint.save_checkpoint(
            tmp_path,
            iteration=0,
            model_state=model.state_dict(),
            config={},
            vocab="ab",
            optimizer_state=state,
            rng_state={},
            history={},
        )


def test_atomic_write_replaces_whole_file_and_syncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.bin"
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    checkpoint.atomic_write(target, b"old")
    assert target.read_bytes() == b"old" and len(synced) == 2  # the file, then its directory

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        checkpoint.atomic_write(target, b"new contents")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no temporary file left behind
