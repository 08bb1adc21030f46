"""fake_quantize_per_channel_affine applies the channels' parameters along axis 0, whatever ``axis`` says.

Right for weights quantized per output feature (axis 0); the forward check's other axes must catch it.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "fake_quantize_per_channel_affine"
CATCHES = ("forward",)


def fake_quantize_per_channel_affine(
    input: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor, axis: int, quant_min: int, quant_max: int
) -> torch.Tensor:
    moved = input.movedim(axis, 0).reshape(input.shape)  # the bug: reinterprets the layout instead of the axis
    out = torch.fake_quantize_per_channel_affine(moved, scale, zero_point, 0, quant_min, quant_max)
    return out.reshape(input.shape)


fake_quantize_per_tensor_affine = torch.fake_quantize_per_tensor_affine  # torch's: only COMPONENT is wrong
_ns = torch_like()
nn, optim = _ns.nn, _ns.optim
