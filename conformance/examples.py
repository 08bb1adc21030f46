"""The examples on the spec pages, run against an implementation: in them, ``nn``, ``optim`` and ``data`` (its
``utils.data``) are its own.

A page shows its component in use in a fenced ``python`` block of doctest lines (``>>>``, then the output). The
output is torch's, so the same lines run with ``nn.Linear`` looked up in another implementation say, to the
character, where it departs from what the page promises. Lookups go through :class:`nnresolve.Implementation`,
so map-file overrides apply; a component the implementation lacks makes the page *missing*, not failed.
"""

from __future__ import annotations

import contextlib
import doctest
import re
import tempfile
import types
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Literal

import torch

from nnresolve import Implementation, MissingComponent
from spec.entry import Entry

__all__ = [
    "ExamplesOutcome",
    "examples_pass",
    "page_blocks",
    "pages_of",
    "pages_with_examples",
    "run_examples",
    "summary_line",
]

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _page_names() -> list[str]:
    return sorted(p.name.removesuffix(".md") for p in (files("spec") / "pages").iterdir() if p.name.endswith(".md"))


def _page_text(page: str) -> str:
    path = files("spec") / "pages" / f"{page}.md"
    if not path.is_file():
        raise ValueError(f"no spec page named {page!r}; the pages: {_page_names()}")
    return path.read_text(encoding="utf-8")


def page_blocks(page: str) -> list[tuple[int, str]]:
    """The doctest blocks of ``spec/pages/<page>.md``, each with the line its first line is on."""
    text = _page_text(page)
    return [(text.count("\n", 0, m.start(1)), m.group(1)) for m in _BLOCK.finditer(text) if ">>>" in m.group(1)]


def pages_with_examples() -> list[str]:
    """The pages that show examples, by name (``"linear"`` for ``spec/pages/linear.md``), sorted."""
    return [name for name in _page_names() if page_blocks(name)]


def pages_of(entries: Iterable[Entry]) -> list[str]:
    """The pages with examples among the pages of ``entries``, sorted: what a run selecting them shows."""
    pages = {entry.page for entry in entries}
    return [name for name in pages_with_examples() if name in pages]


class _Namespace:
    """``nn``, ``nn.functional``, ``optim`` ... of an implementation (its root, for ``path=""``): each attribute is
    what it serves at that path."""

    def __init__(self, impl: Implementation, path: str) -> None:
        self._impl, self._path = impl, path

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # doctest and copy probe dunders; the implementation's are not the page's
            raise AttributeError(name)
        path = f"{self._path}.{name}" if self._path else name
        found = self._impl.get(path)
        return _Namespace(self._impl, path) if isinstance(found, types.ModuleType | types.SimpleNamespace) else found

    def __repr__(self) -> str:
        return f"<{self._impl.name}.{self._path}>" if self._path else f"<{self._impl.name}>"


@dataclass(frozen=True)
class ExamplesOutcome:
    """What became of one page's examples: ``message`` holds each failure as doctest reports it, or what was
    missing."""

    page: str
    status: Literal["passed", "failed", "missing"]
    message: str = ""


class _Runner(doctest.DocTestRunner):
    def __init__(self) -> None:
        super().__init__(verbose=False, optionflags=doctest.NORMALIZE_WHITESPACE)
        self.missing: MissingComponent | None = None

    def report_unexpected_exception(
        self, out: Any, test: doctest.DocTest, example: doctest.Example, exc_info: Any
    ) -> None:
        if isinstance(exc_info[1], MissingComponent) and self.missing is None:
            self.missing = exc_info[1]
        super().report_unexpected_exception(out, test, example, exc_info)


def run_examples(impl: Implementation, page: str) -> ExamplesOutcome:
    """Run the examples of ``spec/pages/<page>.md`` with ``nn``, ``optim``, ``data`` (``utils.data``) and ``lib`` (the
    root) taken from ``impl``.

    The blocks of a page share one namespace, in order. Each page starts from ``torch.manual_seed(0)`` (the
    caller's random state is restored afterwards) in a temporary working directory, so an example that saves a
    file leaves nothing behind.
    """
    blocks = page_blocks(page)
    if not blocks:
        raise ValueError(f"spec/pages/{page}.md shows no examples; pages that do: {pages_with_examples()}")
    globs: dict[str, Any] = {
        "torch": torch,
        "nn": _Namespace(impl, "nn"),
        "optim": _Namespace(impl, "optim"),
        "data": _Namespace(impl, "utils.data"),
        "lib": _Namespace(impl, ""),  # the root: torch's top-level functions (lib.fake_quantize_per_tensor_affine)
    }
    runner = _Runner()
    report: list[str] = []
    parser = doctest.DocTestParser()
    filename = f"spec/pages/{page}.md"
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        for line, block in blocks:
            test = parser.get_doctest(block, globs, f"{page} (with {impl.name})", filename, line)
            runner.run(test, out=report.append, clear_globs=False)
    if runner.missing is not None:
        return ExamplesOutcome(page, "missing", f"{filename} uses {runner.missing.path}: {runner.missing}")
    if runner.failures:
        return ExamplesOutcome(page, "failed", "".join(report))
    return ExamplesOutcome(page, "passed")


def examples_pass(outcomes: list[ExamplesOutcome], strict: bool = False) -> bool:
    """True when no page failed (and, when strict, none was missing): the examples' part of a run's verdict."""
    bad = {"failed", "missing"} if strict else {"failed"}
    return not any(o.status in bad for o in outcomes)


def summary_line(outcomes: list[ExamplesOutcome]) -> str:
    """``"13 passed, 1 failed, 1 missing  (15 pages)"``: the statuses that occurred, in that order."""
    counts = {s: sum(o.status == s for o in outcomes) for s in ("passed", "failed", "missing")}
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n) + f"  ({len(outcomes)} pages)"
