"""Training: learning-rate schedule, exact resume, outputs, and the train / sample / evaluate commands."""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from impl import checkpoint, evaluate, sample, train
from impl.checkpoint import MODEL_FILE, load_model, read_model
from impl.config import Config, ConfigError, load_config
from impl.data import load_text
from impl.gpt import GPT, GPTConfig
from impl.ranks import Ranks

TINY = [
    "model.n_layer=1",
    "model.n_head=2",
    "model.n_embd=16",
    "model.block_size=16",
    "train.batch_size=4",
    "train.eval_iters=2",
    "train.warmup_iters=2",
    "train.lr_decay_iters=8",
]


def tiny_config(out_dir: Path, text: Path, *sets: str) -> Config:
    return load_config(sets=[*TINY, f"train.out_dir={out_dir}", f"data.path={text}", *sets])


def test_lr_schedule_warms_up_then_decays_to_min() -> None:
    cfg = load_config().train  # lr 1e-3 -> 1e-4, warmup 100, decay over 2000
    assert train.lr_at(0, cfg) == pytest.approx(1e-3 / 101)
    assert train.lr_at(99, cfg) == pytest.approx(1e-3 * 100 / 101)
    assert train.lr_at(100, cfg) == pytest.approx(1e-3)
    assert train.lr_at(1050, cfg) == pytest.approx(1e-4 + 0.5 * 9e-4)  # cosine midpoint
    assert train.lr_at(2000, cfg) == pytest.approx(1e-4)
    assert train.lr_at(5000, cfg) == pytest.approx(1e-4)
    lrs = [train.lr_at(i, cfg) for i in range(100, 2001)]
    assert all(a >= b for a, b in itertools.pairwise(lrs))


class _RanksOf(Ranks):
    """Rank ``rank`` of ``world``, whose sum over the ranks adds what the other ranks are given to hold."""

    def __init__(self, rank: int, world: int, others: float = 0.0) -> None:
        super().__init__(rank=rank, world=world)
        object.__setattr__(self, "others", others)

    def sum(self, value: float) -> float:
        return value + self.others  # type: ignore[attr-defined, no-any-return]


def test_the_ranks_shares_partition_the_batch_in_rank_order() -> None:
    rows = torch.arange(3 * 4)
    shares = [rows[Ranks(rank=r, world=3).share(4)] for r in range(3)]
    assert [s.tolist() for s in shares] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


def test_evaluation_over_ranks_scores_each_ranks_share_as_one_process_with_their_batch(
    tmp_path: Path, small_text: Path
) -> None:
    cfg = tiny_config(tmp_path, small_text, "train.eval_iters=5")  # batch_size 4
    data = torch.randint(17, (500,), generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=16, vocab_size=17, n_layer=1, n_head=2, n_embd=16))
    batches: list[int] = []
    model.register_forward_hook(lambda _m, args, _out: batches.append(len(args[0])))
    one = train.estimate_loss(
        model, {"val": data}, tiny_config(tmp_path, small_text, "train.eval_iters=5", "train.batch_size=8")
    )["val"]
    partial = []
    for rank in (0, 1):
        batches.clear()
        partial.append(train.estimate_loss(model, {"val": data}, cfg, _RanksOf(rank, 2))["val"] * 2 * 5)  # its sum
        assert batches == [4] * 5  # its own half of each batch of 8
    assert sum(partial) / 10 == pytest.approx(one, rel=1e-6)
    assert partial[0] != pytest.approx(partial[1])  # the ranks scored different windows
    assert train.estimate_loss(model, {"val": data}, cfg, _RanksOf(1, 2, partial[0]))["val"] == pytest.approx(one)


