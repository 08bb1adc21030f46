"""Module.state_dict(keep_vars=True) still detaches: it returns plain tensors instead of the Parameters themselves.

Code that collects parameters through ``state_dict(keep_vars=True)`` (to build an optimizer, say) then trains
nothing. The semantics check's ``state_dict_options`` scenario must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Module"
CATCHES = ("semantics",)


class Module(torch.nn.Module):
    def state_dict(self, *args: Any, keep_vars: bool = False, **kwargs: Any) -> Any:  # type: ignore[override]
        return super().state_dict(*args, keep_vars=False, **kwargs)  # the bug: keep_vars is dropped


_ns = torch_like(nn={"Module": Module})
nn, optim = _ns.nn, _ns.optim
