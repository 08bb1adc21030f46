"""Train the GPT on a character-level text.

Usage::

    python -m impl.train [--config FILE] [--set section.key=value ...] [--resume | --overwrite]
    torchrun --nproc_per_node N -m impl.train [...]     # N processes, data-parallel (gloo on the CPU, NCCL on GPUs)

The configuration is ``impl/configs/default.toml`` (nanoGPT's CPU "baby GPT" on Tiny Shakespeare), with ``--config``
laid over it and then each ``--set``. Every ``eval_interval`` iterations (and at the end) the loss on both splits is
estimated and a checkpoint is written to ``train.out_dir``; at the end come ``summary.json`` and ``loss.png``.
``--resume`` continues from the checkpoint in ``train.out_dir`` exactly where it stopped: N iterations in one run and
N/2 + resume + N/2 end with identical weights.

Ctrl-C stops the run after the step in progress and writes a checkpoint there, so that ``--resume`` goes on from that
iteration (a second Ctrl-C quits at once, without one); a reader of the log that closes the pipe (``| head``) stops
it the same way, exit status 141. A loss that is not finite stops the run with an error that names the iteration;
the last checkpoint, written before it, is kept.

Under ``torchrun`` every process draws the same N × batch_size windows per micro-batch and computes on its own
batch_size of them; gradients are averaged over the processes, so the run takes the steps of one process with
batch_size N × batch_size (up to rounding). Rank 0 prints and writes the checkpoints; they hold every rank's random
state, so such a run resumes exactly too (with the same N).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from impl import checkpoint
from impl.config import Config, ConfigError, TrainConfig, device_of, load_config
from impl.data import BatchSampler, load_text, train_val_split
from impl.gpt import GPT, Components
from impl.nn.parallel import DistributedDataParallel
from impl.ranks import Ranks, join
from impl.stdout import CLOSED_STATUS, write_line
from impl.tokenizer import CharTokenizer
from nnresolve import MissingComponent

__all__ = ["Diverged", "Interrupted", "ReaderGone", "estimate_loss", "lr_at", "main", "train", "train_step"]


class Interrupted(Exception):
    """Training was stopped by Ctrl-C; a checkpoint at ``iteration`` is in ``out_dir``."""

    def __init__(self, iteration: int, out_dir: Path) -> None:
        super().__init__(
            f"interrupted: checkpoint written at iteration {iteration} in {str(out_dir)!r}; "
            "continue with the same command and --resume"
        )
        self.iteration, self.out_dir = iteration, out_dir


class ReaderGone(Exception):
    """The reader of stdout closed the pipe (``| head``): training stopped as Ctrl-C stops it, with a checkpoint at
    ``iteration`` in ``out_dir``, or before it began (``iteration`` None), with nothing written."""

    def __init__(self, iteration: int | None, out_dir: Path) -> None:
        where = (
            "before it began; nothing was written"
            if iteration is None
            else f"with a checkpoint at iteration {iteration} in {str(out_dir)!r}; continue with --resume"
        )
        super().__init__(f"stdout was closed by its reader: training stopped {where}")
        self.iteration, self.out_dir = iteration, out_dir


class Diverged(Exception):
    """The loss of iteration ``iteration`` is not finite; the checkpoint written before it (if any) is kept."""

    def __init__(
        self, iteration: int, loss: float, lr: float, out_dir: Path, saved_at: int | None, clip: float
    ) -> None:
        kept = (
            f"the checkpoint in {str(out_dir)!r} (iteration {saved_at}) is kept"
            if saved_at is not None
            else "no checkpoint was written"
        )
        advice = "lower train.learning_rate" + ("" if clip > 0 else " or set train.grad_clip")
        super().__init__(
            f"the loss of iteration {iteration} is {loss} (learning rate {lr:.3g}): training stopped; {kept}; {advice}"
        )
        self.iteration, self.loss, self.saved_at = iteration, loss, saved_at


class _StopRequest:
    """While entered, the first SIGINT (Ctrl-C) only sets ``requested``: the loop stops at the end of the step, where
    the model and optimizer are consistent, and checkpoints. A second SIGINT raises ``KeyboardInterrupt`` at once.

    Outside the main thread a handler cannot be installed; Ctrl-C then keeps its usual effect."""

    def __init__(self, announce: bool = True) -> None:
        self.announce = announce  # only rank 0 of a data-parallel run says it is stopping
        self.requested = False
        self.reader_gone = False
        self._installed = False
        self._previous: Any = None

    def __enter__(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            # None: the handler was not set from Python; Python's own is the usual one.
            signal.signal(signal.SIGINT, signal.default_int_handler if self._previous is None else self._previous)

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if not self.announce:
            return
        # tqdm.write clears the progress bar's line first and redraws the bar below
        tqdm.write(
            "interrupt: stopping after this step, with a checkpoint (Ctrl-C again quits without one)", sys.stderr
        )


def lr_at(it: int, cfg: TrainConfig) -> float:
    """Learning rate of iteration ``it``: linear warmup, then cosine decay to ``min_lr`` at ``lr_decay_iters``.

    Example::

        >>> cfg = load_config().train  # 1e-3, warmup 100, decay to 1e-4 at 2000
        >>> [round(lr_at(it, cfg), 6) for it in (0, 99, 100, 1050, 2000)]
        [1e-05, 0.00099, 0.001, 0.00055, 0.0001]
    """
    if it < cfg.warmup_iters:
        return cfg.learning_rate * (it + 1) / (cfg.warmup_iters + 1)
    if it >= cfg.lr_decay_iters:
        return cfg.min_lr
    ratio = (it - cfg.warmup_iters) / (cfg.lr_decay_iters - cfg.warmup_iters)  # 0 -> 1
    return cfg.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (cfg.learning_rate - cfg.min_lr)


def train_step(
    model: GPT | DistributedDataParallel,
    optimizer: Any,
    clip_grad_norm_: Any,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    lr: float,
    grad_clip: float,
) -> float:
    """One optimizer step at learning rate ``lr`` over the micro-batches ``batches`` ((x, y) pairs); returns their
    mean loss.

    Each micro-batch's loss is divided by their number before its backward pass, so the accumulated gradient is
    that of the mean loss over them all: k micro-batches of B examples step as one batch of k·B would (up to
    rounding), in the memory of one. Gradients are clipped to global norm ``grad_clip`` first (0: no clipping).
    """
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.zero_grad()
    batches = list(batches)
    if not batches:
        raise ValueError("train_step needs at least one (x, y) micro-batch")
    total = 0.0
    for i, (x, y) in enumerate(batches):
        # Data-parallel: average the gradients once, with the last micro-batch's backward.
        last = i == len(batches) - 1
        with nullcontext() if last or not hasattr(model, "no_sync") else model.no_sync():
            _, loss = model(x, y)
            (loss / len(batches)).backward()
        total += float(loss.item())
    if grad_clip > 0:
        clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], grad_clip)
    optimizer.step()
    return total / len(batches)


def rng_states(device: torch.device, sampler: torch.Generator, ranks: Ranks | None = None) -> dict[str, torch.Tensor]:
    """What a resumed run needs to draw the same dropout masks and batches: torch's generators and the sampler's.

    In a run of several processes the sampler's state is the same on every rank; torch's generators (the dropout
    masks) are each rank's own: rank r's are stored as ``"torch.rank<r>"`` (and ``"cuda.rank<r>"``), rank 0's
    under the plain names. Every rank must call this (it gathers the states).
    """
    own = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        own["cuda"] = torch.cuda.get_rng_state(device)
    states = {"sampler": sampler.get_state()}
    for rank, theirs in enumerate((ranks or Ranks()).gather(own)):
        states.update({name + _rank_suffix(rank): state for name, state in theirs.items()})
    return states


def _rank_suffix(rank: int) -> str:
    return "" if rank == 0 else f".rank{rank}"


def _restore_rng(
    rng_state: dict[str, torch.Tensor], device: torch.device, sampler: torch.Generator, ranks: Ranks, seed: int
) -> None:
    """Set this rank's generators from a checkpoint's states (see :func:`rng_states`)."""
    saved_world = 1 + sum(name.startswith("torch.rank") for name in rng_state)
    if saved_world != ranks.world and ranks.main:
        print(
            f"warning: the checkpoint was written by a run of {saved_world} process(es) and resumes in {ranks.world}: "
            "each step now draws a batch of another size, so the run is no longer the uninterrupted one's",
            file=sys.stderr,
        )
    suffix = _rank_suffix(ranks.rank)
    if "torch" + suffix in rng_state:
        torch.set_rng_state(rng_state["torch" + suffix])  # dropout masks on the CPU
    else:
        torch.manual_seed(seed + ranks.rank)  # a rank the checkpoint's run did not have
    if device.type == "cuda" and "cuda" + suffix in rng_state:
        torch.cuda.set_rng_state(rng_state["cuda" + suffix], device)  # dropout masks on the GPU
    sampler.set_state(rng_state["sampler"])  # batch offsets


@torch.no_grad()
def estimate_loss(
    model: GPT, splits: dict[str, torch.Tensor], cfg: Config, ranks: Ranks | None = None
) -> dict[str, float]:
    """Mean loss over ``eval_iters`` batches of each split, in eval mode.

    The batches come from a generator of their own, seeded the same at every evaluation, so evaluating neither
    disturbs the training batches (resuming stays exact) nor adds batch-to-batch noise between evaluations. Over
    several ranks each batch holds world × batch_size windows, and each rank scores its own share of them, as in
    training: N ranks estimate exactly what one process with batch N·B would, each at one process's cost.
    """
    ranks = ranks or Ranks()
    batch = cfg.train.batch_size
    share = ranks.share(batch)
    model.eval()
    out = {}
    for name, data in splits.items():
        generator = torch.Generator().manual_seed(0)
        sampler = BatchSampler(data, cfg.model.block_size, batch * ranks.world, generator)
        own = sum(model(x[share], y[share])[1].item() for x, y in (sampler() for _ in range(cfg.train.eval_iters)))
        out[name] = ranks.mean(own) / cfg.train.eval_iters
    model.train()
    return out


def _plot(history: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(range(1, len(history["loss"]) + 1), history["loss"], lw=0.6, alpha=0.4, label="train (batch)")
    if history["eval"]:
        its, tr, va = zip(*history["eval"], strict=True)
        ax.plot(its, tr, "o-", label="train (estimate)")
        ax.plot(its, va, "o-", label="val (estimate)")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cross-entropy loss (nats/char)")
    ax.legend()
    ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    checkpoint.atomic_write(path, buf.getvalue())


def _check_writable(out_dir: Path) -> None:
    """Fail before the first step, not at the first checkpoint after minutes of training, when ``out_dir`` cannot
    hold one: it is a file, or cannot be created or written to."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"train.out_dir {str(out_dir)!r} is a file, not a directory")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as exc:
        raise ConfigError(f"train.out_dir {str(out_dir)!r} cannot hold a checkpoint: {exc.strerror or exc}") from None


