"""cross_entropy takes log(softmax(x)) instead of log_softmax(x).

Equal in arithmetic; at logits of magnitude 1e4 a probability underflows to 0, its log is -inf, and the loss is
inf or NaN where torch's is finite. The stability check must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "cross_entropy"
CATCHES = ("stability",)

_F = torch.nn.functional


def cross_entropy(input: torch.Tensor, target: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    class_dim = 0 if input.dim() == 1 else 1
    log_probs = torch.log(torch.softmax(input, class_dim))  # the bug: underflows to -inf
    # cross_entropy of log-probabilities is the same loss: their log_softmax is themselves.
    return _F.cross_entropy(log_probs, target, *args, **kwargs)


_ns = torch_like(functional={"cross_entropy": cross_entropy})
nn, optim = _ns.nn, _ns.optim
