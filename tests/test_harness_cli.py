"""``python -m conformance``: exit codes, output, --json, --strict, -k, --list, --map, and bad arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import spec
from conformance.__main__ import main
from conformance.examples import pages_with_examples
from conformance.runner import run_check
from spec import CHECKS

N_CHECKS = sum(c in e.checks for e in spec.entries() for c in CHECKS)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_prints_every_selected_pair_and_loads_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "no_such_module_xyz", "--list")
    assert code == 0
    expected = [f"{e.name}-{c}" for e in spec.entries() for c in CHECKS if c in e.checks]
    assert out.splitlines() == expected
    code, out, _ = run(capsys, "torch", "--list", "-k", "linear and (forward or errors) and not LR")
    assert out.splitlines() == ["Linear-forward", "Linear-errors", "linear-forward", "linear-errors"]


def test_torch_passes_with_progress_lines_and_a_scorecard(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "torch", "-k", "linear and (forward or errors) and not LR", "--profile", "ci")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("passed      Linear-forward  (")
    assert "Scorecard: torch against torch (profile ci, " in out
    assert "4 passed, 0 failed, 0 unsupported, 0 missing, 0 skipped  (4 checks)" in out
    assert lines[-1] == "PASSED"
    assert "Failures" not in out and "Not checked" not in out


def test_a_bug_fails_the_run_and_prints_the_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "tests.planted.bug_linear_truncates_input", "-q", "-k", "linear and errors")
    assert code == 1
    assert "Linear-errors" not in out.split("Failures")[0]  # -q: no progress lines
    assert "linear / errors [tests.planted.bug_linear_truncates_input]: FAILED" in out
    assert "reproduce('tests.planted.bug_linear_truncates_input', 'linear', 'errors')" in out
    assert out.splitlines()[-1] == "FAILED"


@pytest.mark.parametrize(("strict", "code"), [((), 0), (("--strict",), 1)], ids=["lenient", "strict"])
def test_unsupported_and_missing_fail_only_when_strict(
    capsys: pytest.CaptureFixture[str], strict: tuple[str, ...], code: int
) -> None:
    got, out, _ = run(
        capsys, "tests.planted.partial_linear", "-q", "--profile", "ci", "-k", "linear and (forward or errors)", *strict
    )
    assert got == code
    assert "Not checked\n===========" in out
    assert "unsupported Linear-forward: " in out and "Linear(bias=False) is not supported" in out
    assert "missing     linear-forward: tests.planted.partial_linear has no nn.functional.linear" in out
    last = out.splitlines()[-1]
    assert last == ("FAILED (strict: unsupported and missing count)" if strict else "PASSED")


@pytest.mark.parametrize(
    ("module", "keyword", "why"),
    [
        (
            "torch.nn",
            None,
            "torch.nn offers none of the components the spec names, but it holds ModuleList "
            "itself, as torch.nn would: name 'torch' (for nn.ModuleList)",
        ),
        (
            "torch.nn.functional",
            "gelu",
            "torch.nn.functional offers none of the selected components (GELU, gelu), "
            "but it holds gelu itself, as torch.nn.functional would: name 'torch' (for nn.functional.gelu)",
        ),
        (
            "torch.optim",
            "adamw",
            "torch.optim offers none of the selected components (AdamW), but it holds AdamW "
            "itself, as torch.optim would: name 'torch' (for optim.AdamW)",
        ),
        (
            "json",
            None,
            "json offers none of the components the spec names; they are looked up by their torch paths: "
            "json.nn.Linear, json.optim.AdamW, ...",
        ),
        ("torch", "rotary", "torch offers none of the selected components (RotaryEmbedding)"),
    ],
    ids=["nn", "functional", "optim", "unrelated", "selection"],
)
def test_a_run_that_finds_no_component_fails_and_says_where_to_look(
    capsys: pytest.CaptureFixture[str], module: str, keyword: str | None, why: str
) -> None:
    code, out, _ = run(capsys, module, "-q", "--profile", "ci", *(("-k", keyword) if keyword else ()))
    assert code == 1
    assert f"\nno check passed: {why}\n" in out
    assert out.splitlines()[-1] == "FAILED"


def test_json_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "out" / "report.json"  # the missing directory is made
    args = [
        "tests.planted.bug_linear_bias_twice",
        "-q",
        "--profile",
        "ci",
        "-k",
        "Linear and (forward or errors) and not LR",
    ]
    code, _, _ = run(capsys, *args, "--json", str(path))
    assert code == 1
    report = json.loads(path.read_text())
    assert report["implementation"] == "tests.planted.bug_linear_bias_twice"
    assert (report["profile"], report["strict"], report["passed"]) == ("ci", False, False)
    assert report["summary"] == {"passed": 3, "failed": 1, "unsupported": 0, "missing": 0, "skipped": 0}
    assert [(o["component"], o["check"], o["status"]) for o in report["outcomes"]] == [
        ("Linear", "forward", "failed"),
        ("Linear", "errors", "passed"),
        ("linear", "forward", "passed"),
        ("linear", "errors", "passed"),
    ]
    (failure,) = report["failures"]
    assert failure["example"].startswith("init={'in_features': ")
    assert failure["mismatch"]["reason"] == "values differ"
    assert len(failure["mismatch"]["index"]) >= 1
    assert failure["repro"].startswith("from conformance import reproduce\nfrom spec import Example, T\n")


@pytest.mark.parametrize("where", ["directory", "under-a-file"])
def test_a_json_path_that_cannot_be_written_is_refused_before_any_check(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    import conformance.__main__ as cli

    monkeypatch.setattr(cli, "run_check", lambda *args: pytest.fail("a check ran"))
    (tmp_path / "notes.txt").write_text("")
    path = tmp_path if where == "directory" else tmp_path / "notes.txt" / "report.json"
    code, out, err = run(capsys, "torch", "-k", "gelu and forward", "--json", str(path))
    assert (code, out) == (2, "")
    reason = "is a directory; name a file" if where == "directory" else f"{str(tmp_path / 'notes.txt')!r} is a file"
    assert err.startswith(f"error: --json {str(path)!r} ") and reason in err


def test_a_report_that_fails_to_write_after_the_run_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import conformance.__main__ as cli

    def disk_full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "write_json", disk_full)
    path = tmp_path / "report.json"
    code, out, err = run(capsys, "torch", "-q", "--profile", "ci", "-k", "gelu and forward", "--json", str(path))
    assert code == 2
    assert out.splitlines()[-1] == "PASSED"  # the scorecard is printed first
    assert (
        err == f"error: the report could not be written to --json {str(path)!r}: [Errno 28] No space left on device\n"
    )


def test_ctrl_c_reports_what_ran_and_exits_130(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import conformance.__main__ as cli

    calls = []

    def run_check_then_ctrl_c(*args: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:  # during the second check, as a Ctrl-C on a check that hangs
            raise KeyboardInterrupt
        return run_check(*args)

    monkeypatch.setattr(cli, "run_check", run_check_then_ctrl_c)
    path = tmp_path / "report.json"
    code, out, err = run(capsys, "torch", "--profile", "ci", "-k", "gelu and forward", "--json", str(path))
    assert code == 130
    assert err == "\ninterrupted during gelu-forward, after 1 of 2 checks\n"
    assert "1 passed, 0 failed, 0 unsupported, 0 missing, 0 skipped  (1 checks)" in out
    assert out.splitlines()[-1] == "INTERRUPTED during gelu-forward: 1 of 2 checks not run"
    report = json.loads(path.read_text())
    assert (report["passed"], report["interrupted"]) == (False, "gelu-forward")
    assert [(o["component"], o["status"]) for o in report["outcomes"]] == [("GELU", "passed")]


def test_ctrl_c_among_the_pages_names_the_page_and_the_pages_not_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import conformance.__main__ as cli

    def ctrl_c(impl: Any, page: str) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_examples", ctrl_c)
    code, out, err = run(capsys, "torch", "--profile", "ci", "-k", "forward and (gelu or rotary)", "--examples", "-q")
    assert code == 130
    assert err == "\ninterrupted during the examples of spec/pages/gelu.md, after 3 of 3 checks\n"
    assert out.splitlines()[-1] == "INTERRUPTED during the examples of spec/pages/gelu.md: 2 of 2 pages not run"


def test_map_file_lets_other_names_take_part(capsys: pytest.CaptureFixture[str], maps_dir: Path) -> None:
    map_file = str(maps_dir / "correct_remapped.toml")
    code, out, _ = run(
        capsys, "tests.planted.correct_remapped", "--map", map_file, "-q", "--profile", "ci", "-k", "linear and forward"
    )
    assert code == 0
    assert "2 passed, 0 failed" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no_such_module_xyz"], "error: cannot load implementation 'no_such_module_xyz': No module named"),
        (["torch", "--map", "/nonexistent/map.toml"], "error: cannot load implementation 'torch': "),
        (["torch", "-k", "forward backward"], "error: cannot parse -k expression 'forward backward'"),
        (
            ["torch", "-k", "layrnorm and forwrd"],
            f"error: -k 'layrnorm and forwrd' selects none of the {N_CHECKS} checks; no component or check contains "
            "'layrnorm' (did you mean 'LayerNorm' or 'layer_norm' or 'RMSNorm'?); no component or check contains "
            "'forwrd' (did you mean 'forward'?); --list shows every component-check",
        ),
        (
            ["no_such_module_xyz", "--list", "-k", "linear and adamw"],
            f"error: -k 'linear and adamw' selects none of the {N_CHECKS} checks; --list shows every component-check",
        ),
    ],
    ids=["bad-module", "absent-map", "bad-keyword", "keyword-with-a-typo", "keyword-selecting-nothing"],
)
def test_bad_arguments_exit_2_with_a_message(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith(message)
    assert out == ""


def test_an_implementation_whose_code_raises_on_import_exits_2_naming_where(
    capsys: pytest.CaptureFixture[str], write_packages: Callable[[Mapping[str, str]], None]
) -> None:
    write_packages(
        {
            "raises_on_import/__init__.py": "import torch\nx = undefined_name\n",
            "bad_syntax/__init__.py": "def gelu(x):\n    return x +* 2\n",
        }
    )
    code, out, err = run(capsys, "raises_on_import")
    assert (code, out) == (2, "")
    assert err == (
        "error: cannot load implementation 'raises_on_import': NameError: name 'undefined_name' is not defined "
        "(at raises_on_import/__init__.py:2, in <module>)\n"
    )
    code, _, err = run(capsys, "bad_syntax")
    assert (code, err) == (
        2,
        "error: cannot load implementation 'bad_syntax': SyntaxError: invalid syntax (__init__.py, line 2)\n",
    )


def test_sys_exit_in_the_implementation_fails_it_and_does_not_end_the_run(
    capsys: pytest.CaptureFixture[str], write_packages: Callable[[Mapping[str, str]], None]
) -> None:
    # SystemExit is no Exception: uncaught, sys.exit(0) in a forward pass would end the run with status 0
    write_packages(
        {
            "exits_on_import/__init__.py": "import sys\nsys.exit(3)\n",
            "exits_in_forward/__init__.py": (
                "import sys\nimport torch\n\nclass nn:\n    class GELU(torch.nn.GELU):\n"
                "        def forward(self, x):\n            sys.exit(0)\n\n    functional = torch.nn.functional\n"
            ),
        }
    )
    code, _, err = run(capsys, "exits_on_import")
    assert (code, err) == (
        2,
        "error: cannot load implementation 'exits_on_import': SystemExit(3), as sys.exit raises "
        "(at exits_on_import/__init__.py:2, in <module>)\n",
    )
    code, out, _ = run(capsys, "exits_in_forward", "-q", "--profile", "ci", "-k", "gelu and forward")
    assert code == 1
    assert "exits_in_forward.nn.GELU raised SystemExit(0), as sys.exit raises (at exits_in_forward/__init__.py:7" in out
    assert "1 passed, 1 failed" in out  # the run went on to the functional gelu


def test_bad_map_value_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[components]\nLinear = 1\n")
    code, _, err = run(capsys, "torch", "--map", str(path))
    assert code == 2
    assert "values must be strings" in err


def test_a_map_key_naming_no_component_exits_2_with_the_nearest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "typo.toml"
    path.write_text('[components]\nLayerNrom = "torch"\nsoftmax = "torch"\n"nn.zzz" = "torch"\n')
    code, out, err = run(capsys, "torch", "--map", str(path))
    assert (code, out) == (2, "")
    assert err == (
        f"error: cannot load implementation 'torch': map file {path}: 'LayerNrom' (did you mean 'LayerNorm'?), "
        "'nn.zzz' name no component of the spec; a key is a component's path ('nn.functional.softmax') or its last "
        "part ('softmax')\n"
    )


def test_unknown_profile_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["torch", "--profile", "fast"])
    assert info.value.code == 2
    assert "invalid choice: 'fast'" in capsys.readouterr().err


def test_module_entry_point_runs_as_a_program(repo_root: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conformance", "torch", "--list", "-k", "nn.Linear and errors"],
        capture_output=True,
        text=True,
        cwd=repo_root,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Linear-errors"]


def _closed_reader(repo_root: Path, tmp_path: Path, *argv: str) -> tuple[int, str]:
    """Run ``python -m conformance ARGV`` into a pipe whose reader has already gone: ``| head -0``, deterministic."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(repo_root)])}
    command = [sys.executable, "-m", "conformance", *argv]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=repo_root, env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
    return proc.returncode, err


