"""The suite catches planted bugs and passes correct implementations that are written unlike torch.

Each ``tests/planted/bug_*`` module is torch with one bug; its ``COMPONENT`` names the spec entry and its
``CATCHES`` the checks of which at least one must fail. Only those checks run, in order, stopping at the first
failure, on the derandomized ``ci`` profile's examples (a module may ask for more with ``MAX_EXAMPLES``, saying why).
Shrinking is left out here: it can take many seconds per bug and decides nothing about whether the bug is caught
(tests/test_harness_runner.py checks that failures shrink). The failure must be a proper report: component, check,
the example, the error, and a reproduce() snippet that replays it.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType
from typing import Any

import hypothesis
import pytest

import spec
import tests.planted
from conformance import Outcome, reproduce, run_check, run_suite
from conformance.checks import registry
from conformance.checks.base import CheckFailed
from nnresolve import Implementation, load_map_file

BUGS = sorted(m.name for m in pkgutil.iter_modules(tests.planted.__path__) if m.name.startswith("bug_"))


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"tests.planted.{name}")


def test_there_are_enough_planted_bugs_over_every_check_kind() -> None:
    modules = [_load(name) for name in BUGS]
    assert len(modules) >= 25
    for module in modules:
        assert module.__doc__, f"{module.__name__} must say what is wrong"
        assert module.CATCHES, f"{module.__name__} must say which checks catch it"
        assert set(module.CATCHES) <= set(spec.CHECKS), module.__name__
    caught_by = {check for module in modules for check in module.CATCHES}
    missing = set(spec.CHECKS) - caught_by
    assert not missing, f"no planted bug for the checks {sorted(missing)}"


def _run_until_caught(impl: Implementation, module: ModuleType, unshrunk: hypothesis.settings) -> list[Outcome]:
    entry = spec.get(module.COMPONENT)
    settings = hypothesis.settings(unshrunk, max_examples=getattr(module, "MAX_EXAMPLES", unshrunk.max_examples))
    outcomes = []
    for check in module.CATCHES:
        if check not in entry.checks:
            continue
        outcome = run_check(impl, entry, check, settings)
        outcomes.append(outcome)
        if outcome.status == "failed":
            break
    return outcomes


def _bug_params() -> list[Any]:
    """One param per bug; a bug whose module names a ``KNOWN_GAP`` of the spec is a strict xfail until it is caught."""
    params = []
    for name in BUGS:
        gap = getattr(_load(name), "KNOWN_GAP", None)
        marks = [pytest.mark.xfail(reason=f"known gap: {gap}", strict=True)] if gap else []
        params.append(pytest.param(name, id=name.removeprefix("bug_"), marks=marks))
    return params


@pytest.mark.parametrize("name", _bug_params())
def test_planted_bug_is_caught(name: str, ci_settings_unshrunk: hypothesis.settings) -> None:
    module = _load(name)
    if module.COMPONENT not in {e.name for e in spec.entries()}:
        pytest.skip(f"no spec entry {module.COMPONENT!r} yet")
    ready = [c for c in module.CATCHES if c in registry() and c in spec.get(module.COMPONENT).checks]
    if not ready:
        pytest.skip(f"none of {module.CATCHES} is a check of {module.COMPONENT} yet")
    impl = Implementation(f"tests.planted.{name}")
    outcomes = _run_until_caught(impl, module, ci_settings_unshrunk)
    failed = [o for o in outcomes if o.status == "failed"]
    assert failed, f"{name} was not caught:\n" + "\n".join(f"{o.check}: {o.status} {o.message}" for o in outcomes)

    outcome = failed[0]
    assert not outcome.message.startswith("spec error"), outcome.message
    assert outcome.component == module.COMPONENT
    assert outcome.check in module.CATCHES
    report = outcome.describe()
    assert f"{module.COMPONENT} / {outcome.check} [tests.planted.{name}]: FAILED" in report
    assert outcome.message in report
    assert outcome.repro is not None and outcome.repro in "\n".join(line.strip() for line in report.splitlines())
    assert f"reproduce('tests.planted.{name}', '{module.COMPONENT}', '{outcome.check}'" in outcome.repro
    draws = registry()[outcome.check].examples
    if draws is not None and draws(spec.get(module.COMPONENT)) is not None:
        # Checks that draw examples name the (shrunk) one; the others describe the bad input in the message.
        assert outcome.example is not None and f"example: {outcome.example}" in report

    # The snippet replays the failure.
    with pytest.raises(CheckFailed):
        exec(outcome.repro, {})  # the snippet is the harness's own output, built from the example's repr


#: Checks that report a false alarm for an implementation more accurate than torch: at extreme magnitudes the
#: comparison is with torch's own float32 rounding, which is further from the exact value than the tolerance.
#: A value mismatch there is tolerated (an exception or any other check's failure is not).
KNOWN_FALSE_ALARMS: dict[tuple[str, str, str], str] = {
    # e.g. in_features=5, x ~ 1e6: torch's float32 output -9057.68 is 2.5e-6 from the exact -9057.66 (cancellation)
    ("correct_float64_math", "Linear", "stability"): "torch's float32 sums of 1e6-sized terms that cancel",
}


def _correct_impl(name: str, repo_root: Path) -> tuple[Implementation, tuple[str, ...]]:
    module = importlib.import_module(f"tests.planted.{name}")
    overrides = load_map_file(repo_root / "tests" / "maps" / f"{name}.toml") if name == "correct_remapped" else None
    return Implementation(f"tests.planted.{name}", overrides), module.COVERS


def _correct_cases() -> list[Any]:
    params = []
    for name in ("correct_float64_math", "correct_remapped"):
        module = importlib.import_module(f"tests.planted.{name}")
        for component in module.COVERS:
            reason = {c: r for (n, comp, c), r in KNOWN_FALSE_ALARMS.items() if n == name and comp == component}
            params.append(pytest.param(name, component, reason, id=f"{name}-{component}"))
    return params


@pytest.mark.parametrize(("name", "component", "false_alarms"), _correct_cases())
def test_correct_implementation_passes(
    name: str, component: str, false_alarms: dict[str, str], ci_settings: hypothesis.settings, repo_root: Path
) -> None:
    if component not in {e.name for e in spec.entries()}:
        pytest.skip(f"no spec entry {component!r} yet")
    impl, _ = _correct_impl(name, repo_root)
    outcomes = run_suite(impl, entries=[spec.get(component)], settings=ci_settings)
    assert outcomes
    tolerated = [
        o for o in outcomes if o.check in false_alarms and o.mismatch and o.mismatch["reason"] == "values differ"
    ]
    failed = [o for o in outcomes if o.status == "failed" and o not in tolerated]
    assert not failed, "\n\n".join(o.describe() for o in failed)
    assert all(o.status in ("passed", "skipped", "failed") for o in outcomes), [(o.check, o.status) for o in outcomes]


@pytest.mark.parametrize("name", ["correct_float64_math", "correct_remapped"])
def test_correct_implementation_reports_what_it_lacks_as_missing(name: str, repo_root: Path) -> None:
    impl, covers = _correct_impl(name, repo_root)
    # Missing components are found without running anything, so the whole spec is cheap here.
    lacking = [e for e in spec.entries() if e.name not in covers]
    assert lacking
    for outcome in run_suite(impl, entries=lacking):
        assert outcome.status == "missing", outcome.describe()
        assert outcome.message.startswith(f"tests.planted.{name} has no ")


def test_reproduce_passes_quietly_where_the_implementation_is_right() -> None:
    entry = spec.get("Linear")
    example = spec.Example(init={"in_features": 3, "out_features": 2}, args=(spec.T((4, 3), grad=True),))
    reproduce("tests.planted.correct_float64_math", entry.name, "backward", example)  # returns quietly
    with pytest.raises(CheckFailed, match="output"):
        reproduce("tests.planted.bug_linear_bias_twice", entry.name, "forward", example)