@pytest.mark.parametrize("components", ["impl", "torch"])
def test_resume_is_exact_with_dropout(tmp_path: Path, small_text: Path, components: str) -> None:
    common = ["model.dropout=0.2", "train.eval_interval=3", f"components.default={components}"]
    straight = tiny_config(tmp_path / "straight", small_text, *common, "train.max_iters=8")
    train.train(straight, progress=False)

    half = tiny_config(tmp_path / "split", small_text, *common, "train.max_iters=4")
    train.train(half, progress=False)
    # A different seed on resume changes nothing: every random state comes from the checkpoint.
    rest = tiny_config(tmp_path / "split", small_text, *common, "train.max_iters=8", "train.seed=999")
    summary = train.train(rest, resume=True, progress=False)
    assert summary["iters"] == 8

    a = load_file(tmp_path / "straight" / MODEL_FILE)
    b = load_file(tmp_path / "split" / MODEL_FILE)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(b[name], a[name]), name

    # Dropout really was on: the same run without it ends elsewhere.
    no_dropout = tiny_config(tmp_path / "nodrop", small_text, *common, "train.max_iters=8", "model.dropout=0.0")
    train.train(no_dropout, progress=False)
    assert not torch.equal(load_file(tmp_path / "nodrop" / MODEL_FILE)["h.0.mlp.c_fc.weight"], a["h.0.mlp.c_fc.weight"])


def test_accumulated_micro_batches_step_as_one_batch_of_their_size() -> None:
    torch.manual_seed(0)
    cfg = load_config(sets=TINY)
    model = checkpoint.build_model(cfg, 65, train.Components.from_config(cfg.components))
    twin = checkpoint.build_model(cfg, 65, train.Components.from_config(cfg.components))
    twin.load_state_dict(model.state_dict())
    x, y = torch.randint(65, (2, 8, 16)).unbind(0)
    grads, losses = [], []
    for net, batches in ((model, [(x, y)]), (twin, [(x[:4], y[:4]), (x[4:], y[4:])])):
        optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
        losses.append(train.train_step(net, optimizer, torch.nn.utils.clip_grad_norm_, batches, lr=1e-3, grad_clip=0))
        grads.append({name: p.grad for name, p in net.named_parameters()})
    assert losses[1] == pytest.approx(losses[0], rel=1e-6)  # the mean over micro-batches of equal size
    for name, grad in grads[0].items():
        torch.testing.assert_close(grads[1][name], grad, msg=name)
    with pytest.raises(ValueError, match="at least one"):
        train.train_step(model, optimizer, torch.nn.utils.clip_grad_norm_, [], lr=1e-3, grad_clip=0.0)


def test_grad_accum_steps_trains_on_k_batches_per_step_and_resumes_exactly(tmp_path: Path, small_text: Path) -> None:
    # Batches of 4 drawn twice per step are the windows one batch of 8 draws: the runs take the same steps.
    one = tiny_config(tmp_path / "one", small_text, "train.max_iters=4", "train.batch_size=8")
    summary_one = train.train(one, progress=False)
    two = tiny_config(tmp_path / "two", small_text, "train.max_iters=4", "train.grad_accum_steps=2")
    summary_two = train.train(two, progress=False)
    a, b = load_file(tmp_path / "one" / MODEL_FILE), load_file(tmp_path / "two" / MODEL_FILE)
    for name in a:
        torch.testing.assert_close(b[name], a[name], msg=name)
    history = [checkpoint.read_train_state(tmp_path / d, 4)[2]["loss"] for d in ("one", "two")]
    assert history[1] == pytest.approx(history[0], rel=1e-5)
    assert summary_two["tokens_per_s"] == pytest.approx(2 * 4 * 16 * 1000 / summary_two["ms_per_iter"])
    assert summary_one["iters"] == summary_two["iters"] == 4

    common = ["model.dropout=0.2", "train.eval_interval=2", "train.grad_accum_steps=3"]
    train.train(tiny_config(tmp_path / "straight", small_text, *common, "train.max_iters=4"), progress=False)
    train.train(tiny_config(tmp_path / "split", small_text, *common, "train.max_iters=2"), progress=False)
    train.train(tiny_config(tmp_path / "split", small_text, *common, "train.max_iters=4"), resume=True, progress=False)
    a, b = load_file(tmp_path / "straight" / MODEL_FILE), load_file(tmp_path / "split" / MODEL_FILE)
    assert all(torch.equal(b[name], a[name]) for name in a)
    with pytest.raises(ConfigError, match=r"train.grad_accum_steps must be >= 1, got 0"):
        tiny_config(tmp_path, small_text, "train.grad_accum_steps=0")


