"""The scorecard (component by check) and the JSON report."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path
from typing import Any

from conformance.examples import ExamplesOutcome, examples_pass
from conformance.runner import STATUSES, Outcome
from spec.entry import CHECKS

CELL = {"passed": "ok", "failed": "FAIL", "unsupported": "unsup", "missing": "miss", "skipped": "skip"}


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    counts = Counter(o.status for o in outcomes)
    return {status: counts.get(status, 0) for status in STATUSES}


def verdict(outcomes: list[Outcome], strict: bool = False) -> bool:
    """True when the run passes: a check passed and none failed (and, when strict, none was unsupported or
    missing). A run in which no check passed has shown nothing, even if nothing failed."""
    bad = {"failed", "unsupported", "missing"} if strict else {"failed"}
    return any(o.status == "passed" for o in outcomes) and not any(o.status in bad for o in outcomes)


def scorecard(outcomes: list[Outcome]) -> str:
    """A table with one row per component and one column per check that ran; blank where a check does not apply."""
    checks = [c for c in CHECKS if any(o.check == c for o in outcomes)]
    rows: dict[str, dict[str, str]] = {}
    for o in outcomes:
        rows.setdefault(o.component, {})[o.check] = CELL[o.status]
    name_w = max([len("component"), *(len(r) for r in rows)])
    widths = [max(len(c), 5) for c in checks]
    lines = ["  ".join(["component".ljust(name_w), *(c.ljust(w) for c, w in zip(checks, widths, strict=True))])]
    lines.append("-" * len(lines[0]))
    for component, cells in rows.items():
        row = [component.ljust(name_w), *(cells.get(c, "").ljust(w) for c, w in zip(checks, widths, strict=True))]
        lines.append("  ".join(row).rstrip())
    counts = summary(outcomes)
    lines.append("")
    lines.append(", ".join(f"{n} {s}" for s, n in counts.items()) + f"  ({len(outcomes)} checks)")
    return "\n".join(lines)


def to_json(
    outcomes: list[Outcome],
    implementation: str,
    profile: str,
    strict: bool,
    device: str = "cpu",
    interrupted: str | None = None,
    examples: list[ExamplesOutcome] | None = None,
) -> dict[str, Any]:
    """The report ``--json`` writes; ``interrupted`` names the check a Ctrl-C stopped (the run then has not
    passed: the checks after it never ran). ``examples``, the spec pages' (``--examples``), are reported under
    their own key and count towards ``passed``."""
    passed = verdict(outcomes, strict) and interrupted is None and examples_pass(examples or [], strict)
    report = {
        "implementation": implementation,
        "profile": profile,
        "device": device,
        "strict": strict,
        "passed": passed,
        "interrupted": interrupted,
        "summary": summary(outcomes),
        "outcomes": [dataclasses.asdict(o) for o in outcomes],
        "failures": [dataclasses.asdict(o) for o in outcomes if o.status == "failed"],
    }
    if examples is not None:
        report["examples"] = [dataclasses.asdict(o) for o in examples]
    return report


def _temporary(target: Path) -> Path:
    return target.with_name(target.name + ".tmp")


def check_writable(path: str | Path) -> None:
    """Raise ``ValueError`` naming ``path`` if :func:`write_json` could not write there, so that a run learns it
    before its checks, not after them; the missing directories are created, as ``write_json`` would."""
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"--json {str(target)!r} is a directory; name a file to write the report to")
    nearest = next(a for a in target.absolute().parents if a.exists())  # the root at the latest
    if not nearest.is_dir():
        raise ValueError(f"--json {str(target)!r} cannot be written: {str(nearest)!r} is a file, not a directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temporary(target)
        tmp.touch()
        tmp.unlink()
    except OSError as exc:
        raise ValueError(f"--json {str(target)!r} cannot be written: {exc.strerror or exc}") from None


def write_json(path: str | Path, report: dict[str, Any]) -> None:
    """Write the report atomically: a partial file never replaces a good one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(target)
    tmp.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(target)
