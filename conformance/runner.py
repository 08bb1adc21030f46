"""Run checks against an implementation and collect one :class:`Outcome` per (component, check)."""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import hypothesis
import torch

from conformance import devices, profiles
from conformance.checks import registry
from conformance.checks.base import CheckFailed, Context, ReferenceFailed, Skipped, Unsupported, run_body, stat_seed
from nnresolve import Implementation, MissingComponent, describe_exception
from spec import entries as all_entries
from spec import page_path
from spec.entry import CHECKS, Entry, Example

Status = Literal["passed", "failed", "unsupported", "missing", "skipped"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "unsupported", "missing", "skipped")


@dataclass
class Outcome:
    """The result of one check on one component of one implementation."""

    implementation: str
    component: str
    check: str
    status: Status
    message: str = ""
    example: str | None = None
    mismatch: dict[str, Any] | None = None
    repro: str | None = None
    seconds: float = 0.0
    examples: int = 0
    #: The spec page that says what the component must do (set on a failure).
    page: str | None = None

    @property
    def id(self) -> str:
        return f"{self.implementation}-{self.component}-{self.check}"

    def describe(self) -> str:
        """A failure report: component, check, the shrunk example, the error, and a snippet that replays it."""
        lines = [f"{self.component} / {self.check} [{self.implementation}]: {self.status.upper()}", f"  {self.message}"]
        if self.example:
            lines.append(f"  example: {self.example}")
        if self.page:
            lines.append(f"  spec: {self.page}")
        if self.repro:
            lines.append("  reproduce with:")
            lines.extend(f"    {line}" for line in self.repro.splitlines())
        return "\n".join(lines)


def reference() -> Implementation:
    return Implementation("torch")


def load_implementation(module: str, map_file: str | None = None) -> Implementation:
    """The implementation under test named by ``module``, with the overrides of ``map_file``."""
    from nnresolve import load_map_file

    overrides = load_map_file(map_file) if map_file else {}
    paths = {entry.path for entry in all_entries()}
    names = paths | {path.rsplit(".", 1)[-1] for path in paths}
    unknown = [key for key in overrides if key not in names]
    if unknown:
        # a misspelt key would leave its component served by the module itself, with no sign of it
        near = {key: difflib.get_close_matches(key, names, n=1, cutoff=0.6) for key in unknown}
        named = ", ".join(f"{key!r}" + (f" (did you mean {m[0]!r}?)" if m else "") for key, m in near.items())
        raise ValueError(
            f"map file {map_file}: {named} name no component of the spec; a key is a component's path "
            "('nn.functional.softmax') or its last part ('softmax')"
        )
    return Implementation(module, overrides or None)


def load_failure(exc: BaseException) -> str:
    """Why :func:`load_implementation` failed, in a line: an import or map-file error as it reads, any other
    exception (raised by the implementation's own code as it was imported) with where it was raised."""
    return str(exc) if isinstance(exc, (ImportError, OSError, ValueError)) else describe_exception(exc)


def nothing_found(module: str, components: Sequence[str] | None = None) -> str:
    """Why a run found none of ``components`` (default: the whole spec) in ``module``; when ``module`` is the
    ``nn`` or ``optim`` of a package (it holds ``Linear`` or ``AdamW`` itself), the package to name instead."""
    names = f"the selected components ({', '.join(components)})" if components else "the components the spec names"
    message = f"{module} offers none of {names}"
    try:
        root: Any = importlib.import_module(module)
    except Exception:  # the run that called this has reported why already
        return message
    found = []
    for order, entry in enumerate(all_entries()):
        parts = entry.path.split(".")
        for k in range(1, len(parts)):
            inner, rest = ".".join(parts[:k]), parts[k:]
            obj = root
            for part in rest:
                obj = getattr(obj, part, None)
            if module.endswith(f".{inner}") and obj is not None:
                # a selected component first, then the shortest (nn.Linear before nn.functional.softmax)
                rank = (components is not None and entry.name not in components, len(rest), order)
                found.append((rank, entry.path, inner, ".".join(rest)))
    if found:
        _, path, inner, held = min(found)
        above = module.removesuffix(f".{inner}")
        return f"{message}, but it holds {held} itself, as {above}.{inner} would: name {above!r} (for {path})"
    if components:
        return message
    return f"{message}; they are looked up by their torch paths: {module}.nn.Linear, {module}.optim.AdamW, ..."


def selected(entry: Entry, check: str, keyword: str | None) -> bool:
    """pytest-style ``-k``: words are case-insensitive substrings of "component-check", joined by and/or/not."""
    if not keyword:
        return True
    name = f"{entry.name}-{check}-{entry.path}".lower()
    tokens = re.findall(r"\(|\)|[^\s()]+", keyword)
    expr = []
    for tok in tokens:
        low = tok.lower()
        if low in ("and", "or", "not", "(", ")"):
            expr.append(low)
        else:
            expr.append(repr(low in name))
    try:
        return bool(eval(" ".join(expr), {"__builtins__": {}}))
    except SyntaxError:
        raise ValueError(f"cannot parse -k expression {keyword!r}") from None


def nothing_selected(keyword: str, cli: bool = True) -> str:
    """Why ``-k keyword`` (``keyword=`` of the Python API, without ``cli``) selects no check: the words that match
    no component or check, with the nearest names."""
    every = list(cases())
    ids = {f"{entry.name}-{check}-{entry.path}".lower() for entry, check in every}
    # suggestions are the names a user types; lowercased for the comparison, shown as spelled
    spelled = {n.lower(): n for entry, check in every for n in (entry.name, check)}
    message = f"{'-k ' if cli else 'keyword='}{keyword!r} selects none of the {len(every)} checks"
    for word in re.findall(r"[^\s()]+", keyword):
        if word.lower() in ("and", "or", "not") or any(word.lower() in i for i in ids):
            continue
        near = [spelled[n] for n in difflib.get_close_matches(word.lower(), spelled, n=3, cutoff=0.6)]
        message += f"; no component or check contains {word!r}"
        message += f" (did you mean {' or '.join(map(repr, near))}?)" if near else ""
    return message + ("; --list shows every component-check" if cli else "")


