"""The pytest plugin (``--impl``, ids, ini option, strictness) and the parametrize_with_checks API.

Plugin runs use pytester: a throwaway test directory, run in-process under the derandomized ``ci`` profile.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import spec
from conformance.api import Case, ExamplesCase, build_cases, parametrize_with_checks
from nnresolve import Implementation

pytest_plugins = ["pytester"]

CONFORMANCE_TESTS = """
def test_forward(conformance_case):
    conformance_case.run()

def test_errors(conformance_case):
    conformance_case.run()
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("NNSPEC_PROFILE", "ci")
    pytester.makepyfile(test_suite=CONFORMANCE_TESTS)
    return pytester


def _ids(result: pytest.RunResult) -> list[str]:
    return [line.split("::")[1] for line in result.outlines if "::" in line]


def test_ids_name_the_implementation_and_the_component(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--impl", "torch", "--collect-only", "-q", "-k", "Linear and not LR")
    assert _ids(result) == [
        "test_forward[torch-Linear]",
        "test_forward[torch-linear]",
        "test_errors[torch-Linear]",
        "test_errors[torch-linear]",
    ]


def test_every_entry_with_the_check_is_a_test(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--impl", "torch", "--collect-only", "-q")
    ids = _ids(result)
    expected = [f"test_forward[torch-{e.name}]" for e in spec.entries() if "forward" in e.checks]
    assert [i for i in ids if i.startswith("test_forward")] == expected


def test_torch_passes_and_a_planted_bug_fails_with_its_report(suite: pytest.Pytester) -> None:
    # pytest's -k ignores case: "-linear]" selects the ids ending in -Linear] and -linear], of both implementations.
    impls = ("--impl", "torch", "--impl", "tests.planted.bug_linear_truncates_input")
    result = suite.runpytest(*impls, "-k", "errors and -linear]")
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*linear / errors [[]tests.planted.bug_linear_truncates_input[]]: FAILED*",
            "*bad input (weight's in_features differs from the input's) did not raise*",
            "*reproduce('tests.planted.bug_linear_truncates_input', 'linear', 'errors')*",
        ]
    )


def test_default_implementations_come_from_the_ini_option(suite: pytest.Pytester) -> None:
    suite.makeini("[pytest]\nconformance_impls =\n    torch\n    tests.planted.partial_linear\n")
    result = suite.runpytest("--collect-only", "-q", "-k", "errors and -linear]")
    assert _ids(result) == [
        "test_errors[torch-Linear]",
        "test_errors[torch-linear]",
        "test_errors[tests.planted.partial_linear-Linear]",
        "test_errors[tests.planted.partial_linear-linear]",
    ]


def test_without_any_implementation_nothing_runs(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-q")
    result.assert_outcomes(skipped=2)  # pytest's "got empty parameter set"


@pytest.mark.parametrize(
    ("strict", "outcomes"),
    [((), {"passed": 1, "skipped": 3}), (("--conformance-strict",), {"passed": 1, "failed": 3})],
    ids=["lenient", "strict"],
)
def test_unsupported_and_missing_skip_unless_strict(
    suite: pytest.Pytester, strict: tuple[str, ...], outcomes: dict[str, int]
) -> None:
    # Linear: forward unsupported (no bias=False), errors passed; linear: missing.
    result = suite.runpytest(
        "--impl", "tests.planted.partial_linear", "-k", "(forward or errors) and -linear]", "-rs", *strict
    )
    result.assert_outcomes(**outcomes)
    suffix = " (strict)" if strict else ""
    result.stdout.fnmatch_lines(
        [
            f"*unsupported{suffix}: *Linear(bias=False) is not supported*",
            f"*missing{suffix}: tests.planted.partial_linear has no nn.functional.linear*",
        ],
        consecutive=False,
    )


def test_impl_map_option(suite: pytest.Pytester, maps_dir: Path) -> None:
    result = suite.runpytest(
        "--impl",
        "tests.planted.correct_remapped",
        "--impl-map",
        str(maps_dir / "correct_remapped.toml"),
        "-k",
        "(forward or errors) and -linear]",
    )
    result.assert_outcomes(passed=4)


def test_a_test_taking_conformance_impl_runs_once_per_implementation(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "from conformance.examples import run_examples\n\n"
        "def test_page(conformance_impl):\n"
        "    assert run_examples(conformance_impl, 'gelu').status == 'passed'\n"
    )
    result = pytester.runpytest("--impl", "torch", "--impl", "tests.planted.bug_gelu_tanh_constant", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*test_page[[]torch[]] PASSED*", "*test_page[[]tests.planted.bug_gelu_tanh_constant[]] FAILED*"]
    )


def test_a_test_named_for_no_check_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_speed(conformance_case):\n    pass\n")
    result = pytester.runpytest("--impl", "torch")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*UsageError: test_speed: no check named 'speed'; known: *"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--impl", "no_such_module_xyz"], "No module named 'no_such_module_xyz'"),
        (["--impl", "torch", "--impl-map", "absent.toml"], "map file 'absent.toml' is not a file"),
    ],
    ids=["module", "map-file"],
)
def test_an_implementation_that_cannot_be_loaded_is_a_usage_error(
    suite: pytest.Pytester, args: list[str], message: str
) -> None:
    result = suite.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    impl = args[1]
    assert result.stderr.lines == [f"ERROR: --impl {impl!r}: cannot load the implementation: {message}", ""]
    assert not result.stdout.lines  # the reason alone: no collection error, no traceback through importlib


