"""linear reads its input as if it were contiguous, as a hand-written kernel walking the raw buffer would: right
for contiguous input, silent garbage for a transposed or sliced one.

forward and backward pass with contiguous inputs; strided must catch the wrong values.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "linear"
CATCHES = ("strided",)


def _contiguous_strides(shape: torch.Size) -> tuple[int, ...]:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def linear(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    # the bug: the strides of the input are ignored
    flat = input.as_strided(input.shape, _contiguous_strides(input.shape), input.storage_offset())
    return torch.nn.functional.linear(flat, weight, bias)


_ns = torch_like(functional={"linear": linear})
nn, optim = _ns.nn, _ns.optim