def _wrap_steps(
    monkeypatch: pytest.MonkeyPatch, before: Callable[[int, Any], None], after: Callable[[int], None]
) -> None:
    """Run ``before(call, model)`` and ``after(call)`` around each training step, calls counted from 1."""
    real, calls = train.train_step, itertools.count(1)

    def step(model: Any, *args: Any, **kwargs: Any) -> float:
        call = next(calls)
        before(call, model)
        loss = real(model, *args, **kwargs)
        after(call)
        return loss

    monkeypatch.setattr(train, "train_step", step)


def _ctrl_c_after(monkeypatch: pytest.MonkeyPatch, call: int, times: int = 1) -> None:
    """Press Ctrl-C ``times`` times right after training step ``call``."""

    def press(n: int) -> None:
        for _ in range(times if n == call else 0):
            signal.raise_signal(signal.SIGINT)

    _wrap_steps(monkeypatch, lambda n, model: None, press)


def test_ctrl_c_checkpoints_the_step_and_resume_is_exact(
    tmp_path: Path, small_text: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = ["model.dropout=0.2", "train.eval_interval=3", "train.max_iters=8"]
    train.train(tiny_config(tmp_path / "straight", small_text, *common), progress=False)

    handler = signal.getsignal(signal.SIGINT)
    _ctrl_c_after(monkeypatch, 4)  # between the checkpoints of iterations 3 and 6
    cut = tiny_config(tmp_path / "cut", small_text, *common)
    with pytest.raises(train.Interrupted, match="checkpoint written at iteration 4") as info:
        train.train(cut, progress=False)
    assert info.value.iteration == 4
    assert read_model(tmp_path / "cut")[3] == 4
    assert signal.getsignal(signal.SIGINT) is handler  # Ctrl-C means again what it meant before

    monkeypatch.undo()
    assert train.train(cut, resume=True, progress=False)["iters"] == 8
    a = load_file(tmp_path / "straight" / MODEL_FILE)
    b = load_file(tmp_path / "cut" / MODEL_FILE)
    for name in a:
        assert torch.equal(b[name], a[name]), name


def test_ctrl_c_from_the_command(
    tmp_path: Path, small_text: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sets = [*TINY, f"train.out_dir={tmp_path}", f"data.path={small_text}", "train.max_iters=6"]
    flat = [a for s in sets for a in ("--set", s)]
    _ctrl_c_after(monkeypatch, 2)
    assert train.main([*flat, "--no-progress"]) == 130
    err = capsys.readouterr().err
    assert "interrupt: stopping after this step, with a checkpoint" in err
    assert f"interrupted: checkpoint written at iteration 2 in {str(tmp_path)!r}; continue with" in err
    assert (tmp_path / "loss.png").exists()
    assert not (tmp_path / "summary.json").exists()  # the run is not finished

    monkeypatch.undo()
    assert train.main([*flat, "--no-progress", "--resume"]) == 0
    assert json.loads((tmp_path / "summary.json").read_text())["iters"] == 6


def test_a_second_ctrl_c_quits_at_once(tmp_path: Path, small_text: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    handler = signal.getsignal(signal.SIGINT)
    _ctrl_c_after(monkeypatch, 1, times=2)
    with pytest.raises(KeyboardInterrupt):
        train.train(tiny_config(tmp_path, small_text, "train.max_iters=6"), progress=False)
    assert not (tmp_path / MODEL_FILE).exists()
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_loss_that_is_not_finite_stops_and_keeps_the_checkpoint(
    tmp_path: Path, small_text: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def poison(call: int, model: Any) -> None:
        if call == 5:  # iteration 4: after the checkpoint of iteration 3
            with torch.no_grad():
                model.lm_head.weight[0, 0] = math.nan

    _wrap_steps(monkeypatch, poison, lambda n: None)
    sets = [*TINY, f"train.out_dir={tmp_path}", f"data.path={small_text}", "train.max_iters=8", "train.eval_interval=3"]
    assert train.main([a for s in sets for a in ("--set", s)] + ["--no-progress"]) == 1
    err = capsys.readouterr().err
    assert re.search(r"error: the loss of iteration 4 is nan \(learning rate [0-9.e-]+\): training stopped; ", err)
    assert f"the checkpoint in {str(tmp_path)!r} (iteration 3) is kept; lower train.learning_rate\n" in err
    weights, _, _, iteration = read_model(tmp_path)
    assert iteration == 3
    assert all(bool(w.isfinite().all()) for w in weights.values())
    assert (tmp_path / "loss.png").exists()  # the curve up to the step that diverged, beside the checkpoint

    monkeypatch.undo()
    _wrap_steps(monkeypatch, poison, lambda n: None)  # counting from 1 again
    with pytest.raises(
        train.Diverged, match=re.escape("no checkpoint was written; lower train.learning_rate or set train.grad_clip")
    ):
        train.train(
            tiny_config(tmp_path / "noclip", small_text, "train.max_iters=8", "train.grad_clip=0"), progress=False
        )
    assert not (tmp_path / "noclip" / "loss.png").exists()  # no checkpoint of this run for it to go with


def test_summary_plot_and_history(tmp_path: Path, small_text: Path) -> None:
    cfg = tiny_config(tmp_path, small_text, "train.max_iters=6", "train.eval_interval=3")
    summary = train.train(cfg, progress=False)
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == pytest.approx(summary)
    expected_keys = {"iters", "train_loss", "val_loss", "val_ppl", "wall_s", "ms_per_iter", "tokens_per_s", "n_params"}
    assert set(summary) == expected_keys
    assert summary["iters"] == 6
    assert summary["val_ppl"] == pytest.approx(math.exp(summary["val_loss"]))
    assert summary["tokens_per_s"] == pytest.approx(4 * 16 * 1000 / summary["ms_per_iter"])
    model, _, _ = load_model(tmp_path)
    assert summary["n_params"] == model.num_params()
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_commands_train_sample_evaluate(tmp_path: Path, small_text: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "tiny.toml"
    config.write_text(
        "[model]\nn_layer = 1\nn_head = 2\nn_embd = 16\nblock_size = 16\n"
        f'[train]\nbatch_size = 4\nmax_iters = 4\neval_interval = 2\neval_iters = 2\nout_dir = "{tmp_path / "run"}"\n'
        f'[data]\npath = "{small_text}"\n'
    )
    # several assignments may follow one --set, as well as one --set each
    sets = ["--set", "components.LayerNorm=torch", "components.GELU=torch", "--set", "components.Embedding=torch"]
    assert train.main(["--config", str(config), "--no-progress", *sets]) == 0
    out = capsys.readouterr().out
    for name in ("LayerNorm", "GELU", "Embedding"):
        assert re.search(rf"^{name} +nn\.{name} +torch \(override\)$", out, re.MULTILINE), name
    assert re.search(r"^Linear +nn\.Linear +impl$", out, re.MULTILINE)

    args = ["--checkpoint", str(tmp_path / "run"), "--prompt", "ROMEO:", "--max-new-tokens", "20", "--seed", "1"]
    assert sample.main(args) == 0
    text = capsys.readouterr().out
    assert text.startswith("ROMEO:") and len(text) == len("ROMEO:") + 20 + 1  # + print's newline
    assert sample.main(args) == 0
    assert capsys.readouterr().out == text  # seeded
    assert sample.main([*args, "--temperature", "0", "--component", "default=torch"]) == 0
    assert capsys.readouterr().out.startswith("ROMEO:")
    assert sample.main([*args, "--component", "default=torch", "LayerNrom=impl"]) == 2
    assert "LayerNrom" in capsys.readouterr().err
    pieces = list(sample.stream(str(tmp_path / "run"), "ROMEO:", 20, seed=1))
    assert len(pieces) == 20 and all(len(p) == 1 for p in pieces)
    assert "ROMEO:" + "".join(pieces) + "\n" == text

    assert evaluate.main(["--checkpoint", str(tmp_path / "run")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tokens"] == 20_000 - int(0.9 * 20_000) - 1
    assert result["perplexity"] == pytest.approx(math.exp(result["loss"]))

    other = tmp_path / "other.txt"
    other.write_text("To be, or not to be")
    assert evaluate.main(["--checkpoint", str(tmp_path / "run"), "--text", str(other)]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] == 18
    other.write_text("To be @ home")
    assert evaluate.main(["--checkpoint", str(tmp_path / "run"), "--text", str(other)]) == 2
    assert f"{other}: character '@' (U+0040) at position 6" in capsys.readouterr().err
    other.write_text("T")
    assert evaluate.main(["--checkpoint", str(tmp_path / "run"), "--text", str(other)]) == 2
    err = capsys.readouterr().err
    assert f"error: --text {str(other)!r} holds 1 token(s): a perplexity needs at least 2" in err

    assert sample.main([*args[:2], "--prompt", "ROMEO@"]) == 2
    assert "character '@' (U+0040) at position 5" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        sample.main([*args[:2], "--top-k", "-3"])
    assert exit_info.value.code == 2
    assert "argument --top-k: must be >= 0 (0 keeps every token), got -3" in capsys.readouterr().err


def test_sample_ctrl_c_keeps_the_text_so_far(
    tmp_path: Path, small_text: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    train.train(tiny_config(tmp_path, small_text, "train.max_iters=1"), progress=False)
    capsys.readouterr()
    real = sample.stream

    def interrupted(*args: Any, **kwargs: Any) -> Iterator[str]:
        pieces = real(*args, **kwargs)
        yield next(pieces)
        yield next(pieces)
        raise KeyboardInterrupt

    monkeypatch.setattr(sample, "stream", interrupted)
    args = ["--checkpoint", str(tmp_path), "--prompt", "To", "--max-new-tokens", "50", "--seed", "4"]
    assert sample.main(args) == 130
    first_two = "".join(real(str(tmp_path), "To", 2, seed=4))
    assert capsys.readouterr().out == "To" + first_two + "\n"


def test_sample_and_evaluate_piped_into_a_reader_that_stops_end_quietly(tmp_path: Path, small_text: Path) -> None:
    train.train(tiny_config(tmp_path, small_text, "train.max_iters=1"), progress=False)
    command = [sys.executable, "-m", "impl.sample", "--checkpoint", str(tmp_path), "--max-new-tokens", "100000"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:  # as `| head -c 5`
        assert proc.stdout is not None and proc.stderr is not None
        assert len(proc.stdout.read(5)) == 5
        proc.stdout.close()
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=120)
    assert (code, err) == (141, "")  # no BrokenPipeError traceback, and 100000 tokens not drawn into the void

    command = [sys.executable, "-m", "impl.evaluate", "--checkpoint", str(tmp_path)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # `| head -0`: nobody reads the JSON line
        err = proc.stderr.read().decode()
    assert (proc.returncode, err) == (141, "")


def _train_command(out_dir: Path, text: Path, *sets: str) -> list[str]:
    settings = [*TINY, f"train.out_dir={out_dir}", f"data.path={text}", *sets]
    return [sys.executable, "-m", "impl.train", "--no-progress", "--set", *settings]


def test_train_into_a_reader_gone_before_the_start_writes_nothing(tmp_path: Path, small_text: Path) -> None:
    command = _train_command(tmp_path / "out", small_text, "train.max_iters=5")
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # `| head -0`
        err = proc.stderr.read().decode()
    assert (proc.returncode, err) == (
        141,
        "stdout was closed by its reader: training stopped before it began; nothing was written\n",
    )
    assert not (tmp_path / "out" / MODEL_FILE).exists()


def test_train_into_a_reader_that_stops_checkpoints_as_ctrl_c_does(tmp_path: Path, small_text: Path) -> None:
    command = _train_command(tmp_path, small_text, "train.max_iters=60", "train.eval_interval=20")
    # unbuffered or not, each log line is flushed as it is written: `| head` sees it while training goes on
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        while not proc.stdout.readline().startswith(b"iter 0:"):  # as `| head` with the first evaluation's line
            pass
        proc.stdout.close()
        err = proc.stderr.read().decode()
    found = re.fullmatch(
        r"stdout was closed by its reader: training stopped with a checkpoint at iteration (\d+) in '(.+)'; "
        r"continue with --resume\n",
        err,
    )
    assert proc.returncode == 141 and found, err
    # the first log line the pipe refused is an evaluation's (at 20 or 40): its checkpoint, then one step more
    iteration = int(found.group(1))
    assert iteration in (21, 41) and found.group(2) == str(tmp_path)
    assert read_model(tmp_path)[3] == iteration
    assert train.main(["--resume", "--no-progress", "--set", *command[command.index("--set") + 1 :]]) == 0
    assert read_model(tmp_path)[3] == 60


def test_evaluate_scores_every_token_once(tmp_path: Path, small_text: Path) -> None:
    cfg = tiny_config(tmp_path, small_text, "train.max_iters=2")
    train.train(cfg, progress=False)
    model, tokenizer, _ = load_model(tmp_path)
    ids = torch.tensor(tokenizer.encode(load_text(small_text)[:150]))  # 149 targets: 9 windows of 16 and one of 5
    loss, n = evaluate.mean_loss(model, ids, batch_size=4)
    assert n == 149
    with torch.no_grad():
        total = 0.0
        for start in range(0, 149, 16):
            x, y = ids[start : min(start + 16, 149)], ids[start + 1 : start + 17]
            logits, _ = model(x[None])
            total += torch.log_softmax(logits[0], -1).gather(1, y[:, None]).sum().neg().item()
    assert loss == pytest.approx(total / 149, rel=1e-6)


def test_sample_names_a_prompt_outside_the_vocabulary_and_the_default_one(
    tmp_path: Path, small_text: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    one_line = tmp_path / "one_line.txt"
    one_line.write_text(small_text.read_text(encoding="utf-8").replace("\n", " "), encoding="utf-8")
    run = tmp_path / "run"
    train.train(tiny_config(run, one_line, "train.max_iters=1"), progress=False)
    assert sample.main(["--checkpoint", str(run)]) == 2  # the default prompt, a newline, is not in this text
    assert capsys.readouterr().err == (
        f"error: prompt '\\n': character '\\n' (U+000A) at position 0 is not in the vocabulary of "
        f"{len(set(one_line.read_text(encoding='utf-8')))} characters of checkpoint {str(run)!r}; that is the default "
        "prompt: give one with --prompt\n"
    )
    assert sample.main(["--checkpoint", str(run), "--prompt", "First\n", "--max-new-tokens", "3"]) == 2
    assert "that is the default prompt" not in capsys.readouterr().err
    assert sample.main(["--checkpoint", str(run), "--prompt", "First", "--max-new-tokens", "3"]) == 0
    assert capsys.readouterr().out.startswith("First")
    with pytest.raises(sample.PromptError, match=r"prompt 'Fir@t': character '@' \(U\+0040\) at position 3"):
        sample.sample(str(run), "Fir@t", 3)


def test_evaluate_says_to_name_a_text_when_the_checkpoints_own_has_moved_or_changed(
    tmp_path: Path, small_text: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "text.txt"
    text.write_text(small_text.read_text(encoding="utf-8"), encoding="utf-8")
    train.train(tiny_config(tmp_path / "run", text, "train.max_iters=1"), progress=False)
    hint = "; without --text the validation split of the checkpoint's data.path is scored: name the text with --text\n"
    text.write_text("@" + small_text.read_text(encoding="utf-8"), encoding="utf-8")
    assert evaluate.main(["--checkpoint", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == (
        f"error: data.path {str(text)!r}: character '@' (U+0040) at position 0 is not in the vocabulary of "
        f"{len(set(small_text.read_text(encoding='utf-8')))} characters" + hint
    )
    text.unlink()
    assert evaluate.main(["--checkpoint", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == f"error: data.path {str(text)!r} is not a file" + hint
    assert evaluate.main(["--checkpoint", str(tmp_path / "run"), "--text", str(small_text)]) == 0
    assert capsys.readouterr().err == ""


def test_a_changed_training_text_is_reported_by_evaluate_and_resume(
    tmp_path: Path, small_text: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "text.txt"
    original = small_text.read_text(encoding="utf-8")
    text.write_text(original, encoding="utf-8")
    run = tmp_path / "run"
    sets = [*TINY, f"train.out_dir={run}", f"data.path={text}", "train.max_iters=2"]
    assert train.main([a for s in sets for a in ("--set", s)] + ["--no-progress"]) == 0
    assert evaluate.main(["--checkpoint", str(run)]) == 0
    assert capsys.readouterr().err == ""  # the text it was trained on: nothing to say

    text.write_text(original[::-1], encoding="utf-8")  # the same characters, another text
    assert evaluate.main(["--checkpoint", str(run)]) == 0
    assert capsys.readouterr().err == (
        f"warning: data.path {str(text)!r} has changed since training: the validation split scored is not the one "
        "the run held out\n"
    )
    with pytest.warns(checkpoint.TextChangedWarning, match="has changed since training"):
        evaluate.evaluate(str(run))

    resume = ["--set", f"train.out_dir={run}", "--set", "train.max_iters=4", "--resume", "--no-progress"]
    assert train.main(resume) == 0
    assert (
        f"warning: data.path {str(text)!r} has changed since checkpoint {str(run)!r} was written: the run goes on"
        in capsys.readouterr().err
    )
    assert checkpoint.trained_text_sha256(run) == checkpoint.text_sha256(original[::-1])  # the text it now holds
    assert evaluate.main(["--checkpoint", str(run)]) == 0
    assert capsys.readouterr().err == ""


def test_evaluate_names_a_validation_split_too_short_to_score(tmp_path: Path, small_text: Path) -> None:
    text = tmp_path / "text.txt"
    text.write_text(small_text.read_text())
    train.train(tiny_config(tmp_path / "run", text, "train.max_iters=1"), progress=False)
    text.write_text("To be, or")  # the checkpoint's data.path, rewritten: 9 characters, 1 of them in val
    with pytest.warns(checkpoint.TextChangedWarning), pytest.raises(ValueError) as info:  # which says why
        evaluate.evaluate(str(tmp_path / "run"))
    assert str(info.value) == (
        f"the validation split of data.path {str(text)!r} (data.train_fraction 0.9) holds 1 token(s): a perplexity "
        "needs at least 2 (the first is context only)"
    )


def test_command_errors(tmp_path: Path, small_text: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sets = [*TINY, f"train.out_dir={tmp_path}", f"data.path={small_text}", "train.max_iters=2"]
    flat = [a for s in sets for a in ("--set", s)]
    assert train.main([*flat, "--resume", "--no-progress"]) == 2
    assert "no checkpoint file" in capsys.readouterr().err
    assert train.main([*flat, "--no-progress"]) == 0
    assert train.main([*flat, "--resume", "--no-progress", "--set", "model.n_embd=32"]) == 2
    assert "--resume cannot change [model]" in capsys.readouterr().err
    assert train.main([*flat, "--resume", "--no-progress", "--set", "train.max_iters=1"]) == 2
    assert "iteration 2 > train.max_iters 1" in capsys.readouterr().err
    other = tmp_path / "other.txt"
    other.write_text("æ" + small_text.read_text(), encoding="utf-8")
    assert train.main([*flat, "--resume", "--no-progress", "--set", f"data.path={other}"]) == 2
    assert (
        f"error: data.path {str(other)!r}: character 'æ' (U+00E6) at position 0 is not in the vocabulary of "
        in capsys.readouterr().err
    )
    assert train.main([*flat, "--no-progress", "--set", "train.max_iters=3"]) == 2
    assert (
        f"error: train.out_dir {str(tmp_path)!r} holds a checkpoint already: continue it with --resume, or replace "
        "it with --overwrite" in capsys.readouterr().err
    )
    assert train.main([*flat, "--no-progress", "--set", "train.learning_rate=1e-5"]) == 2
    assert (
        "error: train.min_lr (0.0001) is above train.learning_rate (1e-05): the schedule decays from learning_rate "
        "to min_lr" in capsys.readouterr().err
    )
    afile = tmp_path / "afile"
    afile.write_text("")
    assert train.main([*flat, "--no-progress", "--set", f"train.out_dir={afile}"]) == 2
    assert f"error: train.out_dir {str(afile)!r} is a file, not a directory\n" in capsys.readouterr().err
    under = afile / "run"  # a directory that cannot be made: before the first step, not at the first checkpoint
    assert train.main([*flat, "--no-progress", "--set", f"train.out_dir={under}"]) == 2
    out, err = capsys.readouterr()
    assert f"error: train.out_dir {str(under)!r} cannot hold a checkpoint: Not a directory\n" in err
    assert "iter 0" not in out and "parameters;" not in out
    assert train.main([*flat, "--no-progress", "--set", "components.default=no_such_package_xyz"]) == 2
    assert "error: components: No module named 'no_such_package_xyz'" in capsys.readouterr().err
    assert train.main([*flat, "--no-progress", "--overwrite", "--set", "components.AdamW=impl.nn:Nope"]) == 2
    assert "impl has no optim.AdamW: override 'impl.nn:Nope' failed" in capsys.readouterr().err
    assert train.main([*flat, "--no-progress", "--overwrite", "--set", "components.LayerNorm=impl.nn:Linear"]) == 2
    assert re.search(
        r"^error: the model cannot be built from Components\('impl', overrides=\{'LayerNorm': 'impl.nn:Linear'\}\): "
        r"TypeError: Linear.__init__\(\) missing 1 required positional argument: 'out_features' \(at gpt/model.py:"
        r"\d+, in norm_layer\); each component must take the arguments and offer the methods that torch's does$",
        capsys.readouterr().err,
        re.M,
    )
    latin1, short = tmp_path / "latin1.txt", tmp_path / "short.txt"
    latin1.write_bytes("Où est la plume de ma tante ?".encode("latin-1"))
    assert train.main([*flat, "--no-progress", "--set", f"data.path={latin1}"]) == 2
    assert (
        f"error: data.path {str(latin1)!r} is not UTF-8 text: cannot decode byte 0xf9 at offset 1"
        in capsys.readouterr().err
    )
    short.write_text("To be, or not to be, that is the question.")  # 42 characters: 37 train, 5 val
    assert train.main([*flat, "--no-progress", "--set", f"data.path={short}"]) == 2
    assert (
        "error: data.path: the text splits into 37 train and 5 val tokens; each split needs at least "
        "model.block_size + 1 = 17 " in capsys.readouterr().err
    )
    short.write_text("")
    assert train.main([*flat, "--no-progress", "--set", f"data.path={short}"]) == 2
    assert capsys.readouterr().err.endswith(f"error: data.path {str(short)!r} is empty: there is no text to train on\n")


def test_overwrite_starts_afresh_in_a_used_out_dir(
    tmp_path: Path, small_text: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    used, fresh = tmp_path / "used", tmp_path / "fresh"
    train.train(tiny_config(used, small_text, "train.max_iters=3", "train.seed=1"), progress=False)
    with pytest.raises(ConfigError, match="holds a checkpoint already"):
        train.train(tiny_config(used, small_text, "train.max_iters=2", "train.seed=2"), progress=False)
    assert read_model(used)[3] == 3  # the refused run wrote nothing
    assert json.loads((used / "summary.json").read_text())["iters"] == 3

    again = tiny_config(used, small_text, "train.max_iters=2", "train.seed=2")
    _ctrl_c_after(monkeypatch, 1)
    with pytest.raises(train.Interrupted):
        train.train(again, progress=False, overwrite=True)
    assert read_model(used)[3] == 1
    assert not (used / "summary.json").exists()  # the replaced run's, describing another run: gone
    monkeypatch.undo()
    assert train.train(again, progress=False, resume=True)["iters"] == 2
    train.train(tiny_config(fresh, small_text, "train.max_iters=2", "train.seed=2"), progress=False)
    a, b = load_file(used / MODEL_FILE), load_file(fresh / MODEL_FILE)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name

    with pytest.raises(SystemExit) as exc:
        train.main(["--resume", "--overwrite"])
    assert exc.value.code == 2
    assert "argument --overwrite: not allowed with argument --resume" in capsys.readouterr().err


@pytest.mark.slow
def test_tiny_gpt_learns_tiny_shakespeare(tmp_path: Path) -> None:
    """End to end on the bundled text: well below the bigram floor (~2.45 nats) in well under a minute."""
    cfg = load_config(
        sets=[
            "model.n_layer=2",
            "model.n_head=4",
            "model.n_embd=64",
            "model.block_size=32",
            "train.batch_size=32",
            "train.max_iters=400",
            "train.learning_rate=1e-2",
            "train.min_lr=1e-3",
            "train.warmup_iters=20",
            "train.lr_decay_iters=400",
            "train.eval_interval=400",
            "train.eval_iters=10",
            f"train.out_dir={tmp_path}",
        ]
    )
    summary = train.train(cfg, progress=False)
    assert summary["val_loss"] <= 2.2
