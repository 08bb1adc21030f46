"""RMSNorm with ``eps=None`` uses 1e-6; torch uses the machine epsilon of the input's dtype.

Right whenever eps is given; forward must catch the default on rows whose mean square is small (stability draws
rows where eps dominates).
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "RMSNorm"
CATCHES = ("forward", "backward", "dtype", "stability")


class RMSNorm(torch.nn.RMSNorm):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        eps = 1e-6 if self.eps is None else self.eps  # the bug: torch's default is torch.finfo(x.dtype).eps
        return torch.nn.functional.rms_norm(x, self.normalized_shape, self.weight, eps)


_ns = torch_like(nn={"RMSNorm": RMSNorm})
nn, optim = _ns.nn, _ns.optim
