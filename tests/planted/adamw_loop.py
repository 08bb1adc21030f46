"""AdamW's update written out per parameter in float64, with each step of the formula a method of its own.

:class:`LoopAdamW` is correct (``correct_float64_math`` uses it); the ``bug_adamw_*`` modules override one method
each. Hyperparameter checks, parameter groups and the state_dict come from torch's AdamW; the state keeps torch's
layout (``step`` a 0-dim float tensor, ``exp_avg``, ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``), so that
checkpoints move between this and torch.

For each parameter with a gradient, at step t::

    g = -grad if maximize else grad
    x = x * (1 - lr * weight_decay)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g^2
    v_max = max(v_max, v)                                 (amsgrad only; then v_max replaces v below)
    x = x - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

from tests.planted.torchlike import closure_loss

F64 = torch.float64


class LoopAdamW(torch.optim.AdamW):
    """torch's AdamW interface with the update computed here, one parameter at a time, in float64."""

    def decay(self, x: torch.Tensor, g: torch.Tensor, lr: float, weight_decay: float) -> tuple[torch.Tensor, ...]:
        """Decoupled weight decay: shrink the parameter, leave the gradient alone."""
        return x * (1 - lr * weight_decay), g

    def direction(self, grad: torch.Tensor, maximize: bool) -> torch.Tensor:
        return -grad if maximize else grad

    def corrections(self, t: float, beta1: float, beta2: float) -> tuple[float, float]:
        """The bias corrections 1 - beta1^t and 1 - beta2^t."""
        return 1 - beta1**t, 1 - beta2**t

    def second_moment(self, state: dict[str, Any], v: torch.Tensor, amsgrad: bool) -> torch.Tensor:
        """The second moment the update divides by: the running maximum with amsgrad."""
        if not amsgrad:
            return v
        v_max = torch.maximum(state["max_exp_avg_sq"].to(F64), v)
        state["max_exp_avg_sq"].copy_(v_max)
        return v_max

    def denominator(self, v: torch.Tensor, correction2: float, eps: float) -> torch.Tensor:
        return torch.sqrt(v) / math.sqrt(correction2) + eps

    def _init_state(self, p: torch.Tensor, amsgrad: bool) -> dict[str, Any]:
        state = self.state[p]
        if not state:
            state["step"] = torch.tensor(0.0)
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            if amsgrad:
                state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        loss = closure_loss(closure)
        for group in self.param_groups:
            lr, (beta1, beta2), eps = float(group["lr"]), group["betas"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._init_state(p, group["amsgrad"])
                state["step"] += 1
                t = float(state["step"])
                g = self.direction(p.grad.to(F64), group["maximize"])
                x, g = self.decay(p.to(F64), g, lr, group["weight_decay"])
                m = beta1 * state["exp_avg"].to(F64) + (1 - beta1) * g
                v = beta2 * state["exp_avg_sq"].to(F64) + (1 - beta2) * g * g
                correction1, correction2 = self.corrections(t, beta1, beta2)
                denom = self.denominator(self.second_moment(state, v, group["amsgrad"]), correction2, eps)
                p.copy_(x - lr / correction1 * m / denom)
                state["exp_avg"].copy_(m)
                state["exp_avg_sq"].copy_(v)
        return loss
