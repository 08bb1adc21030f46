"""SGD's update written out per parameter in float64, with the momentum buffer's rules as methods of their own.

:class:`LoopSGD` is correct (``correct_float64_math`` uses it); the ``bug_sgd_*`` modules override one method
each. Hyperparameter checks, parameter groups and the state_dict are torch's SGD's, and the state keeps its layout
(``momentum_buffer`` per parameter in the parameter's dtype, only with momentum).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from tests.planted.torchlike import closure_loss

F64 = torch.float64


class LoopSGD(torch.optim.SGD):
    """torch's SGD interface with the update computed here, one parameter at a time."""

    def first_buffer(self, g: torch.Tensor, dampening: float) -> torch.Tensor:
        """The buffer at a parameter's first step: the gradient itself, undamped."""
        return g.clone()

    def direction(self, g: torch.Tensor, buf: torch.Tensor, momentum: float, nesterov: bool) -> torch.Tensor:
        """What the parameter moves along: the look-ahead g + momentum * buf with Nesterov, else the buffer."""
        return g + momentum * buf if nesterov else buf

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        loss = closure_loss(closure)
        for group in self.param_groups:
            momentum, dampening = group["momentum"], group["dampening"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad.to(F64) if group["maximize"] else p.grad.to(F64)
                x = p.to(F64)
                if group["weight_decay"] != 0:
                    g = g + group["weight_decay"] * x
                if momentum != 0:
                    state = self.state[p]
                    if state.get("momentum_buffer") is None:
                        buf = self.first_buffer(g, dampening)
                    else:
                        buf = momentum * state["momentum_buffer"].to(F64) + (1 - dampening) * g
                    state["momentum_buffer"] = buf.to(p.dtype)
                    g = self.direction(g, buf, momentum, group["nesterov"])
                p.copy_(x - group["lr"] * g)
        return loss
