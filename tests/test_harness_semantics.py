"""The semantics check's comparison of observations, and its outcomes on made-up scenario entries."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import torch

from conformance import run_check
from conformance.checks.semantics import _differs
from nnresolve import Implementation
from spec import Entry
from spec.tolerances import DEFAULTS


def _tol(dtype: str) -> tuple[float, float]:
    return DEFAULTS.get(dtype, (0.0, 0.0))


@pytest.mark.parametrize(
    ("actual", "expected", "why"),
    [
        (torch.ones(2), torch.ones(2), None),
        (torch.ones(2) + 1e-7, torch.ones(2), None),
        ([1, 2], torch.ones(2), "got list [1, 2], expected a tensor tensor([1., 1.])"),
        (torch.zeros(2), torch.ones(2), "tensor: values differ: 2 of 2 elements outside tolerance"),
        ((1, 2), [1, 2], None),
        ([1, 2, 3], [1, 2], "got 3 items [1, 2, 3], expected 2: [1, 2]"),
        ([1, 5], [1, 2], "item 1: got 5, expected 2"),
        ([5], [2], "got 5, expected 2"),
        ({"a": 1, "b": 2}, {"a": 1, "b": 2}, None),
        ({"b": 2, "a": 1}, {"a": 1, "b": 2}, "got keys ['b', 'a'], expected ['a', 'b']"),
        ({"a": 1, "b": 3}, {"a": 1, "b": 2}, "['b']: got 3, expected 2"),
        ("RuntimeError", "KeyError", "got 'RuntimeError', expected 'KeyError'"),
        (torch.ones(2), 1.0, "got tensor([1., 1.]) that cannot be compared with 1.0 (RuntimeError)"),
        ("x" * 400, "y", "got '" + "x" * 296 + "..., expected 'y'"),
    ],
)
def test_differs(actual: Any, expected: Any, why: str | None) -> None:
    got = _differs(actual, expected, _tol)
    if why is None:
        assert got is None
    else:
        assert got is not None and got.startswith(why)


def _scenario_entry(*scenarios: Any, uses: tuple[str, ...] = ("Module",)) -> Entry:
    return Entry(
        name="Scenes",
        path="nn.Module",
        kind="semantics",
        page="module",
        checks=("semantics",),
        extra={"namespace": "nn", "uses": uses, "scenarios": scenarios},
    )


def _impl(**nn: Any) -> Implementation:
    return Implementation(SimpleNamespace(__name__="iut", nn=SimpleNamespace(**nn)))


def counts_children(nn: Any) -> list[tuple[str, Any]]:
    class Box(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Module()

    return [("children", len(list(Box().children())))]


def label_depends_on_module(nn: Any) -> list[tuple[str, Any]]:
    return [("torch" if nn.Module is torch.nn.Module else "other", 1)]


def test_semantics_passes_and_counts_scenarios() -> None:
    outcome = run_check(_impl(Module=torch.nn.Module), _scenario_entry(counts_children), "semantics")
    assert outcome.status == "passed" and outcome.examples == 1


def test_semantics_reports_a_different_observation() -> None:
    class Flat(torch.nn.Module):
        def children(self) -> Any:
            return iter(())

    outcome = run_check(_impl(Module=Flat), _scenario_entry(counts_children), "semantics")
    assert outcome.status == "failed"
    assert (
        outcome.message
        == "1 of 1 scenarios differ from torch: scenario 'counts_children', 'children': got 0, expected 1"
    )


def test_semantics_reports_different_labels() -> None:
    class Other(torch.nn.Module):
        pass

    outcome = run_check(_impl(Module=Other), _scenario_entry(label_depends_on_module), "semantics")
    assert outcome.status == "failed"
    assert "scenario 'label_depends_on_module' observed ['other'], torch's run observed ['torch']" in outcome.message


def test_semantics_without_scenarios_is_skipped() -> None:
    outcome = run_check(_impl(Module=torch.nn.Module), _scenario_entry(), "semantics")
    assert outcome.status == "skipped" and outcome.message == "the entry lists no scenarios"


def test_semantics_with_a_reference_lacking_the_component_is_a_spec_error() -> None:
    entry = _scenario_entry(counts_children, uses=("Module", "NoSuchThing"))
    outcome = run_check(_impl(Module=torch.nn.Module, NoSuchThing=object), entry, "semantics")
    assert outcome.status == "failed"
    assert outcome.message.startswith(
        "spec error (not the implementation's fault): the reference has no nn.NoSuchThing"
    )


def test_semantics_scenario_raising_not_implemented_is_unsupported() -> None:
    class Partial(torch.nn.Module):
        def children(self) -> Any:
            raise NotImplementedError("no traversal")

    outcome = run_check(_impl(Module=Partial), _scenario_entry(counts_children), "semantics")
    assert outcome.status == "unsupported"
    assert outcome.message == "scenario 'counts_children': no traversal"
