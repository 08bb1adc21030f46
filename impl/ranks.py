"""This process's place in a data-parallel training run: its rank, the world size, and the few collectives training
needs (a mean loss, a sum of evaluation losses, a stop flag shared by all, every rank's random states for a checkpoint).

``torchrun --nproc_per_node N -m impl.train`` starts N processes and tells each its place through the environment
(``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``). Without those variables (or with a
world of one) this is a single process and every collective is the identity.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.distributed as dist

__all__ = ["Ranks", "join"]


@dataclass(frozen=True)
class Ranks:
    """Rank ``rank`` of ``world`` processes; ``device`` is the one this rank computes on."""

    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    started_here: bool = False  # whether join() initialised the process group (so close() destroys it)

    @property
    def main(self) -> bool:
        """Whether this is rank 0, the one that prints and writes checkpoints."""
        return self.rank == 0

    def share(self, batch_size: int) -> slice:
        """This rank's rows of a batch of ``world * batch_size``: the ``rank``-th run of ``batch_size``."""
        return slice(self.rank * batch_size, (self.rank + 1) * batch_size)

    def sum(self, value: float) -> float:
        """The sum of ``value`` over the ranks (the same float on every rank)."""
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return float(t.item())

    def mean(self, value: float) -> float:
        """The mean of ``value`` over the ranks (the same float on every rank)."""
        return self.sum(value) / self.world

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is set on any rank (so that every rank stops at the same iteration)."""
        if self.world == 1:
            return flag
        t = torch.tensor([int(flag)], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order (picklable values: random states, say)."""
        if self.world == 1:
            return [value]
        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, value)
        return out

    def close(self) -> None:
        if self.started_here and dist.is_initialized():
            dist.destroy_process_group()


def join(device: torch.device) -> Ranks:
    """This process's :class:`Ranks`, joining the process group that torchrun's environment describes.

    On CUDA each rank takes the GPU of its ``LOCAL_RANK`` (``device`` names the kind, ``cuda``) and the group uses
    NCCL; on the CPU it uses gloo. A group already initialised by the caller is used as it is.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Ranks(device=device)
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    started = not dist.is_initialized()
    if started:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Ranks(rank=dist.get_rank(), world=dist.get_world_size(), device=device, started_here=started)
