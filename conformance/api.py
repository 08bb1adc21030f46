"""A Python API for your own test suite, in the spirit of scikit-learn's ``parametrize_with_checks``.

Example::

    from conformance import parametrize_with_checks

    @parametrize_with_checks("mylib", expected_failures={"LayerNorm-backward": "fused kernel, known 1e-4 drift"})
    def test_conformance(case):
        case.run()

Every (component, check) becomes one test with the id ``mylib-LayerNorm-backward``, so ``pytest -k layernorm``
selects a component and ``pytest -k backward`` a check. An expected failure is a strict xfail: it must fail, and
the reason shows in the report. With ``examples=True`` the spec pages' examples join them, a test per page
(``mylib-layer_norm-examples``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import pytest

from conformance.examples import ExamplesOutcome, pages_of, run_examples
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
            _not_checked(outcome.status, outcome.message, self.strict)
        if outcome.status == "skipped":
            pytest.skip(outcome.message)
        return outcome


@dataclass
class ExamplesCase:
    """The examples of one spec page, run with one implementation's ``nn`` and ``optim``, runnable from a test."""

    impl: Implementation
    page: str
    strict: bool = False

    @property
    def id(self) -> str:
        return f"{self.impl.name}-{self.page}-examples"

    def __repr__(self) -> str:
        return self.id

    def run(self) -> ExamplesOutcome:
        """Run the page's examples: fails the test on a wrong output; skips when a component is missing unless
        strict."""
        outcome = run_examples(self.impl, self.page)
        if outcome.status == "failed":
            pytest.fail(outcome.message, pytrace=False)
        if outcome.status == "missing":
            _not_checked(outcome.status, outcome.message, self.strict)
        return outcome


def _not_checked(status: str, message: str, strict: bool) -> NoReturn:
    """Skip the test for an unsupported or missing component, or fail it when strict."""
    if strict:
        pytest.fail(f"{status} (strict): {message}", pytrace=False)
    pytest.skip(f"{status}: {message}")


def build_cases(
    implementation: str | Implementation,
    map_file: str | None = None,
    checks: Sequence[str] | None = None,
    keyword: str | None = None,
    strict: bool = False,
    entries: Iterable[Entry] | None = None,
    device: str | None = None,
) -> list[Case]:
    impl = _load(implementation, map_file)
    return [Case(impl, entry, check, strict, device) for entry, check in cases(entries, checks, keyword)]


def _load(implementation: str | Implementation, map_file: str | None) -> Implementation:
    if isinstance(implementation, Implementation):
        return implementation
    return load_implementation(implementation, map_file)


def parametrize_with_checks(
    implementation: str | Implementation,
    *,
    map_file: str | None = None,
    checks: Sequence[str] | None = None,
    keyword: str | None = None,
    strict: bool = False,
    expected_failures: Mapping[str, str] | None = None,
    device: str | None = None,
    examples: bool = False,
) -> Callable[[Any], Any]:
    """Parametrize a test over every (component, check) of the spec for ``implementation``.

    Args:
        implementation: importable module name of the implementation under test (or an ``Implementation``).
        map_file: TOML map of component overrides (``Linear = "mylib.layers:Dense"``).
        checks: only these checks (default: all).
        keyword: a pytest-style ``-k`` expression over "component-check".
        strict: unsupported and missing components fail instead of skipping.
        expected_failures: "Component" or "Component-check" -> reason (or "page-examples", e.g.
            "gelu-examples"); those become strict xfails.
        device: run the numerical checks there, e.g. ``"cuda"`` (default: $NNSPEC_DEVICE, else cpu).
        examples: also a test per spec page showing examples, of the pages of the selected components; each
            runs the page's examples with the implementation's ``nn`` and ``optim`` (an :class:`ExamplesCase`).
    """
    expected = dict(expected_failures or {})
    impl = _load(implementation, map_file)
    built: list[Case | ExamplesCase] = []
    built += build_cases(impl, checks=checks, keyword=keyword, strict=strict, device=device)
    if keyword and not built:  # a misspelt keyword would leave the test with an empty parameter set, skipped
        raise ValueError(nothing_selected(keyword, cli=False))
    if examples:
        pages = pages_of(case.entry for case in built if isinstance(case, Case))
        built += [ExamplesCase(impl, page, strict) for page in pages]
    known = {_key(case) for case in built} | {case.entry.name for case in built if isinstance(case, Case)}
    stale = sorted(set(expected) - known)
    if stale:
        # a misspelt key would otherwise leave its check to fail with no sign that the xfail was meant for it
        raise ValueError(f"expected_failures names no selected component or component-check: {stale}")
    params = []
    for case in built:
        reason = expected.get(_key(case)) or (expected.get(case.entry.name) if isinstance(case, Case) else None)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        params.append(pytest.param(case, id=case.id, marks=marks))
    return pytest.mark.parametrize("case", params)


def _key(case: Case | ExamplesCase) -> str:
    """The ``expected_failures`` key of one case: its id without the implementation."""
    return f"{case.entry.name}-{case.check}" if isinstance(case, Case) else f"{case.page}-examples"