def test_an_unknown_device_is_a_usage_error(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--impl", "torch", "--conformance-device", "tpu9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        result.stderr.lines[0]
        == "ERROR: --conformance-device: unknown device 'tpu9': expected cpu, cuda, cuda:1, ... (a torch device)"
    )


API_TESTS = """
from conformance import parametrize_with_checks

@parametrize_with_checks(
    "tests.planted.bug_linear_truncates_input",
    checks=["errors"],
    keyword="linear and not LR",
    expected_failures={EXPECTED},
)
def test_conformance(case):
    case.run()
"""


def test_parametrize_with_checks_ids_and_expected_failures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(API_TESTS.replace("{EXPECTED}", '{"linear-errors": "planted: input truncated"}'))
    result = pytester.runpytest("-v", "-rx")
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_conformance[[]tests.planted.bug_linear_truncates_input-Linear-errors[]] PASSED*",
            "*test_conformance[[]tests.planted.bug_linear_truncates_input-linear-errors[]] XFAIL*",
            "*planted: input truncated*",
        ]
    )


def test_expected_failure_that_passes_fails_the_run(pytester: pytest.Pytester) -> None:
    # "Linear" (every check of the component) is expected to fail, but its errors check passes: strict xfail.
    pytester.makepyfile(API_TESTS.replace("{EXPECTED}", '{"Linear": "wrongly expected"}'))
    result = pytester.runpytest("-k", "Linear-errors")
    result.assert_outcomes(failed=2)


def test_build_cases_filters_and_names() -> None:
    cases = build_cases("torch", checks=["forward"], keyword="gelu")
    assert [c.id for c in cases] == ["torch-GELU-forward", "torch-gelu-forward"]
    assert repr(cases[0]) == "torch-GELU-forward"
    impl = Implementation("torch")
    assert build_cases(impl, keyword="nn.Linear and errors")[0].impl is impl


def test_case_run_returns_the_outcome_or_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NNSPEC_PROFILE", "ci")
    (errors,) = build_cases("torch", checks=["errors"], keyword="nn.Linear")
    outcome = errors.run()
    assert outcome.status == "passed" and outcome.component == "Linear"

    (missing,) = build_cases("tests.planted.partial_linear", checks=["errors"], keyword="functional.linear")
    with pytest.raises(pytest.skip.Exception, match=r"missing: tests\.planted\.partial_linear has no"):
        missing.run()
    strict = Case(missing.impl, missing.entry, "errors", strict=True)
    with pytest.raises(pytest.fail.Exception, match=r"missing \(strict\)"):
        strict.run()

    (unsupported,) = build_cases("tests.planted.partial_linear", checks=["forward"], keyword="nn.Linear")
    with pytest.raises(pytest.skip.Exception, match=r"unsupported: .*bias=False"):
        unsupported.run()

    failing = Case(Implementation("tests.planted.bug_linear_truncates_input"), spec.get("linear"), "errors")
    with pytest.raises(pytest.fail.Exception, match="did not raise"):
        failing.run()


