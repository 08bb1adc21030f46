"""Checks of a ``DistributedDataParallel`` wrapper, run in several processes that train one model together.

The rule (spec/pages/distributed.md): with N ranks each given B examples of a batch of N·B, a backward pass must
leave on every rank the gradient of the whole batch's mean loss, which is the mean of the ranks' gradients; so
every rank's optimizer takes the same step and N ranks train as one process with N·B examples would. The checks
spawn ``world_size`` CPU processes in a gloo group and wrap, in each, a small network built from the
implementation's own ``nn.Module`` and ``nn.Linear`` (two layers and a buffer), ``x -> fc2(tanh(fc1(x))) * scale``,
under a mean squared error. The reference is that network in one process over the whole batch:

* ``no_process_group``: constructing the wrapper before ``init_process_group`` raises an error that says so, not a
  wrapper that silently trains alone;
* ``broadcast``: ranks that built the network from different seeds hold rank 0's parameters and buffers, bitwise,
  once it is wrapped;
* ``state_dict``: the wrapped network is ``.module`` and the state_dict keys are its own prefixed with
  ``"module."``, as torch's DDP gives them;
* ``gradient_mean``: after one backward over each rank's share, every gradient equals the whole batch's (within
  ``torch.testing.assert_close``'s float32 tolerance), on every rank;
* ``no_sync``: a backward inside ``no_sync()`` leaves the rank's own gradient, not averaged; the next backward
  outside it averages the accumulated sum: the whole batch's gradient again;
* ``buffers``: in training mode a forward first copies rank 0's buffers to every rank (``broadcast_buffers``), and
  the output is computed with them;
* ``training``: three SGD steps, each rank on its own data, end with the parameters of one process that took
  the same steps over all the ranks' data together, and bitwise equal on every rank;
* ``unused_parameters``: a parameter that requires grad but takes no part in the loss is an error, in that
  backward or at the next forward, rather than ranks that silently reduce different tensors.

Use :func:`check_distributed` from Python, or ``python -m conformance.distributed MODULE`` from the shell. A rank
stuck in a collective (a wrapper that reduces on some ranks only) fails the check when the group's ``timeout``
runs out; the checks after it are then not run.
"""

from __future__ import annotations

import gc
import math
import queue
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from conformance.compare import compare
from conformance.model_checks import ModelCheckFailed, ModelCheckResult, ModelCheckUnsupported
from nnresolve import Implementation, describe_exception
from spec.tolerances import DEFAULTS

__all__ = ["DDP_PATH", "DISTRIBUTED_CHECKS", "check_distributed"]

DDP_PATH = "nn.parallel.DistributedDataParallel"
IN, HIDDEN, OUT = 6, 8, 3
SHARE = 4  # examples per rank; the whole batch is world_size * SHARE
RTOL, ATOL = DEFAULTS["float32"]


@dataclass
class _Rank:
    """What a check sees in one process: its rank, and the implementation's pieces."""

    rank: int
    world: int
    module: Any  # the implementation's nn.Module
    linear: Any  # its nn.Linear
    ddp: Any  # its nn.parallel.DistributedDataParallel

    def net(self, seed: int = 0, unused: bool = False) -> Any:
        """The network of these checks, built from the implementation's Module and Linear at ``seed``."""
        torch.manual_seed(seed)
        return _net_class(self.module, self.linear)(unused)

    def share(self, rows: slice | None = None) -> slice:
        """This rank's rows of the whole batch (``rows`` narrows them, relative to the share)."""
        start = self.rank * SHARE
        if rows is None:
            return slice(start, start + SHARE)
        return slice(start + (rows.start or 0), start + (rows.stop if rows.stop is not None else SHARE))


def _net_class(module: Any, linear: Any) -> Any:
    class Net(module):  # type: ignore[misc, valid-type]
        def __init__(self, unused: bool) -> None:
            super().__init__()
            self.fc1 = linear(IN, HIDDEN)
            self.fc2 = linear(HIDDEN, OUT)
            if unused:
                self.unused = linear(IN, OUT)
            self.register_buffer("scale", torch.ones(OUT))

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, IN) -> (B, OUT)
            return self.fc2(torch.tanh(self.fc1(x))) * self.scale

    return Net


