"""SequentialLR calls the next schedule's step() at its milestone instead of starting it at epoch 0.

torch starts the schedule that takes over in closed form at its epoch 0 (a cosine starts from ``initial_lr``);
stepping it instead continues from wherever the previous schedule left ``lr``, with the wrong epoch. The
trajectory check must catch it on the warmup-then-cosine examples.
"""

from __future__ import annotations

import bisect

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "SequentialLR"
CATCHES = ("trajectory",)


class SequentialLR(torch.optim.lr_scheduler.SequentialLR):
    def step(self) -> None:
        self.last_epoch += 1
        scheduler = self._schedulers[bisect.bisect_right(self._milestones, self.last_epoch)]
        scheduler.step()  # the bug: no restart at the milestone
        self._last_lr = scheduler.get_last_lr()


_ns = torch_like(lr_scheduler={"SequentialLR": SequentialLR})
nn, optim = _ns.nn, _ns.optim
