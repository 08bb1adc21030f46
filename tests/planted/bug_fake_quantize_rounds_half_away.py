"""fake_quantize_per_tensor_affine rounds halves away from zero (floor(v + 0.5) for v >= 0), not to even.

Random inputs almost never sit on a tie; the forward check's tie examples (integers with scale 2) must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "fake_quantize_per_tensor_affine"
CATCHES = ("forward",)


def fake_quantize_per_tensor_affine(
    input: torch.Tensor, scale: Any, zero_point: Any, quant_min: int, quant_max: int
) -> torch.Tensor:
    s, z = float(scale), int(zero_point)
    v = input * (1.0 / s)
    q = torch.sign(v) * torch.floor(v.abs() + 0.5) + z  # the bug: ties away from zero
    out = (q.clamp(quant_min, quant_max) - z) * s
    inside = torch.where((q >= quant_min) & (q <= quant_max), input, input.detach())
    return inside + (out - inside).detach()  # the values of out, the gradient where nothing was clamped


fake_quantize_per_channel_affine = torch.fake_quantize_per_channel_affine  # torch's: only COMPONENT is wrong
_ns = torch_like()
nn, optim = _ns.nn, _ns.optim
