"""LinearLR computes every step's rate from the initial one, so a change made to ``lr`` by hand is lost.

torch's LinearLR is chainable: each step multiplies the current ``lr`` by the ratio of consecutive factors, and
after ``total_iters`` it leaves ``lr`` alone. This one writes ``initial_lr * factor(t)`` every step. Without a
hand change the two agree; the trajectory check's examples that scale ``lr`` by hand must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "LinearLR"
CATCHES = ("trajectory",)


class LinearLR(torch.optim.lr_scheduler.LinearLR):
    def get_lr(self) -> list[float]:  # type: ignore[override]
        if self._is_initial and self.last_epoch != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return self._get_closed_form_lr()  # the bug: not chainable


_ns = torch_like(lr_scheduler={"LinearLR": LinearLR})
nn, optim = _ns.nn, _ns.optim