def cases(
    entries: Iterable[Entry] | None = None, checks: Sequence[str] | None = None, keyword: str | None = None
) -> Iterator[tuple[Entry, str]]:
    """(entry, check) pairs in spec order and scorecard order, filtered by ``checks`` and ``keyword``."""
    for entry in entries if entries is not None else all_entries():
        for check in CHECKS:
            if check in entry.checks and (checks is None or check in checks) and selected(entry, check, keyword):
                yield entry, check


def repro_snippet(
    impl: Implementation, entry: Entry, check: str, example: Example | None, device: torch.device = devices.CPU
) -> str:
    overrides = f", overrides={impl.overrides!r}" if impl.overrides else ""
    if device.type != "cpu":
        overrides += f", device={str(device)!r}"
    lines = ["from conformance import reproduce"]
    if example is not None:
        if "torch." in repr(example):
            lines.append("import torch")  # the example holds torch objects (a dtype argument, say)
        lines.append("from spec import Example, T")
        lines.append(f"reproduce({impl.name!r}, {entry.name!r}, {check!r}, {example!r}{overrides})")
    else:
        lines.append(f"reproduce({impl.name!r}, {entry.name!r}, {check!r}{overrides})")
    return "\n".join(lines)


def _context(
    impl: Implementation, entry: Entry, check: str, settings: hypothesis.settings, device: torch.device
) -> Context:
    return Context(entry, impl, reference(), settings, stat_seed(settings), device=devices.for_check(check, device))


def run_check(
    impl: Implementation,
    entry: Entry,
    check: str,
    settings: hypothesis.settings | None = None,
    device: str | torch.device | None = None,
) -> Outcome:
    """Run one check of one entry against ``impl``, on ``device`` (default: $NNSPEC_DEVICE, else cpu)."""
    settings = settings or profiles.get()
    where = devices.resolve(device)
    start = time.perf_counter()
    outcome = Outcome(impl.name, entry.name, check, "passed")
    try:
        component = impl.get(entry.path)
    except MissingComponent as exc:
        outcome.status, outcome.message = "missing", str(exc)
        return outcome
    except (Exception, SystemExit) as exc:  # it is there but does not import (a SyntaxError in it): a failure
        outcome.status, outcome.message = (
            "failed",
            f"{impl.qualname(entry.path)} could not be loaded: {describe_exception(exc)}",
        )
        return outcome
    if not callable(component):
        outcome.status = "failed"
        outcome.message = (
            f"{impl.qualname(entry.path)} is {component!r} ({type(component).__name__}), not a class or function"
        )
        return outcome
    chk = registry().get(check)
    if chk is None:
        # A check the spec lists but the harness has not got: shown as skipped, never crashing the run.
        outcome.status, outcome.message = "skipped", f"the harness has no {check!r} check"
        return outcome
    ctx = _context(impl, entry, check, settings, where)
    try:
        run_body(ctx, chk)
    except CheckFailed as exc:
        outcome.status, outcome.message = "failed", exc.message
        outcome.example = exc.example.describe() if exc.example else None
        outcome.mismatch = dataclasses.asdict(exc.mismatch) if exc.mismatch else None
        outcome.repro = repro_snippet(impl, entry, check, exc.example, ctx.device)
    except ReferenceFailed as exc:
        outcome.status, outcome.message = "failed", f"spec error (not the implementation's fault): {exc}"
    except Skipped as exc:
        outcome.status, outcome.message = "skipped", str(exc)
    except Unsupported as exc:
        ctx.unsupported.append(str(exc))
    except hypothesis.errors.HypothesisException as exc:
        outcome.status, outcome.message = "failed", f"{type(exc).__name__}: {exc}"
        outcome.repro = repro_snippet(impl, entry, check, None, ctx.device)
    if outcome.status == "passed" and ctx.unsupported:
        outcome.status = "unsupported"
        outcome.message = "; ".join(ctx.unsupported[:3]) + (" ..." if len(ctx.unsupported) > 3 else "")
    page = page_path(entry)
    if outcome.status == "failed" and Path(page).is_file():
        outcome.page = page
    outcome.examples = ctx.examples_run
    outcome.seconds = time.perf_counter() - start
    return outcome


def run_suite(
    impl: Implementation,
    entries: Iterable[Entry] | None = None,
    checks: Sequence[str] | None = None,
    keyword: str | None = None,
    settings: hypothesis.settings | None = None,
    device: str | torch.device | None = None,
) -> list[Outcome]:
    """Every selected check of every entry against ``impl``."""
    return [run_check(impl, entry, check, settings, device) for entry, check in cases(entries, checks, keyword)]


def reproduce(
    implementation: str,
    component: str,
    check: str,
    example: Example | None = None,
    overrides: dict[str, str] | None = None,
    device: str | None = None,
) -> None:
    """Replay one check on one example (the snippet a failure prints); raises the failure, or returns quietly."""
    from spec import get

    entry = get(component)
    if check not in entry.checks:
        raise KeyError(f"{entry.name} has no check named {check!r}; its checks: {list(entry.checks)}")
    impl = Implementation(implementation, overrides)
    settings = profiles.get("ci")
    ctx = _context(impl, entry, check, settings, devices.resolve(device))
    chk = registry()[check]
    if example is None:
        run_body(ctx, chk)
    else:
        chk.body(ctx, example)
