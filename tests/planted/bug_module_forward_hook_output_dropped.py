"""Module.register_forward_hook throws a hook's return value away instead of letting it replace the output.

Everything else is torch's nn.Module; the semantics check's ``forward_hooks`` scenario must catch it.
"""

from __future__ import annotations

from typing import Any

import torch

from tests.planted.torchlike import torch_like

COMPONENT = "Module"
CATCHES = ("semantics",)


class Module(torch.nn.Module):
    def register_forward_hook(self, hook: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        def dropped(*args: Any) -> None:
            hook(*args)  # the bug: the returned replacement output is lost

        return super().register_forward_hook(dropped, **kwargs)


_ns = torch_like(nn={"Module": Module})
nn, optim = _ns.nn, _ns.optim