@pytest.fixture
def gelu_marks(tmp_path: Path, write_packages: Callable[[Mapping[str, str]], None]) -> Path:
    """``markpkg``: torch's GELU and gelu, the functional one leaving a file behind when it is called."""
    mark = tmp_path / "gelu-called"
    write_packages(
        {
            "markpkg/nn/__init__.py": "from torch.nn import GELU\nfrom markpkg.nn import functional\n",
            "markpkg/nn/functional.py": (
                "import pathlib\nimport torch\n\n\ndef gelu(x, approximate='none'):\n"
                f"    pathlib.Path({str(mark)!r}).touch()\n"
                "    return torch.nn.functional.gelu(x, approximate=approximate)\n"
            ),
        }
    )
    return mark


def test_a_reader_that_closes_the_pipe_stops_the_run_quietly(repo_root: Path, tmp_path: Path, gelu_marks: Path) -> None:
    code, err = _closed_reader(repo_root, tmp_path, "markpkg", "-k", "gelu and forward")
    assert (code, err) == (141, "")  # no BrokenPipeError traceback: the status of a filter that `| head` stops
    assert not gelu_marks.exists()  # stopped after GELU-forward: gelu-forward, which nobody would read, never ran
    assert _closed_reader(repo_root, tmp_path, "markpkg", "--list") == (141, "")


