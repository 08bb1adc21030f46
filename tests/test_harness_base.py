"""conformance.checks.base and profiles: how examples are drawn, which tolerance applies, and the spec's lookup."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import hypothesis
import pytest
import torch
from hypothesis import strategies as st

import spec
from conformance import profiles, run_check
from conformance.checks.base import Check, CheckFailed, Context, Unsupported, run_body
from nnresolve import Implementation
from spec import Entry, Example, T, Tolerance, tolerances
from spec.strategies import batch_shape, nonempty_batch_shape


def _entry(name: str = "ident", **kwargs: Any) -> Entry:
    values: dict[str, Any] = {
        "name": name,
        "path": "nn.functional.ident",
        "kind": "function",
        "page": "ident",
        "checks": ("forward",),
        "examples": st.builds(lambda seed: Example(args=(T((2,)),), seed=seed), st.integers(0, 2**30)),
        "reference": lambda x: x,
    }
    values.update(kwargs)
    return Entry(**values)


def _context(entry: Entry, settings: hypothesis.settings, impl: Implementation | None = None) -> Context:
    impl = impl or Implementation("torch")
    return Context(entry, impl, Implementation("torch"), settings)


def _drawn(entry: Entry, check: str, settings: hypothesis.settings) -> list[int]:
    seeds: list[int] = []

    def body(ctx: Context, example: Example | None) -> None:
        assert example is not None
        seeds.append(example.seed)

    run_body(_context(entry, settings), Check(check, body, lambda e: e.examples, ""))
    return seeds


def test_derandomized_examples_repeat_run_after_run(ci_settings: hypothesis.settings) -> None:
    first = _drawn(_entry(), "forward", ci_settings)
    assert len(first) == ci_settings.max_examples
    assert _drawn(_entry(), "forward", ci_settings) == first


def test_each_check_and_entry_draws_its_own_examples(ci_settings: hypothesis.settings) -> None:
    forward = _drawn(_entry(), "forward", ci_settings)
    assert _drawn(_entry(), "backward", ci_settings) != forward
    assert _drawn(_entry("other"), "forward", ci_settings) != forward


def test_check_without_strategy_runs_once_with_no_example(ci_settings: hypothesis.settings) -> None:
    calls: list[Example | None] = []
    run_body(_context(_entry(), ci_settings), Check("once", lambda ctx, ex: calls.append(ex), None, ""))
    assert calls == [None]
    run_body(_context(_entry(), ci_settings), Check("none", lambda ctx, ex: calls.append(ex), lambda e: None, ""))
    assert calls == [None, None]


def test_stat_seed_is_fixed_only_when_derandomized(ci_settings: hypothesis.settings) -> None:
    from conformance.checks.base import stat_seed

    assert stat_seed(ci_settings) == 0
    dev = profiles.get("dev")
    assert {stat_seed(dev) for _ in range(5)} != {0}


def test_get_iut_turns_a_missing_helper_component_into_unsupported(ci_settings: hypothesis.settings) -> None:
    ctx = _context(_entry(), ci_settings, Implementation("tests.planted.partial_linear"))
    assert ctx.get_iut("nn.Linear").__module__ == "tests.planted.partial_linear"
    with pytest.raises(Unsupported, match=r"needs nn\.Module, which is missing: "):
        ctx.get_iut("nn.Module")


def test_a_failure_names_the_object_called_even_when_a_map_serves_it(ci_settings: hypothesis.settings) -> None:
    def raises(x: torch.Tensor) -> torch.Tensor:
        raise ValueError("no")

    plain = _context(_entry(), ci_settings, Implementation("tests.planted.partial_linear"))
    assert plain.component == "tests.planted.partial_linear.nn.functional.ident"
    mapped = _context(_entry(), ci_settings, Implementation("torch", {"ident": "mylib.ops:ident"}))
    with pytest.raises(CheckFailed, match=r"^mylib\.ops\.ident raised ValueError: no$"):
        mapped.iut(raises, torch.zeros(1))


def test_expect_close_uses_the_entry_tolerance_scaled_atol(ci_settings: hypothesis.settings) -> None:
    loose = _entry(tolerance=Tolerance({"float32": (1e-3, 1e-3)}, "made up for the test"))
    ctx = _context(loose, ci_settings)
    ctx.expect_close(torch.tensor([1.0005]), torch.tensor([1.0]), "float32", "output")
    with pytest.raises(CheckFailed, match=r"rtol=0\.001, atol=1e-06"):
        ctx.expect_close(torch.tensor([1.01]), torch.tensor([1.0]), "float32", "output", scale=1e-3)


def test_a_value_in_a_less_precise_dtype_gets_that_dtype_tolerance(ci_settings: hypothesis.settings) -> None:
    # A float64 example whose output is float32 (a dtype argument): one float32 rounding is no failure ...
    ctx = _context(_entry(), ci_settings)
    expected = torch.tensor([1000.0 / 3.0], dtype=torch.float32)
    two_ulps = expected + 2 * (torch.nextafter(expected, torch.tensor([1e9])) - expected)  # 6.1e-5 off
    ctx.expect_close(two_ulps, expected, "float64", "output")
    # ... while a float64 value is held to float64's.
    with pytest.raises(CheckFailed):
        ctx.expect_close(two_ulps.double(), expected.double(), "float64", "output")


def test_gradients_through_a_float32_output_get_float32_tolerance(ci_settings: hypothesis.settings) -> None:
    """softmax(x64, dtype=float32): the float64 input's gradient carries float32 rounding."""

    def softmax32(x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(x, -1, dtype=torch.float32)

    def rounded_differently(x: torch.Tensor) -> torch.Tensor:
        return torch.exp(torch.log_softmax(x.float(), -1))

    examples = st.builds(
        lambda seed: Example(args=(T((3, 4), scale=3.0, grad=True),), dtype="float64", seed=seed), st.integers(0, 99)
    )
    entry = _entry(reference=softmax32, examples=examples, checks=("backward",))
    impl = Implementation(
        SimpleNamespace(__name__="iut", nn=SimpleNamespace(functional=SimpleNamespace(ident=rounded_differently)))
    )
    assert run_check(impl, entry, "backward", ci_settings).status == "passed"


def test_profiles() -> None:
    assert profiles.get("ci").derandomize and profiles.get("ci").max_examples == 12
    assert profiles.get("dev").max_examples == 10 and not profiles.get("dev").derandomize
    assert profiles.get("thorough").max_examples == 200
    with pytest.raises(ValueError, match="unknown profile 'fast'; choose one of dev, ci, thorough"):
        profiles.get("fast")


@pytest.mark.parametrize(("env", "expected"), [("ci", 12), ("thorough", 200), ("", 10), ("nonsense", 10)])
def test_profile_from_the_environment(monkeypatch: pytest.MonkeyPatch, env: str, expected: int) -> None:
    monkeypatch.setenv("NNSPEC_PROFILE", env)
    assert profiles.get().max_examples == expected


def test_entry_rejects_unknown_checks() -> None:
    with pytest.raises(ValueError, match=r"spec entry ident: unknown checks \['speed'\]"):
        _entry(checks=("forward", "speed"))


def test_spec_lookup_and_pages() -> None:
    names = [e.name for e in spec.entries()]
    assert len(names) == len(set(names))
    assert spec.get("Linear").path == "nn.Linear"
    with pytest.raises(KeyError, match="no spec entry named 'Dense'"):
        spec.get("Dense")
    page = Path(spec.page_path(spec.get("Linear")))
    assert page.name == "linear.md" and page.parent.name == "pages"


def test_duplicate_entry_names_are_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import spec.components

    (tmp_path / "zz_duplicate.py").write_text("from spec.components.linear import ENTRIES\n")
    monkeypatch.setattr(spec.components, "__path__", [*spec.components.__path__, str(tmp_path)])
    monkeypatch.delitem(__import__("sys").modules, "spec.components.zz_duplicate", raising=False)
    spec.entries.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"spec entries with the same name: \['Linear', 'linear'\]"):
            spec.entries()
    finally:
        monkeypatch.undo()
        spec.entries.cache_clear()
        __import__("sys").modules.pop("spec.components.zz_duplicate", None)
    assert spec.get("Linear")


