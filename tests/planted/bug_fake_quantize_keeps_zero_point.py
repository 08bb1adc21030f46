"""fake_quantize_per_tensor_affine forgets to subtract the zero point on the way back: y = clamp(q) * s.

Right for a zero point of 0 (symmetric int8); the forward check's other zero points must catch it.
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
    z = int(zero_point)
    shifted = torch.fake_quantize_per_tensor_affine(input, scale, zero_point, quant_min, quant_max)
    return shifted + z * float(scale)  # the bug: (clamp(q) - z) * s + z * s


fake_quantize_per_channel_affine = torch.fake_quantize_per_channel_affine  # torch's: only COMPONENT is wrong
_ns = torch_like()
nn, optim = _ns.nn, _ns.optim
