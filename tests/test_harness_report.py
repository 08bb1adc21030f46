"""conformance.report: the scorecard table, the verdict, and the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.report import check_writable, scorecard, summary, to_json, verdict, write_json
from conformance.runner import Outcome


def _outcomes() -> list[Outcome]:
    return [
        Outcome("m", "Linear", "forward", "passed"),
        Outcome("m", "Linear", "backward", "failed", "grad differs"),
        Outcome("m", "Linear", "state_dict", "unsupported", "no bias=False"),
        Outcome("m", "linear", "forward", "missing", "m has no nn.functional.linear"),
        Outcome("m", "linear", "dtype", "skipped", "no example applied"),
    ]


def test_summary_counts_every_status_even_when_zero() -> None:
    assert summary(_outcomes()) == {"passed": 1, "failed": 1, "unsupported": 1, "missing": 1, "skipped": 1}
    assert summary([]) == {"passed": 0, "failed": 0, "unsupported": 0, "missing": 0, "skipped": 0}


@pytest.mark.parametrize(
    ("statuses", "strict", "ok"),
    [
        (["passed", "skipped"], False, True),
        (["passed", "skipped"], True, True),
        (["passed", "unsupported", "missing"], False, True),
        (["passed", "unsupported"], True, False),
        (["passed", "missing"], True, False),
        (["passed", "failed"], False, False),
        # a run in which no check passed has shown nothing
        ([], True, False),
        (["missing", "missing"], False, False),
        (["unsupported", "skipped"], False, False),
    ],
)
def test_verdict(statuses: list[str], strict: bool, ok: bool) -> None:
    outcomes = [Outcome("m", "C", "forward", s) for s in statuses]  # type: ignore[arg-type]
    assert verdict(outcomes, strict) is ok


def test_scorecard_has_a_row_per_component_and_a_column_per_check_that_ran() -> None:
    lines = scorecard(_outcomes()).splitlines()
    header = lines[0].split()
    # Checks in spec order; "init" and the others that did not run have no column.
    assert header == ["component", "forward", "backward", "state_dict", "dtype"]
    assert set(lines[1]) == {"-"}
    assert lines[2].split() == ["Linear", "ok", "FAIL", "unsup"]
    linear_fn = lines[3]
    assert linear_fn.split() == ["linear", "miss", "skip"]
    # A check that does not apply to a component is a blank cell, so "skip" sits under "dtype".
    assert linear_fn.index("skip") == lines[0].index("dtype")
    assert lines[-1] == "1 passed, 1 failed, 1 unsupported, 1 missing, 1 skipped  (5 checks)"


def test_scorecard_of_nothing() -> None:
    assert scorecard([]).splitlines()[-1] == "0 passed, 0 failed, 0 unsupported, 0 missing, 0 skipped  (0 checks)"


def test_json_report_structure(tmp_path: Path) -> None:
    report = to_json(_outcomes(), "m", "ci", strict=True)
    assert report["implementation"] == "m" and report["profile"] == "ci" and report["strict"] is True
    assert report["passed"] is False
    assert report["summary"]["failed"] == 1
    assert [o["check"] for o in report["outcomes"]] == ["forward", "backward", "state_dict", "forward", "dtype"]
    (failure,) = report["failures"]
    assert failure["component"] == "Linear" and failure["message"] == "grad differs"
    fields = "implementation component check status message example mismatch repro seconds examples page"
    assert set(failure) == set(fields.split())

    path = tmp_path / "report.json"
    write_json(path, report)
    assert json.loads(path.read_text()) == json.loads(json.dumps(report))
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left behind


def test_write_json_replaces_an_old_report(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")
    write_json(path, {"mismatch": {"index": (1, 2)}, "dtype": object()})
    data = json.loads(path.read_text())
    assert data["mismatch"]["index"] == [1, 2]
    assert data["dtype"].startswith("<object object")


def test_check_writable_leaves_nothing_behind_and_names_what_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "new" / "report.json"
    check_writable(path)
    assert path.parent.is_dir() and list(path.parent.iterdir()) == []  # the probe file is gone

    def refused(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "touch", refused)
    with pytest.raises(ValueError, match=r"^--json '.*report\.json' cannot be written: Permission denied$"):
        check_writable(path)
