"""The executable specification: one entry and one page per component.

``spec.entries()`` lists every :class:`~spec.entry.Entry`; ``spec.get(name)`` finds one by name. Each component's
entry lives in ``spec/components/<page>.py`` and its readable page in ``spec/pages/<page>.md``.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from spec.entry import CALL_CHECKS, CHECKS, Entry, ErrorCase, Example, T, Tolerance

__all__ = ["CALL_CHECKS", "CHECKS", "Entry", "ErrorCase", "Example", "T", "Tolerance", "entries", "get", "page_path"]


@cache
def entries() -> tuple[Entry, ...]:
    """Every spec entry, gathered from the ``ENTRIES`` list of each module in ``spec.components``."""
    import spec.components as package

    found: list[Entry] = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found.extend(getattr(module, "ENTRIES", ()))
    names = [e.name for e in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"spec entries with the same name: {dupes}")
    return tuple(found)


def get(name: str) -> Entry:
    for entry in entries():
        if entry.name == name:
            return entry
    raise KeyError(f"no spec entry named {name!r}; known: {[e.name for e in entries()]}")


def page_path(entry: Entry) -> str:
    """The path of the entry's readable page inside the installed package."""
    from importlib.resources import files

    return str(files("spec") / "pages" / f"{entry.page}.md")