def _batch(world: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(world * SHARE, IN, generator=g), torch.randn(world * SHARE, OUT, generator=g)


def _loss(model: Any, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ((model(x) - target) ** 2).mean()


def _whole_batch_grads(r: _Rank, rows: slice = slice(None), scale: float = 1.0) -> dict[str, torch.Tensor]:
    """The gradients of one process over ``rows`` of the whole batch (all of it by default)."""
    reference = r.net()
    x, t = _batch(r.world)
    (_loss(reference, x[rows], t[rows]) * scale).backward()
    return {name: p.grad for name, p in reference.named_parameters()}


def _expect(actual: Any, expected: torch.Tensor, what: str, exact: bool = False) -> None:
    rtol, atol = (0.0, 0.0) if exact else (RTOL, ATOL)
    mismatch = compare(actual, expected, rtol=rtol, atol=atol, what=what)
    if mismatch is not None:
        raise ModelCheckFailed(str(mismatch))


def _expect_grads(model: Any, expected: Mapping[str, torch.Tensor], when: str) -> None:
    for name, p in model.named_parameters():
        if p.grad is None:
            raise ModelCheckFailed(f"{name}.grad is None {when}")
        _expect(p.grad, expected[name], f"{name}.grad {when}")


def _gathered(t: torch.Tensor, world: int) -> list[torch.Tensor]:
    out = [torch.empty_like(t) for _ in range(world)]
    dist.all_gather(out, t.detach().contiguous())
    return out


def check_no_process_group(r: _Rank) -> None:
    try:
        r.ddp(r.net())
    except Exception as exc:  # any clear error will do; torch's is a ValueError, impl's a RuntimeError
        text = str(exc).lower()
        if "process group" not in text and "init_process_group" not in text:
            raise ModelCheckFailed(
                f"without a process group the constructor raised {describe_exception(exc)}, which does not say "
                "that init_process_group must be called first"
            ) from None
        return
    raise ModelCheckFailed(
        "the constructor returned a wrapper although no process group exists (init_process_group was not called): "
        "it would train one process alone"
    )


def check_broadcast(r: _Rank) -> None:
    model = r.net(seed=r.rank)
    with torch.no_grad():
        model.scale.fill_(r.rank + 1)
    r.ddp(model)
    expected = r.net(seed=0)  # rank 0's network: scale is all ones
    states = dict(expected.named_parameters()) | dict(expected.named_buffers())
    actual = dict(model.named_parameters()) | dict(model.named_buffers())
    for name, t in states.items():
        _expect(actual.get(name), t.detach(), f"{name} after wrapping, on rank {r.rank} (rank 0's expected)", True)


def check_state_dict(r: _Rank) -> None:
    model = r.net()
    wrapped = r.ddp(model)
    if id(getattr(wrapped, "module", None)) != id(model):
        raise ModelCheckFailed("the wrapper's .module is not the module it was given")
    keys, expected = list(wrapped.state_dict()), [f"module.{k}" for k in model.state_dict()]
    if keys != expected:
        raise ModelCheckFailed(f"state_dict keys {keys}, expected the module's prefixed with 'module.': {expected}")


def check_gradient_mean(r: _Rank) -> None:
    model = r.net()
    wrapped = r.ddp(model)
    x, t = _batch(r.world)
    _loss(wrapped, x[r.share()], t[r.share()]).backward()
    _expect_grads(model, _whole_batch_grads(r), f"after one backward over rank {r.rank}'s share")


def check_no_sync(r: _Rank) -> None:
    model = r.net()
    wrapped = r.ddp(model)
    if not hasattr(wrapped, "no_sync"):
        raise ModelCheckUnsupported("the wrapper has no no_sync()")
    x, t = _batch(r.world)
    first, second = r.share(slice(0, SHARE // 2)), r.share(slice(SHARE // 2, SHARE))
    with wrapped.no_sync():
        (_loss(wrapped, x[first], t[first]) / 2).backward()
    own = _whole_batch_grads(r, first, 1 / 2)
    _expect_grads(model, own, f"after a backward inside no_sync() on rank {r.rank} (its own, not averaged)")
    (_loss(wrapped, x[second], t[second]) / 2).backward()
    _expect_grads(model, _whole_batch_grads(r), "after a second micro-batch outside no_sync() (the mean of both)")


def check_buffers(r: _Rank) -> None:
    model = r.net()
    wrapped = r.ddp(model)
    wrapped.train()
    with torch.no_grad():
        model.scale.fill_(r.rank + 1)  # each rank's buffer has drifted; rank 0's is ones
    x, _ = _batch(r.world)
    with torch.no_grad():
        out = wrapped(x[r.share()])
        expected = r.net()(x[r.share()])
    _expect(model.scale, torch.ones(OUT), f"buffer scale after a training forward on rank {r.rank}", exact=True)
    _expect(out, expected, f"output of a training forward on rank {r.rank} (computed with rank 0's buffers)")


def _sgd_step(model: Any, momenta: dict[str, torch.Tensor], lr: float = 0.1, momentum: float = 0.9) -> None:
    """SGD with momentum, by hand: torch.optim's first step imports torch._dynamo, a second per process."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            buf = momenta[name] = momenta[name].mul_(momentum).add_(p.grad) if name in momenta else p.grad.clone()
            p.sub_(lr * buf)
            p.grad = None


def check_training(r: _Rank, steps: int = 3) -> None:
    model = r.net()
    wrapped = r.ddp(model)
    alone = r.net()
    # SGD, not Adam: Adam's step hardly changes when every gradient is scaled, SGD's is proportional to it
    momenta: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]] = ({}, {})
    for step in range(steps):
        x, t = _batch(r.world, seed=1 + step)
        _loss(wrapped, x[r.share()], t[r.share()]).backward()
        _loss(alone, x, t).backward()
        _sgd_step(model, momenta[0])
        _sgd_step(alone, momenta[1])
    expected = dict(alone.named_parameters())
    for name, p in model.named_parameters():
        _expect(p.detach(), expected[name].detach(), f"{name} after {steps} SGD steps (one process's)")
        for other, q in enumerate(_gathered(p, r.world)):
            _expect(q, p.detach(), f"{name} after {steps} SGD steps on rank {other} (rank {r.rank}'s)", True)


def check_unused_parameters(r: _Rank) -> None:
    model = r.net(unused=True)
    wrapped = r.ddp(model)
    x, t = _batch(r.world)
    try:
        _loss(wrapped, x[r.share()], t[r.share()]).backward()
        wrapped(x[r.share()])
    except Exception:  # torch's and impl's: RuntimeError at the next forward
        return
    raise ModelCheckFailed(
        "unused.weight and unused.bias require grad but took no part in the loss, and neither the backward pass "
        "nor the next forward raised: ranks that leave different parameters without a gradient would then "
        "reduce different tensors"
    )


DISTRIBUTED_CHECKS: dict[str, Callable[[_Rank], None]] = {
    "no_process_group": check_no_process_group,
    "broadcast": check_broadcast,
    "state_dict": check_state_dict,
    "gradient_mean": check_gradient_mean,
    "no_sync": check_no_sync,
    "buffers": check_buffers,
    "training": check_training,
    "unused_parameters": check_unused_parameters,
}


def _outcome(check: Callable[[_Rank], None], r: _Rank) -> tuple[str, str]:
    try:
        check(r)
    except ModelCheckFailed as exc:
        return "failed", str(exc)
    except ModelCheckUnsupported as exc:
        return "unsupported", str(exc)
    except Exception as exc:  # the wrapper under test broke: its own error, in a line
        return "failed", f"raised {describe_exception(exc)}"
    finally:
        gc.collect()  # a torch DDP reducer must go before its process group does
    return "passed", ""


def _rank_main(
    rank: int,
    world: int,
    port: int,
    implementation: str,
    overrides: dict[str, str],
    checks: list[str],
    timeout: float,
    results: Any,
) -> None:
    torch.set_num_threads(1)
    impl = Implementation(implementation, overrides)
    r = _Rank(rank, world, impl.get("nn.Module"), impl.get("nn.Linear"), impl.get(DDP_PATH))
    if "no_process_group" in checks:  # before there is one
        results.put((rank, "no_process_group", *_outcome(check_no_process_group, r)))
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=timedelta(seconds=timeout),
    )
    try:
        for name in checks:
            if name != "no_process_group":
                results.put((rank, name, *_outcome(DISTRIBUTED_CHECKS[name], r)))
            try:
                dist.barrier()  # a rank still stuck in the check's collectives times out here
            except Exception as exc:  # the group is broken: the checks after this one cannot run
                results.put((rank, None, "stopped", f"the ranks lost step in {name} ({describe_exception(exc)})"))
                return
        results.put((rank, None, "done", ""))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _processes(target: Callable[..., None], world: int, args: tuple[Any, ...]) -> Iterator[tuple[list[Any], Any]]:
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=target, args=(rank, world, *args, results), daemon=True) for rank in range(world)]
    for p in procs:
        p.start()
    try:
        yield procs, results
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()


def _merge(name: str, by_rank: dict[int, tuple[str, str]], world: int, ended: dict[int, str]) -> ModelCheckResult:
    """One result from every rank's: failed where any rank failed (naming it), unsupported where any was."""
    for status in ("failed", "unsupported"):
        ranks = sorted(rank for rank, (s, _) in by_rank.items() if s == status)
        if ranks:
            messages = {by_rank[rank][1] for rank in ranks}
            who = "every rank" if len(ranks) == world and len(messages) == 1 else f"rank {ranks[0]}"
            return ModelCheckResult(name, status, f"{who}: {by_rank[ranks[0]][1]}")  # type: ignore[arg-type]
    if len(by_rank) < world:
        rank = min(set(range(world)) - set(by_rank))
        return ModelCheckResult(name, "failed", f"not run on rank {rank}: {ended.get(rank) or 'no result came'}")
    return ModelCheckResult(name, "passed")


def check_distributed(
    implementation: str,
    overrides: Mapping[str, str] | None = None,
    world_size: int = 2,
    checks: list[str] | None = None,
    timeout: float = 30.0,
) -> list[ModelCheckResult]:
    """Run the distributed checks of ``implementation``'s ``nn.parallel.DistributedDataParallel``.

    Args:
        implementation: importable module of the implementation, laid out like torch (``"torch"``, ``"mylib"``);
            each process imports it afresh, so it is named, not passed.
        overrides: component -> implementation or ``"module:attr"``, as the map file of ``python -m conformance``
            (``DistributedDataParallel = "mylib.ddp:DDP"``).
        world_size: the number of processes (at least 2).
        checks: names from :data:`DISTRIBUTED_CHECKS`; default all, in that order.
        timeout: seconds a rank may wait in one collective before its check fails.

    Returns:
        one result per check. Raises ``MissingComponent`` when the implementation lacks the wrapper, ``Module`` or
        ``Linear``, and ``ValueError`` for an unknown check or a world size below 2.

    Example::

        >>> [str(r) for r in check_distributed("impl", checks=["gradient_mean"])]
        ['passed      gradient_mean']
    """
    names = list(checks or DISTRIBUTED_CHECKS)
    unknown = sorted(set(names) - set(DISTRIBUTED_CHECKS))
    if unknown:
        raise ValueError(f"unknown distributed checks {unknown}; known: {list(DISTRIBUTED_CHECKS)}")
    if world_size < 2:
        raise ValueError(f"world_size must be at least 2 to check averaging over ranks, got {world_size}")
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
    impl = Implementation(implementation, overrides)
    for path in ("nn.Module", "nn.Linear", DDP_PATH):
        impl.get(path)  # MissingComponent here, in a line, rather than in every process
    outcomes: dict[str, dict[int, tuple[str, str]]] = {name: {} for name in names}
    ended: dict[int, str] = {}  # rank -> why it sends no more results
    budget = 120 + timeout * (len(names) + 1)
    deadline = time.monotonic() + budget
    args = (_free_port(), implementation, dict(overrides or {}), names, timeout)
    with _processes(_rank_main, world_size, args) as (procs, results):
        while len(ended) < world_size:
            try:
                rank, name, status, message = results.get(timeout=0.2)
            except queue.Empty:
                for rank, p in enumerate(procs):
                    if rank not in ended and p.exitcode is not None:
                        ended[rank] = f"its process exited with status {p.exitcode}"
                if time.monotonic() > deadline:
                    for rank in set(range(world_size)) - set(ended):
                        ended[rank] = f"the run took longer than {budget:.0f} s and was stopped"
                continue
            if name is None:
                ended[rank] = message
            else:
                outcomes[name][rank] = (status, message)
    return [_merge(name, outcomes[name], world_size, ended) for name in names]
