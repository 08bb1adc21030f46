"""Linear registers ``bias`` before ``weight``: named_parameters and state_dict come in the wrong order.

Values are right (the state_dict loads by name); the parameters and state_dict checks must catch the order.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Linear"
CATCHES = ("parameters", "state_dict")


class Linear(torch.nn.Linear):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parameters = dict(reversed(self._parameters.items()))


_ns = torch_like(nn={"Linear": Linear})
nn, optim = _ns.nn, _ns.optim
