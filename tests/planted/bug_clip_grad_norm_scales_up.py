"""clip_grad_norm_ does not clamp its clip coefficient at 1: gradients whose norm is below max_norm are scaled up.

Right whenever the gradients are too large; forward (which compares the returned norm and the gradients
afterwards) must catch a call whose total norm is under max_norm.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "clip_grad_norm_"
CATCHES = ("forward", "dtype")


def clip_grad_norm_(
    parameters: torch.Tensor | Iterable[torch.Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> torch.Tensor:
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = torch.nn.utils.get_total_norm(grads, norm_type, error_if_nonfinite, foreach)  # type: ignore[arg-type]
    coef = max_norm / (total + 1e-6)  # the bug: torch clamps this at 1.0
    with torch.no_grad():
        for g in grads:
            g.mul_(coef.to(g.dtype))
    return total


_ns = torch_like(utils={"clip_grad_norm_": clip_grad_norm_})
nn, optim = _ns.nn, _ns.optim
