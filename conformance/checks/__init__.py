"""The generic checks. Each module here registers its checks with :func:`conformance.checks.base.check`."""

from __future__ import annotations

import importlib
import pkgutil

from conformance.checks.base import REGISTRY, Check

_SKIP = {"base", "calls", "lr_scheduler"}


def registry() -> dict[str, Check]:
    """Every registered check by name; importing the modules here registers them."""
    for info in pkgutil.iter_modules(__path__):
        if info.name not in _SKIP:
            importlib.import_module(f"{__name__}.{info.name}")
    return REGISTRY


__all__ = ["Check", "registry"]
