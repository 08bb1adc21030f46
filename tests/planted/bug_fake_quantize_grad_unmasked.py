"""fake_quantize_per_tensor_affine passes the gradient through everywhere, clamped values included.

The forward pass is torch's; the backward check must catch the gradient of the clamped elements, which is 0.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "fake_quantize_per_tensor_affine"
CATCHES = ("backward",)


def fake_quantize_per_tensor_affine(
    input: torch.Tensor, scale: Any, zero_point: Any, quant_min: int, quant_max: int
) -> torch.Tensor:
    out = torch.fake_quantize_per_tensor_affine(input.detach(), scale, zero_point, quant_min, quant_max)
    return input + (out - input).detach()  # the bug: the straight-through gradient without the clamp's mask


fake_quantize_per_channel_affine = torch.fake_quantize_per_channel_affine  # torch's: only COMPONENT is wrong
_ns = torch_like()
nn, optim = _ns.nn, _ns.optim