def test_with_json_a_closed_pipe_still_runs_every_check_and_writes_the_report(
    repo_root: Path, tmp_path: Path, gelu_marks: Path
) -> None:
    report = tmp_path / "report.json"
    code, err = _closed_reader(repo_root, tmp_path, "markpkg", "-k", "gelu and forward", "--json", str(report))
    assert (code, err) == (0, "")  # the verdict's status: the report, not the terminal, is what was asked for
    assert gelu_marks.exists()
    outcomes = json.loads(report.read_text())["outcomes"]
    assert [(o["component"], o["check"], o["status"]) for o in outcomes] == [
        ("GELU", "forward", "passed"),
        ("gelu", "forward", "passed"),
    ]


def test_examples_run_the_spec_pages_with_the_implementations_nn(capsys: pytest.CaptureFixture[str]) -> None:
    assert {"gelu", "rotary"} <= set(pages_with_examples())
    code, out, _ = run(capsys, "torch", "-k", "forward and (gelu or rotary)", "--examples", "--profile", "ci")
    assert code == 0, out
    # the pages of the components -k selected: GELU's and gelu's, and RotaryEmbedding's, which torch lacks
    assert [line for line in out.splitlines() if line.endswith(" page examples")] == [
        "passed      gelu page examples",
        "missing     rotary page examples",
    ]
    assert "\nspec page examples: 1 passed, 1 missing  (2 pages)\n" in out
    assert "missing     rotary page examples: spec/pages/rotary.md uses nn.RotaryEmbedding: torch has no " in out
    code, out, _ = run(capsys, "torch", "-k", "forward and (gelu or rotary)", "--examples", "--strict", "-q")
    assert code == 1
    code, out, _ = run(capsys, "no_such_module_xyz", "--list", "--examples", "-k", "forward and (gelu or rotary)")
    assert (code, out.splitlines()[-2:]) == (0, ["gelu page examples", "rotary page examples"])
    code, out, _ = run(capsys, "torch", "-k", "gelu and forward", "-q")
    assert "page examples" not in out


def test_a_page_whose_examples_fail_fails_the_run_with_the_doctest_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    bug = "tests.planted.bug_gelu_tanh_constant"
    code, out, _ = run(capsys, bug, "-k", "nn.GELU and forward", "--examples", "-q", "--json", str(report))
    assert code == 1
    assert "\nthe examples of spec/pages/gelu.md [tests.planted.bug_gelu_tanh_constant]: FAILED\n" in out
    assert f'File "spec/pages/gelu.md", line 78, in gelu (with {bug})\nFailed example:\n' in out
    data = json.loads(report.read_text())
    assert data["passed"] is False and data["summary"]["failed"] == 0  # every check passed; a page did not
    assert [e["page"] for e in data["examples"] if e["status"] == "failed"] == ["gelu"]
    run(capsys, bug, "-k", "nn.GELU and forward", "-q", "--json", str(report))
    assert "examples" not in json.loads(report.read_text())  # not asked for: not reported as if none failed
