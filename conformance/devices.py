"""Where the checks run: ``--device`` (or ``$NNSPEC_DEVICE``) moves the numerical checks onto an accelerator.

Values are always drawn on the CPU from the example's seed and then moved, so a CUDA run sees the very numbers a
CPU run sees, and a failure on one device replays on the other. The checks that compare numbers (outputs,
gradients, extreme values, dropout masks, cached keys and values, optimizer trajectories, properties) run on the
device; the checks of module bookkeeping (parameters, state_dict, semantics), of init statistics and of error
messages stay on the CPU: what they test does not depend on the device, and an out-of-range index on CUDA is a
device-side assert that ends the process rather than an error the check could read.
"""

from __future__ import annotations

import os

import torch

from nnresolve import usable_device

ON_DEVICE = frozenset(
    {
        "forward",
        "backward",
        "no_grad",
        "strided",
        "half",
        "dtype",
        "stability",
        "random_mask",
        "decoding",
        "trajectory",
        "resume",
        "properties",
    }
)
CPU = torch.device("cpu")


def resolve(name: str | torch.device | None = None) -> torch.device:
    """The device named by ``name`` (default: ``$NNSPEC_DEVICE``, else cpu), checked to be usable here."""
    if name is None:
        name = os.environ.get("NNSPEC_DEVICE") or "cpu"
    device = usable_device(name)
    if device.type == "meta":
        raise ValueError("device 'meta' holds no values to compare; choose cpu, cuda or another real device")
    return device


def for_check(check: str, device: torch.device) -> torch.device:
    """The device that ``check`` runs on when the run asks for ``device``."""
    return device if check in ON_DEVICE else CPU
