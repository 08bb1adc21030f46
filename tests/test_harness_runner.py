"""conformance.runner and the checks' plumbing, on small made-up entries and implementations.

The entries here are not part of the spec: each names a made-up path (``nn.functional.double``) with its own
reference, and each implementation is a namespace built for the test, so every status (passed, failed,
unsupported, missing, skipped, spec error) can be provoked on purpose.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import hypothesis
import pytest
import torch
from hypothesis import strategies as st

import spec
from conformance import reproduce, run_check, run_suite
from conformance.checks.base import CheckFailed
from conformance.runner import Outcome, cases, load_implementation, repro_snippet, selected
from nnresolve import Implementation
from spec import Entry, ErrorCase, Example, T


def double(x: torch.Tensor) -> torch.Tensor:
    return 2 * x


def _examples(*shapes: tuple[int, ...], grad: bool = True) -> st.SearchStrategy[Example]:
    return st.sampled_from([Example(args=(T(s, grad=grad),), seed=i) for i, s in enumerate(shapes)])


def _entry(**kwargs: Any) -> Entry:
    values: dict[str, Any] = {
        "name": "double",
        "path": "nn.functional.double",
        "kind": "function",
        "page": "double",
        "checks": ("forward", "backward", "dtype", "errors"),
        "examples": _examples((3,), (2, 4)),
        "reference": double,
    }
    values.update(kwargs)
    return Entry(**values)


def implementation(name: str = "fake", **functions: Any) -> Implementation:
    """An implementation whose ``nn.functional`` holds ``functions``."""
    root = SimpleNamespace(__name__=name, nn=SimpleNamespace(functional=SimpleNamespace(**functions)))
    return Implementation(root)


def test_a_correct_function_passes_every_check(ci_settings: hypothesis.settings) -> None:
    impl = implementation(double=lambda x: x + x)
    outcomes = run_suite(impl, entries=[_entry()], settings=ci_settings)
    assert [(o.check, o.status) for o in outcomes] == [
        ("forward", "passed"),
        ("backward", "passed"),
        ("dtype", "passed"),
        ("errors", "passed"),
    ]
    assert outcomes[0].examples > 0 and outcomes[0].seconds > 0
    assert outcomes[0].id == "fake-double-forward"


def test_a_wrong_value_fails_with_the_shrunk_example_and_the_worst_element(ci_settings: hypothesis.settings) -> None:
    def off(x: torch.Tensor) -> torch.Tensor:
        return torch.cat([2 * x[..., :-1], 2 * x[..., -1:] + 1.0], -1)

    outcome = run_check(implementation(double=off), _entry(), "forward", ci_settings)
    assert outcome.status == "failed"
    assert outcome.message.startswith("output: values differ: 1 of 3 elements outside tolerance")
    assert outcome.example == "args=(T((3,), grad=True),), dtype=float32, seed=0"
    assert outcome.mismatch is not None and outcome.mismatch["index"] == (2,)
    assert outcome.mismatch["max_abs"] == pytest.approx(1.0)
    assert outcome.repro is not None and "reproduce('fake', 'double', 'forward', Example(" in outcome.repro
    assert outcome.page is None  # the fake entry has no page to point to


def test_hypothesis_shrinks_a_failure_to_a_minimal_example(ci_settings: hypothesis.settings) -> None:
    entry = _entry(
        examples=st.builds(
            lambda n, seed: Example(args=(T((n,), grad=True),), seed=seed),
            st.integers(1, 64),
            st.integers(0, 2**20),
        )
    )

    def wrong_when_long(x: torch.Tensor) -> torch.Tensor:
        return 2 * x if x.shape[0] < 5 else 3 * x

    outcome = run_check(implementation(double=wrong_when_long), entry, "forward", ci_settings)
    assert outcome.status == "failed"
    assert outcome.example == "args=(T((5,), grad=True),), dtype=float32, seed=0"


def test_a_wrong_gradient_fails_backward_only(ci_settings: hypothesis.settings) -> None:
    class Wrong(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
            return 2 * x

        @staticmethod
        def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
            return 3 * grad

    outcomes = run_suite(implementation(double=Wrong.apply), entries=[_entry()], checks=["forward", "backward"])
    assert [o.status for o in outcomes] == ["passed", "failed"]
    assert outcomes[1].message.startswith("grad of args[0]: values differ")


def test_output_without_graph_fails_backward() -> None:
    outcome = run_check(implementation(double=lambda x: 2 * x.detach()), _entry(), "backward")
    assert outcome.status == "failed"
    assert "does not require grad, but the reference's does (no graph)" in outcome.message


@pytest.mark.parametrize(
    ("double", "returned"),
    [
        (lambda x: (2 * x, x), "a tuple of 2: (a Tensor of shape (3,), a Tensor of shape (3,))"),
        (lambda x: None, "None"),
        (lambda x: 3.0, "a float (3.0)"),
        (lambda x: decimal.Decimal(2), "a decimal.Decimal"),
        (lambda x: [], "a list of 0: ()"),
    ],
    ids=["two-tensors", "none", "float", "other-object", "empty-list"],
)
def test_an_output_that_is_not_the_reference_kind_fails_naming_both(double: Any, returned: str) -> None:
    outcome = run_check(implementation(double=double), _entry(), "forward")
    assert outcome.status == "failed"
    assert outcome.message == f"returned {returned}, where the reference returns a Tensor of shape (3,)"


def test_an_exception_in_the_implementation_is_a_failure_naming_it() -> None:
    def broken(x: torch.Tensor) -> torch.Tensor:
        raise ValueError("no luck")

    outcome = run_check(implementation(double=broken), _entry(), "forward")
    assert outcome.status == "failed"
    assert outcome.message == "fake.nn.functional.double raised ValueError: no luck"


def test_a_component_that_is_not_callable_fails_without_running() -> None:
    outcome = run_check(implementation(double=5), _entry(), "forward")
    assert outcome.status == "failed"
    assert outcome.message == "fake.nn.functional.double is 5 (int), not a class or function"


def test_a_component_whose_module_does_not_import_fails_rather_than_missing(
    write_packages: Callable[[Mapping[str, str]], None],
) -> None:
    # the empty nn/__init__.py imports nn.functional only when a check asks for it
    write_packages({"lazy_broken/nn/functional.py": "def gelu(x, approximate='none'):\n    return x +* 2\n"})
    outcome = run_check(Implementation("lazy_broken"), spec.get("gelu"), "forward")
    assert (outcome.status, outcome.message) == (
        "failed",
        "lazy_broken.nn.functional.gelu could not be loaded: SyntaxError: invalid syntax (functional.py, line 2)",
    )


class _BareGELU:
    """A GELU that is no ``Module``: it computes, but has none of the methods the checks use (``to``, ...)."""

    def __init__(self, approximate: str = "none") -> None:
        pass

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.gelu(x)


def test_an_object_lacking_what_a_check_uses_fails_that_check_not_the_run(ci_settings: hypothesis.settings) -> None:
    bare = Implementation(SimpleNamespace(__name__="bare", nn=SimpleNamespace(GELU=_BareGELU)))
    outcomes = run_suite(bare, [spec.get("GELU")], ["half", "state_dict"], settings=ci_settings)
    assert [o.status for o in outcomes] == ["failed", "failed"]
    half, state = outcomes
    assert half.message == (
        "the check stopped with AttributeError: '_BareGELU' object has no attribute 'to' (at checks/calls.py:"
        f"{_line_of('conformance/checks/calls.py', 'module = call(module.to, dtype_of')}, in build_module): the "
        "implementation's objects lack or break what the check uses"
    )
    assert half.example is not None and half.repro is not None and "reproduce('bare', 'GELU', 'half'" in half.repro
    assert "'_BareGELU' object has no attribute 'state_dict' (at checks/state_dict.py:" in state.message


def _line_of(path: str, text: str) -> int:
    """The line number of the line of ``path`` (from the repository root) that holds ``text``."""
    lines = (Path(__file__).parents[1] / path).read_text().splitlines()
    (number,) = [i for i, line in enumerate(lines, 1) if text in line]
    return number


def test_not_implemented_is_unsupported_not_a_failure() -> None:
    def partial(x: torch.Tensor) -> torch.Tensor:
        if x.dim() > 1:
            raise NotImplementedError("only vectors")
        return 2 * x

    outcome = run_check(implementation(double=partial), _entry(), "forward")
    assert outcome.status == "unsupported"
    assert "fake.nn.functional.double: only vectors [args=(T((2, 4), grad=True),)" in outcome.message
    assert outcome.examples > 0  # the vectors were checked


def test_not_implemented_everywhere_is_unsupported() -> None:
    def nothing(x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    assert run_check(implementation(double=nothing), _entry(), "forward").status == "unsupported"


def test_a_missing_component_is_reported_missing_without_running() -> None:
    outcome = run_check(implementation(triple=double), _entry(), "forward")
    assert outcome.status == "missing"
    assert outcome.message == "fake has no nn.functional.double: fake.nn.functional.double does not exist"
    assert outcome.examples == 0


def test_a_check_the_harness_lacks_is_skipped_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.checks import base

    monkeypatch.delitem(base.REGISTRY, "dtype")
    monkeypatch.setattr("conformance.runner.registry", lambda: base.REGISTRY)
    outcome = run_check(implementation(double=double), _entry(), "dtype")
    assert outcome.status == "skipped"
    assert outcome.message == "the harness has no 'dtype' check"


def test_a_reference_that_raises_is_a_spec_error() -> None:
    def bad_reference(x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("typo in the spec")

    outcome = run_check(implementation(double=double), _entry(reference=bad_reference), "forward")
    assert outcome.status == "failed"
    assert outcome.message.startswith("spec error (not the implementation's fault): the reference")
    assert "typo in the spec" in outcome.message


def test_no_applicable_example_is_skipped() -> None:
    # No input needs a gradient, so there is nothing to backpropagate.
    outcome = run_check(implementation(double=double), _entry(examples=_examples((3,), grad=False)), "backward")
    assert outcome.status == "skipped"
    assert outcome.message == "no example applied"


def test_a_strategy_that_draws_nothing_fails_with_hypothesis_error() -> None:
    outcome = run_check(implementation(double=double), _entry(examples=st.nothing()), "forward")
    assert outcome.status == "failed"
    assert outcome.message.startswith("Unsatisfiable")
    assert outcome.repro == "from conformance import reproduce\nreproduce('fake', 'double', 'forward')"


# errors ------------------------------------------------------------------------------------------------------------


def _strict_double(x: torch.Tensor) -> torch.Tensor:
    if x.dim() != 1:
        raise ValueError(f"expected a vector, got {x.dim()} dimensions")
    return 2 * x


_MATRIX = Example(args=(T((2, 2)),))


def _errors_entry(raises: tuple[str, ...] = ("ValueError",)) -> Entry:
    return _entry(reference=_strict_double, errors=(ErrorCase("a matrix", _MATRIX, raises),))


@pytest.mark.parametrize(
    ("fn", "status", "message"),
    [
        (_strict_double, "passed", ""),
        (
            double,
            "failed",
            "bad input (a matrix) did not raise; args=(T((2, 2)),), dtype=float32, seed=0; expected one",
        ),
        (lambda x: x[5], "failed", "bad input (a matrix) raised IndexError: index 5 is out of bounds"),
        (lambda x: x.not_there, "failed", "bad input (a matrix) raised AttributeError"),
    ],
    ids=["raises", "silent", "wrong-exception", "crash"],
)
def test_errors_check(fn: Any, status: str, message: str) -> None:
    outcome = run_check(implementation(double=fn), _errors_entry(), "errors")
    assert outcome.status == status
    assert outcome.message.startswith(message)
    if status == "failed":
        assert outcome.example is None
        assert outcome.repro == "from conformance import reproduce\nreproduce('fake', 'double', 'errors')"


def test_errors_check_accepts_a_subclass_of_an_accepted_exception() -> None:
    class ShapeError(ValueError):
        pass

    def raises_own(x: torch.Tensor) -> torch.Tensor:
        raise ShapeError("bad shape")

    assert run_check(implementation(double=raises_own), _errors_entry(), "errors").status == "passed"


def test_errors_check_reports_not_implemented_as_unsupported() -> None:
    def unsupported(x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("matrices")

    outcome = run_check(implementation(double=unsupported), _errors_entry(), "errors")
    assert outcome.status == "unsupported"
    assert outcome.message == "a matrix: matrices"


def test_errors_check_calls_an_accepted_bad_input_a_spec_error() -> None:
    outcome = run_check(implementation(double=_strict_double), _errors_entry(), "errors")
    assert outcome.status == "passed"
    lenient = _entry(reference=double, errors=(ErrorCase("a matrix", _MATRIX),))
    for fn in (_strict_double, double):  # whether or not the implementation accepts it too
        outcome = run_check(implementation(double=fn), lenient, "errors")
        assert outcome.status == "failed"
        assert "spec error" in outcome.message and "accepts the bad input of error case 'a matrix'" in outcome.message


# selection, reproduction ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [
        (None, True),
        ("", True),
        ("DOUBLE", True),
        ("double and forward", True),
        ("double and not forward", False),
        ("backward or forward", True),
        ("not (backward or dtype)", True),
        ("functional", True),
        ("Linear", False),
    ],
)
def test_keyword_selection(keyword: str | None, expected: bool) -> None:
    assert selected(_entry(), "forward", keyword) is expected


def test_keyword_that_does_not_parse_is_an_error() -> None:
    with pytest.raises(ValueError, match="cannot parse -k expression 'forward backward'"):
        selected(_entry(), "forward", "forward backward")


def test_cases_follow_spec_order_then_check_order() -> None:
    pairs = [(e.name, c) for e, c in cases([_entry(), _entry(name="twice")], checks=["errors", "forward"])]
    assert pairs == [("double", "forward"), ("double", "errors"), ("twice", "forward"), ("twice", "errors")]
    assert [c for _, c in cases([_entry()], keyword="not errors")] == ["forward", "backward", "dtype"]
    everything = list(cases())
    assert len(everything) == sum(len(e.checks) for e in spec.entries())


def test_describe_lists_message_example_page_and_snippet() -> None:
    outcome = Outcome("m", "C", "forward", "failed", "it broke", example="args=()", repro="line 1\nline 2", page="c.md")
    assert outcome.describe() == (
        "C / forward [m]: FAILED\n  it broke\n  example: args=()\n  spec: c.md\n  reproduce with:\n    line 1\n"
        "    line 2"
    )
    assert Outcome("m", "C", "forward", "missing", "gone").describe() == "C / forward [m]: MISSING\n  gone"


def test_repro_snippet_carries_overrides_and_imports_torch_when_needed() -> None:
    impl = Implementation("torch", {"Linear": "torch"})
    example = Example(kwargs={"dtype": torch.float64})
    snippet = repro_snippet(impl, spec.get("Linear"), "forward", example)
    assert snippet.splitlines() == [
        "from conformance import reproduce",
        "import torch",
        "from spec import Example, T",
        f"reproduce('torch', 'Linear', 'forward', {example!r}, overrides={{'Linear': 'torch'}})",
    ]
    compile(snippet, "<reproduce>", "exec")
    # Without an example the snippet replays the whole check.
    exec(repro_snippet(impl, spec.get("Linear"), "errors", None), {})


def test_reproduce_replays_one_example_or_a_whole_check() -> None:
    example = Example(init={"in_features": 3, "out_features": 2}, args=(T((4, 3), grad=True),))
    reproduce("torch", "Linear", "backward", example)  # returns quietly
    reproduce("torch", "Linear", "errors")
    with pytest.raises(CheckFailed, match="did not raise"):
        reproduce("tests.planted.bug_linear_truncates_input", "linear", "errors")
    with pytest.raises(CheckFailed, match="did not raise"):
        reproduce("torch", "linear", "errors", overrides={"linear": "tests.planted.bug_linear_truncates_input"})
    with pytest.raises(KeyError, match=r"Linear has no check named 'forwrd'; its checks: \['forward', "):
        reproduce("torch", "Linear", "forwrd")


def test_load_implementation_applies_a_map_file(maps_dir: Any) -> None:
    impl = load_implementation("tests.planted.correct_remapped", str(maps_dir / "correct_remapped.toml"))
    assert impl.get("nn.Linear").__name__ == "Dense"
    assert impl.source("nn.functional.linear") == "tests.planted.correct_remapped.functions:affine"
    assert load_implementation("torch").overrides == {}


def test_a_failure_points_to_the_spec_page(ci_settings: hypothesis.settings) -> None:
    """What "correct" means is on the component's page: a failure names the installed file."""

    def softmax(input: torch.Tensor, dim: int | None = None, dtype: torch.dtype | None = None) -> torch.Tensor:
        return torch.softmax(input, dim) + 1e-3

    outcome = run_check(implementation(softmax=softmax), spec.get("softmax"), "forward", ci_settings)
    assert outcome.status == "failed"
    assert outcome.page == spec.page_path(spec.get("softmax")) and Path(outcome.page).is_file()
    assert f"\n  spec: {outcome.page}\n" in outcome.describe()
