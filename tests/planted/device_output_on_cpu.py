"""Linear computes right but hands its output back on the CPU, whatever device its input is on.

Invisible on a CPU run, so it is no ``bug_`` module (those must be caught on every machine); on a CUDA run the
forward check must name the device. tests/test_harness_devices.py runs it where CUDA is present.
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Linear"


class Linear(torch.nn.Linear):
    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return super().forward(input).cpu()


_ns = torch_like(nn={"Linear": Linear})
nn, optim = _ns.nn, _ns.optim