def test_case_run_skips_a_skipped_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.checks import base

    monkeypatch.delitem(base.REGISTRY, "errors")
    monkeypatch.setattr("conformance.runner.registry", lambda: base.REGISTRY)
    (case,) = build_cases("torch", checks=["errors"], keyword="nn.Linear")
    with pytest.raises(pytest.skip.Exception, match="the harness has no 'errors' check"):
        case.run()


def test_expected_failures_naming_no_selected_case_are_an_error() -> None:
    with pytest.raises(ValueError, match=r"names no selected component or component-check: \['GELU-forward', 'Gelu'\]"):
        parametrize_with_checks(
            "torch",
            checks=["errors"],
            keyword="gelu",
            expected_failures={"Gelu": "misspelt", "GELU-forward": "not selected", "GELU-errors": "fine"},
        )


def test_a_keyword_selecting_nothing_is_an_error_not_an_empty_parameter_set() -> None:
    with pytest.raises(
        ValueError,
        match=r"^keyword='layrnorm' selects none of the \d+ checks; no component or "
        r"check contains 'layrnorm' \(did you mean 'LayerNorm' or 'layer_norm' or 'RMSNorm'\?\)$",
    ):
        parametrize_with_checks("torch", keyword="layrnorm")


def test_parametrize_with_checks_marks() -> None:
    mark = parametrize_with_checks("torch", checks=["errors"], keyword="gelu", expected_failures={"gelu": "why"})
    (argname, params) = mark.args  # type: ignore[attr-defined]
    assert argname == "case"
    assert [p.id for p in params] == ["torch-GELU-errors", "torch-gelu-errors"]
    assert not params[0].marks
    (xfail,) = params[1].marks
    assert xfail.name == "xfail" and xfail.kwargs == {"reason": "why", "strict": True}


def test_the_suite_has_a_test_for_every_check() -> None:
    """tests/test_conformance.py runs each check through its ``test_<check>`` function: one missing is a check
    that the default test run silently never makes."""
    import tests.test_conformance as suite_module

    tested = {name.removeprefix("test_") for name in vars(suite_module) if name.startswith("test_")}
    assert tested == set(spec.CHECKS)


EXAMPLES_TESTS = """
from conformance import parametrize_with_checks

@parametrize_with_checks(
    "tests.planted.bug_gelu_tanh_constant",
    checks=["errors"],
    keyword="gelu or rotary",
    examples=True,
    expected_failures={EXPECTED},
)
def test_conformance(case):
    case.run()
"""


def test_parametrize_with_checks_adds_a_test_per_page_of_the_selected_components(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(EXAMPLES_TESTS.replace("{EXPECTED}", "{}"))
    result = pytester.runpytest("-v", "-rs")
    result.assert_outcomes(passed=2, failed=1, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*[[]tests.planted.bug_gelu_tanh_constant-gelu-examples[]] FAILED*",
            "*[[]tests.planted.bug_gelu_tanh_constant-rotary-examples[]] SKIPPED*",
            '*File "spec/pages/gelu.md", line 78, in gelu (with tests.planted.bug_gelu_tanh_constant)*',
            "*missing: spec/pages/rotary.md uses nn.RotaryEmbedding*",
        ]
    )
    pytester.makepyfile(EXAMPLES_TESTS.replace("{EXPECTED}", '{"gelu-examples": "planted: the tanh constant"}'))
    pytester.runpytest().assert_outcomes(passed=2, xfailed=1, skipped=2)


def test_examples_case_run_returns_the_outcome_fails_or_skips() -> None:
    assert ExamplesCase(Implementation("torch"), "linear").run().status == "passed"
    with pytest.raises(pytest.skip.Exception, match=r"missing: spec/pages/rotary\.md uses nn\.RotaryEmbedding"):
        ExamplesCase(Implementation("torch"), "rotary").run()
    with pytest.raises(pytest.fail.Exception, match=r"missing \(strict\)"):
        ExamplesCase(Implementation("torch"), "rotary", strict=True).run()
    assert repr(ExamplesCase(Implementation("torch"), "rotary")) == "torch-rotary-examples"
