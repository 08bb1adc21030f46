"""Embedding initializes its weight uniformly in [-1, 1) instead of from a standard normal.

Values after loading torch's weights are right; the init check must see that the fresh weight is not N(0, 1).
"""

from __future__ import annotations

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Embedding"
CATCHES = ("init",)


class Embedding(torch.nn.Embedding):
    def reset_parameters(self) -> None:
        torch.nn.init.uniform_(self.weight, -1.0, 1.0)  # the bug: torch draws N(0, 1)
        self._fill_padding_idx_with_zero()


_ns = torch_like(nn={"Embedding": Embedding})
nn, optim = _ns.nn, _ns.optim
