"""Linear defaults to ``bias=False``; torch's default is ``bias=True``.

Every call that passes ``bias`` is right; a Linear built from its required arguments only lacks the bias. The
parameters and state_dict checks must catch that (given examples that leave ``bias`` out).
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Linear"
CATCHES = ("parameters", "state_dict", "forward", "init")


class Linear(torch.nn.Linear):
    def __init__(self, in_features: int, out_features: int, bias: bool = False, **kwargs: Any) -> None:
        super().__init__(in_features, out_features, bias, **kwargs)


_ns = torch_like(nn={"Linear": Linear})
nn, optim = _ns.nn, _ns.optim