def train(cfg: Config, resume: bool = False, progress: bool = True, overwrite: bool = False) -> dict[str, Any]:
    """Train as ``cfg`` says; returns the summary that is also written to ``out_dir/summary.json``.

    Started by ``torchrun --nproc_per_node N``, the N processes train one model data-parallel: each step draws
    N × batch_size windows (the same on every rank), rank r computes on the r-th batch_size of them, and the
    gradients are averaged (:class:`impl.nn.parallel.DistributedDataParallel`), so the run takes the steps that one
    process with batch_size N × batch_size would (up to rounding). Rank 0 prints and writes the checkpoints, which
    hold every rank's random state.

    A fresh run (not ``resume``) refuses an ``out_dir`` that holds a checkpoint unless ``overwrite`` is given: its
    first checkpoint would replace that one. Every checkpoint removes ``summary.json``, which is written again when
    the run ends: the summary beside a checkpoint is always that checkpoint's run, finished.

    The summary holds ``iters`` (steps taken in all), ``train_loss`` / ``val_loss`` (the last estimate),
    ``val_ppl`` (``exp(val_loss)``), ``wall_s`` (this run, start to finish), ``ms_per_iter`` and ``tokens_per_s``
    (over this run's optimizer steps alone; None if it took none) and ``n_params`` (the tied matrix counted once).
    """
    ranks = join(device_of(cfg.train.device, "train.device"))
    try:
        return _train(cfg, resume, progress and ranks.main, overwrite, ranks)
    finally:
        ranks.close()


