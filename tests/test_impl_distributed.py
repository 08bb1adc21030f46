"""impl.nn.parallel.DistributedDataParallel on two CPU processes (gloo): the ranks train as one process would.

The wrapper's own rules (broadcast, averaging, no_sync, buffers, training steps) are checked by the harness,
``python -m conformance.distributed impl`` (tests/test_harness_distributed.py); these tests add a whole GPT against
torch's DDP, impl's message for an unused parameter, and data-parallel ``impl.train``.

Each test spawns two processes that join a gloo group over localhost; an assertion failing in either fails the test
(torch.multiprocessing re-raises it here with the child's traceback).
"""

from __future__ import annotations

import functools
import gc
import json
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file

from impl import checkpoint, train
from impl.checkpoint import MODEL_FILE
from impl.gpt import GPT, Components, GPTConfig
from impl.nn import Linear, Module
from impl.nn.parallel import DistributedDataParallel
from tests.test_train import tiny_config

WORLD = 2
CONFIG = GPTConfig(block_size=8, vocab_size=17, n_layer=1, n_head=2, n_embd=16, dropout=0.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(rank: int, port: int, body: Callable[[int], None]) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        body(rank)
        # torch's DDP must be gone before its process group: its reducer aborts the process otherwise.
        gc.collect()
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _spawn(body: Callable[[int], None]) -> None:
    mp.spawn(_worker, args=(_free_port(), body), nprocs=WORLD)


def _gpt(seed: int, components: str = "impl") -> Any:
    torch.manual_seed(seed)
    return GPT(CONFIG, Components.from_config({"default": components}))


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    data = torch.randint(CONFIG.vocab_size, (WORLD * 4, CONFIG.block_size + 1), generator=g)  # (2B, T+1)
    return data[:, :-1], data[:, 1:]


def _grads(model: Any) -> dict[str, torch.Tensor]:
    return {name: p.grad.clone() for name, p in model.named_parameters()}


def _same_everywhere(t: torch.Tensor) -> bool:
    gathered = [torch.empty_like(t) for _ in range(WORLD)]
    dist.all_gather(gathered, t.contiguous())
    return all(torch.equal(g, gathered[0]) for g in gathered)


def _averages_like_one_process(rank: int) -> None:
    x, y = _batch()
    whole = _gpt(seed=0)  # rank 0's initial weights, on the whole batch, in one process
    whole(x, y)[1].backward()
    expected = _grads(whole)

    ddp = DistributedDataParallel(_gpt(seed=rank))  # different inits: rank 0's (seed 0) wins
    assert all(_same_everywhere(t) for t in ddp.state_dict().values())
    for name, t in ddp.module.state_dict().items():
        torch.testing.assert_close(t, whole.state_dict()[name], msg=name)
    assert list(ddp.state_dict()) == [f"module.{k}" for k in whole.state_dict()]  # torch's DDP layout
    share = slice(rank * 4, (rank + 1) * 4)
    ddp(x[share], y[share])[1].backward()
    for name, grad in _grads(ddp.module).items():
        torch.testing.assert_close(grad, expected[name], msg=name)

    # torch's DistributedDataParallel, over a GPT of torch's components with the same weights, agrees.
    reference = _gpt(seed=0, components="torch")
    reference.load_state_dict(whole.state_dict())
    torch_ddp = torch.nn.parallel.DistributedDataParallel(reference)
    torch_ddp(x[share], y[share])[1].backward()
    for name, grad in _grads(reference).items():
        torch.testing.assert_close(_grads(ddp.module)[name], grad, msg=name)


class _TwoHeads(Module):
    def __init__(self) -> None:
        super().__init__()
        self.used = Linear(3, 2)
        self.unused = Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.used(x)


def _reports_unused_parameters(rank: int) -> None:
    ddp = DistributedDataParallel(_TwoHeads())
    ddp(torch.ones(1, 3)).sum().backward()
    with pytest.raises(RuntimeError, match=r"gave no gradient to 2 parameter\(s\), \['unused.weight', 'unused.bias'\]"):
        ddp(torch.ones(1, 3))
    ddp.module.unused.requires_grad_(False)
    fine = DistributedDataParallel(ddp.module)
    fine(torch.ones(1, 3)).sum().backward()
    fine(torch.ones(1, 3))  # every parameter requiring grad took part: no error


def test_ranks_average_gradients_as_one_process_and_torchs_ddp_do() -> None:
    _spawn(_averages_like_one_process)


def test_a_parameter_without_a_gradient_is_reported_at_the_next_forward() -> None:
    _spawn(_reports_unused_parameters)


def test_without_a_process_group_the_error_says_how_to_start_one() -> None:
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedDataParallel(Linear(2, 2))


def _train_as_rank(rank: int, out_dir: Path, text: Path, sets: tuple[str, ...], resume: bool = False) -> None:
    os.environ.update(WORLD_SIZE=str(WORLD), RANK=str(rank), LOCAL_RANK=str(rank))  # as torchrun sets them
    train.train(tiny_config(out_dir, text, *sets), resume=resume, progress=False)


def _train_in_two(out_dir: Path, text: Path, *sets: str, resume: bool = False) -> None:
    _spawn(functools.partial(_train_as_rank, out_dir=out_dir, text=text, sets=sets, resume=resume))


def test_two_processes_take_the_steps_of_one_with_twice_the_batch(tmp_path: Path, small_text: Path) -> None:
    sets = ("train.max_iters=4", "train.grad_accum_steps=2")
    _train_in_two(tmp_path / "two", small_text, *sets)
    train.train(tiny_config(tmp_path / "one", small_text, *sets, "train.batch_size=8"), progress=False)
    a, b = load_file(tmp_path / "one" / MODEL_FILE), load_file(tmp_path / "two" / MODEL_FILE)
    for name in a:
        torch.testing.assert_close(b[name], a[name], msg=name)
    history = [checkpoint.read_train_state(tmp_path / d, 4)[2] for d in ("one", "two")]
    assert history[1]["loss"] == pytest.approx(history[0]["loss"], rel=1e-5)  # the whole step's, both shares
    # evaluation split between the ranks (each scores every other batch) gives one process's estimate
    evals = [[v for row in h["eval"] for v in row] for h in history]
    assert len(evals[1]) == 6 and evals[1] == pytest.approx(evals[0], rel=1e-5)
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert summary["tokens_per_s"] == pytest.approx(2 * 2 * 4 * 16 * 1000 / summary["ms_per_iter"])


def test_a_two_process_run_resumes_exactly_with_dropout(
    tmp_path: Path, small_text: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ("model.dropout=0.2", "train.eval_interval=2")
    _train_in_two(tmp_path / "straight", small_text, *common, "train.max_iters=4")
    _train_in_two(tmp_path / "split", small_text, *common, "train.max_iters=2")
    _train_in_two(tmp_path / "split", small_text, *common, "train.max_iters=4", resume=True)
    a, b = load_file(tmp_path / "straight" / MODEL_FILE), load_file(tmp_path / "split" / MODEL_FILE)
    assert all(torch.equal(b[name], a[name]) for name in a)
    rng = checkpoint.read_train_state(tmp_path / "split", 4)[1]
    assert sorted(rng) == ["sampler", "torch", "torch.rank1"]
    assert not torch.equal(rng["torch"], rng["torch.rank1"])  # each rank's own dropout masks

    # Resumed in one process it goes on, saying the batch is no longer the same.
    train.train(tiny_config(tmp_path / "split", small_text, *common, "train.max_iters=6"), resume=True, progress=False)
    assert "written by a run of 2 process(es) and resumes in 1" in capsys.readouterr().err
    assert checkpoint.read_model(tmp_path / "split")[3] == 6
