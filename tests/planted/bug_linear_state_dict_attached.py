"""Linear.state_dict returns the parameters themselves (``keep_vars=True``): tensors that require grad.

A checkpoint made from it holds live parameters; the state_dict check must catch that they are not detached.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Linear"
CATCHES = ("state_dict",)


class Linear(torch.nn.Linear):
    def state_dict(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["keep_vars"] = True
        return super().state_dict(*args, **kwargs)


_ns = torch_like(nn={"Linear": Linear})
nn, optim = _ns.nn, _ns.optim
