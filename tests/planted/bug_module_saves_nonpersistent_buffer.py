"""Module.state_dict saves non-persistent buffers too (register_buffer(..., persistent=False)).

Everything else is torch's nn.Module; the semantics check (its scenarios subclass the implementation's
Module as user code does) must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Module"
CATCHES = ("semantics",)


class Module(torch.nn.Module):
    def _save_to_state_dict(self, destination: dict[str, Any], prefix: str, keep_vars: bool) -> None:
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name in self._non_persistent_buffers_set:  # the bug: torch leaves these out
            buf = self._buffers.get(name)
            if buf is not None:
                destination[prefix + name] = buf if keep_vars else buf.detach()


_ns = torch_like(nn={"Module": Module})
nn, optim = _ns.nn, _ns.optim