def _quiet(line: str, write: Any = None) -> bool:
    """write_line for ranks other than 0: they print nothing, and their reader never goes."""
    return True


def _train(cfg: Config, resume: bool, progress: bool, overwrite: bool, ranks: Ranks) -> dict[str, Any]:
    t_start = time.perf_counter()
    say = write_line if ranks.main else _quiet
    tc = cfg.train
    # checked here, not in the config itself, so that a checkpoint written with such settings still loads
    if tc.min_lr > tc.learning_rate:
        raise ConfigError(
            f"train.min_lr ({tc.min_lr!r}) is above train.learning_rate ({tc.learning_rate!r}): the schedule decays "
            "from learning_rate to min_lr, so a lower learning_rate needs a lower min_lr too"
        )
    device = ranks.device
    out_dir = Path(tc.out_dir)
    nn = Components.from_config(cfg.components)
    if not say(nn.table()):
        raise ReaderGone(None, out_dir)

    try:
        text = load_text(cfg.data.path)
    except ValueError as exc:  # not UTF-8
        raise ConfigError(str(exc)) from None
    if not text:  # the bundled text is never empty: only data.path can be
        raise ConfigError(f"data.path {cfg.data.path!r} is empty: there is no text to train on")
    digest = checkpoint.text_sha256(text)
    if resume:
        weights, saved, vocab, start_iter = checkpoint.read_model(out_dir)
        optimizer_state, rng_state, history = checkpoint.read_train_state(out_dir, start_iter)
        tokenizer = CharTokenizer(vocab)
        if Config.from_dict(saved).data.path == cfg.data.path and checkpoint.text_changed(out_dir, text):
            # another data.path is a choice (training on further text); the same one, changed, is likely not
            print(
                f"warning: data.path {cfg.data.path or '(the bundled text)'!r} has changed since checkpoint "
                f"{str(out_dir)!r} was written: the run goes on over the new text, its batches and validation split "
                "no longer those of an uninterrupted run",
                file=sys.stderr,
            )
    else:
        tokenizer, start_iter = CharTokenizer.from_text(text), 0
        history = {"loss": [], "eval": []}
    if start_iter > tc.max_iters:
        raise ConfigError(f"checkpoint {str(out_dir)!r} is at iteration {start_iter} > train.max_iters {tc.max_iters}")
    # The text lives on the device; the sampler's generator stays on the CPU, so every device sees the same batches.
    try:
        ids = tokenizer.encode(text)
    except ValueError as exc:  # only on --resume: a fresh run's vocabulary is its text's
        source = f"data.path {cfg.data.path!r}" if cfg.data.path else "the bundled text"
        raise ConfigError(
            f"{source}: {exc} of checkpoint {str(out_dir)!r}; a resumed run keeps the vocabulary it started with"
        ) from None
    data = torch.tensor(ids, dtype=torch.long).to(device)
    train_data, val_data = train_val_split(data, cfg.data.train_fraction)
    if min(len(train_data), len(val_data)) <= cfg.model.block_size:
        raise ConfigError(
            f"data.path: the text splits into {len(train_data)} train and {len(val_data)} val tokens; each split "
            f"needs at least model.block_size + 1 = {cfg.model.block_size + 1} (a longer text, a smaller "
            "model.block_size or another data.train_fraction)"
        )

    if not resume and not overwrite and (out_dir / checkpoint.MODEL_FILE).exists():
        raise ConfigError(
            f"train.out_dir {str(out_dir)!r} holds a checkpoint already: continue it with --resume, or replace it "
            "with --overwrite (or choose another train.out_dir)"
        )

    _check_writable(out_dir)

    torch.manual_seed(tc.seed)
    # Every rank draws the whole step's windows from one generator, seeded alike, and computes on its share.
    global_batch = tc.batch_size * ranks.world
    sampler = BatchSampler(train_data, cfg.model.block_size, global_batch, torch.Generator().manual_seed(tc.seed))
    share = ranks.share(tc.batch_size)
    gpt = checkpoint.build_model(cfg, tokenizer.vocab_size, nn).to(device)  # initialised on the CPU, then moved
    if ranks.rank > 0:
        torch.manual_seed(tc.seed + ranks.rank)  # dropout masks of its own
    groups = gpt.optim_groups(tc.weight_decay)
    optimizer = nn.AdamW(groups, lr=tc.learning_rate, betas=(tc.beta1, tc.beta2))
    if resume:
        gpt.load_state_dict(weights)
        optimizer.load_state_dict(optimizer_state)
        _restore_rng(rng_state, device, sampler.generator, ranks, tc.seed)
    model = DistributedDataParallel(gpt) if ranks.world > 1 else gpt
    on = f"{device}" if ranks.world == 1 else f"{ranks.world} processes ({device.type}), {tc.batch_size} windows each"
    if not say(
        f"{gpt.num_params():,} parameters; {len(train_data):,} train / {len(val_data):,} val tokens; training on {on}"
    ):
        raise ReaderGone(None, out_dir)

    def save(it: int) -> None:
        states = rng_states(device, sampler.generator, ranks)  # every rank takes part
        if not ranks.main:
            return
        checkpoint.save_checkpoint(
            out_dir,
            iteration=it,
            model_state=gpt.state_dict(),
            config=cfg.to_dict(),
            vocab=tokenizer.chars,
            optimizer_state=optimizer.state_dict(),
            rng_state=states,
            history=history,
            text_sha256=digest,
        )
        # summary.json describes a finished run; beside a checkpoint of one in progress (a run that --overwrite
        # replaces, or one that --resume takes further) it would describe another, so it goes until this one ends
        (out_dir / "summary.json").unlink(missing_ok=True)

    tokens_per_iter = tc.grad_accum_steps * global_batch * cfg.model.block_size
    train_s = 0.0
    it = start_iter
    saved_at = start_iter if resume else None
    losses: dict[str, float] = {}
    bar = tqdm(total=tc.max_iters, initial=it, desc="train", disable=not progress, dynamic_ncols=True)
    with _StopRequest(announce=ranks.main) as stop:
        while True:
            if it % tc.eval_interval == 0 or it == tc.max_iters:
                losses = estimate_loss(gpt, {"train": train_data, "val": val_data}, cfg, ranks)
                history["eval"].append([it, losses["train"], losses["val"]])
                line = f"iter {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}"
                if not say(line, bar.write):
                    stop.requested = stop.reader_gone = True  # the checkpoint below is still written
                if it > start_iter or it == tc.max_iters:
                    save(it)
                    saved_at = it
            if it >= tc.max_iters:
                break
            t0 = time.perf_counter()
            lr = lr_at(it, tc)
            batches = [(x[share], y[share]) for x, y in (sampler() for _ in range(tc.grad_accum_steps))]
            loss = train_step(model, optimizer, nn.clip_grad_norm_, batches, lr=lr, grad_clip=tc.grad_clip)
            loss_f = ranks.mean(loss)  # the whole step's loss, the same on every rank
            train_s += time.perf_counter() - t0
            if not math.isfinite(loss_f):
                bar.close()
                if saved_at is not None and ranks.main:  # beside this run's checkpoint: the curve up to the step
                    _plot(history, out_dir / "loss.png")
                raise Diverged(it, loss_f, lr, out_dir, saved_at, tc.grad_clip)
            history["loss"].append(loss_f)
            it += 1
            bar.update(1)
            if it % 10 == 0 or it == tc.max_iters:
                done = it - start_iter
                bar.set_postfix(loss=f"{loss_f:.4f}", tok_s=f"{done * tokens_per_iter / train_s:,.0f}", refresh=False)
            if ranks.any(stop.requested):  # every rank stops at the same step
                bar.close()
                save(it)
                if ranks.main:
                    _plot(history, out_dir / "loss.png")
                raise ReaderGone(it, out_dir) if stop.reader_gone else Interrupted(it, out_dir)
    bar.close()

    steps = it - start_iter  # timings cover this run's steps only (not evaluation or checkpointing)
    summary = {
        "iters": it,
        "train_loss": losses["train"],
        "val_loss": losses["val"],
        "val_ppl": math.exp(losses["val"]),
        "wall_s": time.perf_counter() - t_start,
        "ms_per_iter": 1000.0 * train_s / steps if steps else None,
        "tokens_per_s": steps * tokens_per_iter / train_s if steps else None,
        "n_params": gpt.num_params(),
    }
    if ranks.main:
        _plot(history, out_dir / "loss.png")
        checkpoint.atomic_write(out_dir / "summary.json", (json.dumps(summary, indent=2) + "\n").encode())
    say(json.dumps(summary, indent=2))  # written to summary.json already: a reader gone by now loses nothing
    return summary


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m impl.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", help="TOML file laid over impl/configs/default.toml")
    p.add_argument(
        "--set",
        action="extend",
        nargs="+",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override keys (repeatable; several may follow one --set)",
    )
    start = p.add_mutually_exclusive_group()
    start.add_argument("--resume", action="store_true", help="continue from the checkpoint in train.out_dir")
    start.add_argument(
        "--overwrite",
        action="store_true",
        help="start afresh even if train.out_dir holds a checkpoint (it is replaced)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def resolve_config(config_path: str | None, sets: list[str], resume: bool) -> Config:
    """The run's configuration; when resuming, the checkpoint's configuration is the base instead of the default."""
    cfg = load_config(config_path, sets)
    if not resume:
        return cfg
    _, saved, _, _ = checkpoint.read_model(cfg.train.out_dir)
    resumed = load_config(config_path, sets, base=saved)
    if resumed.model != Config.from_dict(saved).model:
        raise ConfigError(
            f"--resume cannot change [model]: checkpoint has {Config.from_dict(saved).model}, asked {resumed.model}"
        )
    return resumed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cfg = resolve_config(args.config, args.set, args.resume)
        train(cfg, resume=args.resume, progress=not args.no_progress, overwrite=args.overwrite)
    except Interrupted as exc:
        if os.environ.get("RANK", "0") == "0":  # under torchrun every rank stops; rank 0 says where
            print(exc, file=sys.stderr)
        return 130  # 128 + SIGINT, as a shell reports a process that Ctrl-C ended
    except ReaderGone as exc:
        print(exc, file=sys.stderr)
        return CLOSED_STATUS
    except Diverged as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ConfigError, checkpoint.CheckpointError, FileNotFoundError, MissingComponent) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:  # [components] names a package that is not installed
        print(f"error: components: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
