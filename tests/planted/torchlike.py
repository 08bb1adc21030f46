"""Build a torch-shaped namespace: torch's components, with a few replaced."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType, SimpleNamespace
from typing import Any

import torch
import torch.utils.data


def _copy(module: ModuleType, replace: Mapping[str, Any] | None) -> SimpleNamespace:
    return SimpleNamespace(**{**vars(module), **dict(replace or {})})


def torch_like(
    *,
    nn: Mapping[str, Any] | None = None,
    functional: Mapping[str, Any] | None = None,
    init: Mapping[str, Any] | None = None,
    utils: Mapping[str, Any] | None = None,
    optim: Mapping[str, Any] | None = None,
    lr_scheduler: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
) -> SimpleNamespace:
    """A namespace with ``nn``, ``nn.functional``, ``nn.init``, ``nn.utils``, ``optim``, ``optim.lr_scheduler`` and
    ``utils.data`` laid out like torch's.

    Every attribute is torch's unless one of the mappings replaces it (``nn={"Linear": MyLinear}``), so an
    implementation built with it differs from torch exactly where it says.

    Example::

        >>> def my_gelu(x, approximate="none"):
        ...     return torch.nn.functional.gelu(x, approximate=approximate)
        >>> ns = torch_like(functional={"gelu": my_gelu})
        >>> ns.nn.functional.gelu is my_gelu, ns.nn.Linear is torch.nn.Linear
        (True, True)
    """
    namespace_nn = _copy(torch.nn, nn)
    namespace_nn.functional = _copy(torch.nn.functional, functional)
    namespace_nn.init = _copy(torch.nn.init, init)
    namespace_nn.utils = _copy(torch.nn.utils, utils)
    namespace_optim = _copy(torch.optim, optim)
    namespace_optim.lr_scheduler = _copy(torch.optim.lr_scheduler, lr_scheduler)
    namespace_utils = SimpleNamespace(data=_copy(torch.utils.data, data))
    return SimpleNamespace(nn=namespace_nn, optim=namespace_optim, utils=namespace_utils)


def closure_loss(closure: Any) -> Any:
    """What an optimizer step's ``closure`` returns, evaluated with gradients on (None without one)."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


def planted(components: Mapping[str, Any]) -> Any:
    """An implementation whose components at these paths are the given objects (all else missing)."""
    from nnresolve import Implementation

    root = SimpleNamespace()
    for path, obj in components.items():
        node = root
        *parents, leaf = path.split(".")
        for part in parents:
            if not hasattr(node, part):
                setattr(node, part, SimpleNamespace())
            node = getattr(node, part)
        setattr(node, leaf, obj)
    return Implementation(root)


def affine(x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None) -> torch.Tensor:
    """``x * weight + bias`` for whichever of the two a normalisation layer has."""
    if weight is not None:
        x = x * weight
    if bias is not None:
        x = x + bias
    return x


def kv_cache_with(layer_class: type) -> type:
    """impl's ``KVCache`` with every layer's slot an instance of ``layer_class`` (a subclass of its
    ``LayerKVCache``): a cache that differs from impl's in how one layer updates."""
    import impl.nn.kv_cache

    class KVCache(impl.nn.kv_cache.KVCache):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.layers = [layer_class(self.keys[i], self.values[i]) for i in range(len(self.layers))]

    return KVCache
