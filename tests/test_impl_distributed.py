"""impl.nn.parallel.DistributedDataParallel on two CPU processes (gloo): the ranks train as one process would.

Each test spawns two processes that join a gloo group over localhost; an assertion failing in either fails the test
(torch.multiprocessing re-raises it here with the child's traceback).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from impl.gpt import GPT, Components, GPTConfig
from impl.nn import Linear, Module
from impl.nn.parallel import DistributedDataParallel

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

    # Gradient accumulation: the first micro-batch under no_sync, the second synchronises the sum.
    ddp.module.zero_grad()
    halves = (slice(rank * 4, rank * 4 + 2), slice(rank * 4 + 2, rank * 4 + 4))
    with ddp.no_sync():
        (ddp(x[halves[0]], y[halves[0]])[1] / 2).backward()
    local = _grads(ddp.module)
    assert not all(_same_everywhere(g) for g in local.values())  # not averaged yet
    (ddp(x[halves[1]], y[halves[1]])[1] / 2).backward()
    for name, grad in _grads(ddp.module).items():
        torch.testing.assert_close(grad, expected[name], msg=name)

    # Training: every rank takes the same steps on its own data; the copies stay equal.
    optimizer = torch.optim.AdamW(ddp.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(1 + rank)
    for _ in range(3):
        data = torch.randint(CONFIG.vocab_size, (4, CONFIG.block_size + 1), generator=g)
        optimizer.zero_grad()
        ddp(data[:, :-1], data[:, 1:])[1].backward()
        optimizer.step()
    assert all(_same_everywhere(p.detach()) for p in ddp.parameters())
    assert not torch.equal(ddp.module.lm_head.weight, whole.lm_head.weight)


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
