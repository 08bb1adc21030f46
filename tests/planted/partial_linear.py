"""An implementation that covers little: a Linear without ``bias=False``, and nothing else.

Not a bug: it raises ``NotImplementedError`` for the setting it lacks, which the harness must report as
*unsupported*; every other component (``nn.functional.linear`` included) must be reported *missing*.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import torch


class Linear(torch.nn.Linear):
    def __init__(self, in_features: int, out_features: int, bias: bool = True, **kwargs: Any) -> None:
        if not bias:
            raise NotImplementedError("Linear(bias=False) is not supported")
        super().__init__(in_features, out_features, bias, **kwargs)


nn = SimpleNamespace(Linear=Linear)