def test_tolerances() -> None:
    plain = _entry()
    assert tolerances.tolerance(plain, "float32") == (1.3e-6, 1e-5)
    assert tolerances.tolerance(plain, "float64") == (1e-7, 1e-7)
    assert tolerances.tolerance(plain, "int64") == (0.0, 0.0)
    loose = _entry(tolerance=Tolerance({"float32": (1e-4, 1e-4)}, "why"))
    assert tolerances.tolerance(loose, "float32") == (1e-4, 1e-4)
    assert tolerances.tolerance(loose, "float64") == (1e-7, 1e-7)


@hypothesis.given(batch_shape(3), nonempty_batch_shape(2))
@hypothesis.settings(max_examples=30, database=None, derandomize=True)
def test_batch_shapes(any_shape: tuple[int, ...], nonempty: tuple[int, ...]) -> None:
    assert len(any_shape) <= 3 and all(0 <= d <= 8 for d in any_shape)
    assert len(nonempty) <= 2 and all(1 <= d <= 8 for d in nonempty)


def test_reference_weights_follow_the_example_seed(ci_settings: hypothesis.settings) -> None:
    from dataclasses import replace

    from conformance.checks.calls import run_both

    ctx = _context(spec.get("Linear"), ci_settings)
    example = Example(init={"in_features": 3, "out_features": 2}, args=(T((4, 3)),), seed=7)
    first, _ = run_both(ctx, example)
    again, _ = run_both(ctx, example)
    assert torch.equal(first.module.weight, again.module.weight)
    other, _ = run_both(ctx, replace(example, seed=8))
    assert not torch.equal(first.module.weight, other.module.weight)
