"""A Python API for your own test suite, in the spirit of scikit-learn's ``parametrize_with_checks``.

Example::

    from conformance import parametrize_with_checks

    @parametrize_with_checks("mylib", expected_failures={"LayerNorm-backward": "fused kernel, known 1e-4 drift"})
    def test_conformance(case):
        case.run()

Every (component, check) becomes one test with the id ``mylib-LayerNorm-backward``, so ``pytest -k layernorm``
selects a component and ``pytest -k backward`` a check. An expected failure is a strict xfail: it must fail, and
the reason shows in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.runner import Outcome, cases, load_implementation, nothing_selected, run_check
from nnresolve import Implementation
from spec.entry import Entry


@dataclass
class Case:
    """One check of one component of one implementation, runnable from a test."""

    impl: Implementation
    entry: Entry
    check: str
    strict: bool = False
    device: str | None = None  # None: $NNSPEC_DEVICE, else cpu

    @property
    def id(self) -> str:
        return f"{self.impl.name}-{self.entry.name}-{self.check}"

    def __repr__(self) -> str:
        return self.id

    def run(self) -> Outcome:
        """Run the check: fails the test on a failure; skips on unsupported/missing unless strict."""
        outcome = run_check(self.impl, self.entry, self.check, device=self.device)
        if outcome.status == "failed":
            pytest.fail(outcome.describe(), pytrace=False)
        if outcome.status in ("unsupported", "missing"):
            if self.strict:
                pytest.fail(f"{outcome.status} (strict): {outcome.message}", pytrace=False)
            pytest.skip(f"{outcome.status}: {outcome.message}")
        if outcome.status == "skipped":
            pytest.skip(outcome.message)
        return outcome


def build_cases(
    implementation: str | Implementation,
    map_file: str | None = None,
    checks: Sequence[str] | None = None,
    keyword: str | None = None,
    strict: bool = False,
    entries: Iterable[Entry] | None = None,
    device: str | None = None,
) -> list[Case]:
    impl = (
        implementation if isinstance(implementation, Implementation) else load_implementation(implementation, map_file)
    )
    return [Case(impl, entry, check, strict, device) for entry, check in cases(entries, checks, keyword)]


def parametrize_with_checks(
    implementation: str | Implementation,
    *,
    map_file: str | None = None,
    checks: Sequence[str] | None = None,
    keyword: str | None = None,
    strict: bool = False,
    expected_failures: Mapping[str, str] | None = None,
    device: str | None = None,
) -> Callable[[Any], Any]:
    """Parametrize a test over every (component, check) of the spec for ``implementation``.

    Args:
        implementation: importable module name of the implementation under test (or an ``Implementation``).
        map_file: TOML map of component overrides (``Linear = "mylib.layers:Dense"``).
        checks: only these checks (default: all).
        keyword: a pytest-style ``-k`` expression over "component-check".
        strict: unsupported and missing components fail instead of skipping.
        expected_failures: "Component" or "Component-check" -> reason; those become strict xfails.
        device: run the numerical checks there, e.g. ``"cuda"`` (default: $NNSPEC_DEVICE, else cpu).
    """
    expected = dict(expected_failures or {})
    built = build_cases(implementation, map_file, checks, keyword, strict, device=device)
    if keyword and not built:  # a misspelt keyword would leave the test with an empty parameter set, skipped
        raise ValueError(nothing_selected(keyword, cli=False))
    known = {case.entry.name for case in built} | {f"{case.entry.name}-{case.check}" for case in built}
    stale = sorted(set(expected) - known)
    if stale:
        # a misspelt key would otherwise leave its check to fail with no sign that the xfail was meant for it
        raise ValueError(f"expected_failures names no selected component or component-check: {stale}")
    params = []
    for case in built:
        reason = expected.get(f"{case.entry.name}-{case.check}") or expected.get(case.entry.name)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    return pytest.mark.parametrize("case", params)
