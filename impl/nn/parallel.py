"""``DistributedDataParallel``: data-parallel training over ``torch.distributed`` processes, gradients averaged.

Every process (rank) holds a full copy of the model and runs it on its own share of the batch. Before the first
step the copies are made equal (rank 0's parameters and buffers are broadcast); after every backward pass each
parameter's gradient is replaced by its mean over the ranks, so every rank's optimizer takes the same step and the
copies stay equal. With equal shares that mean is the gradient of the whole batch's mean loss: N ranks with B
examples each train as one process with N·B would.

Page: spec/pages/distributed.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.distributed as dist

from impl.nn.module import Module

__all__ = ["DistributedDataParallel"]


class DistributedDataParallel(Module):
    r"""Wrap ``module`` so that a backward pass averages its gradients over every process of ``process_group``.

    At construction rank 0's parameters and persistent and non-persistent buffers are copied to every rank. Then,
    during each backward pass, as soon as a parameter's gradient has been accumulated, it is all-reduced and divided
    by the world size: when ``backward()`` returns, ``p.grad`` is the mean of the ranks' gradients on every rank.
    Inside :meth:`no_sync` gradients accumulate locally only; the first backward after it averages the whole
    accumulated gradient (gradient accumulation with one all-reduce per optimizer step).

    Every parameter that requires grad must receive a gradient in every synchronised backward pass, on every rank
    (torch's default, ``find_unused_parameters=False``): the ranks all-reduce the same parameters in the same order.
    A backward that leaves some parameters without a gradient is reported at the next forward.

    Args:
        module: the model; its parameters must be on the devices the process group's backend serves (gloo: CPU).
        process_group: the group to average over. Default: the default group (``dist.init_process_group``).
        broadcast_buffers: copy rank 0's buffers to every rank at each forward in training mode (torch's default),
            so that buffers updated in forward stay equal. Default: ``True``.

    Shape:
        as ``module``'s. The state_dict keys are ``module``'s prefixed with ``"module."``, as torch's DDP gives.

    Example::

        >>> # in each process, after dist.init_process_group("gloo", rank=rank, world_size=world_size):
        >>> model = DistributedDataParallel(GPT(config))       # doctest: +SKIP
        >>> logits, loss = model(x_of_this_rank, y_of_this_rank)  # doctest: +SKIP
        >>> loss.backward()                                    # doctest: +SKIP
        >>> optimizer.step()  # p.grad was the mean over ranks: every rank takes the same step  # doctest: +SKIP
    """

    def __init__(self, module: Any, process_group: Any = None, broadcast_buffers: bool = True) -> None:
        super().__init__()
        if not dist.is_available() or not dist.is_initialized():
            raise RuntimeError(
                "DistributedDataParallel needs torch.distributed initialised first: call "
                "torch.distributed.init_process_group(backend, rank=..., world_size=...) in every process"
            )
        self.module = module
        self.process_group = process_group
        self.broadcast_buffers = broadcast_buffers
        self.world_size = dist.get_world_size(process_group)
        self.rank = dist.get_rank(process_group)
        self._sync = True
        self._params = [p for p in module.parameters() if p.requires_grad]
        self._reduced: set[int] = set()
        with torch.no_grad():
            for t in [*module.parameters(), *module.buffers()]:
                dist.broadcast(t, src=self._global_rank_zero(), group=process_group)
        for p in self._params:
            p.register_post_accumulate_grad_hook(self._average)

    def _global_rank_zero(self) -> int:
        return 0 if self.process_group is None else dist.get_global_rank(self.process_group, 0)

    def _average(self, p: torch.Tensor) -> None:
        if not self._sync or p.grad is None:
            return
        dist.all_reduce(p.grad, group=self.process_group)
        p.grad.div_(self.world_size)
        self._reduced.add(id(p))

    def _check_last_backward(self) -> None:
        if self._reduced and len(self._reduced) != len(self._params):
            named = self.module.named_parameters()
            unused = [name for name, p in named if p.requires_grad and id(p) not in self._reduced]
            self._reduced.clear()
            raise RuntimeError(
                f"the last backward pass gave no gradient to {len(unused)} parameter(s), {unused[:5]}: every "
                "parameter that requires grad must take part in the loss on every rank (or set requires_grad=False)"
            )
        self._reduced.clear()

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        self._check_last_backward()
        if self.broadcast_buffers and self.training and self.world_size > 1:
            with torch.no_grad():
                for b in self.module.buffers():
                    dist.broadcast(b, src=self._global_rank_zero(), group=self.process_group)
        return self.module(*args, **kwargs)

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within this context backward passes accumulate gradients locally, without averaging over the ranks."""
        old, self._sync = self._sync, False
        try:
            yield
        finally:
            self._sync = old
