"""``benchmarks/interleave.py``: the sides of a benchmark alternate round by round, and each keeps its own median."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from benchmarks import interleave
from benchmarks.interleave import run_interleaved


class FakeBenchmark:
    """The part of pytest-benchmark's fixture that ``run_interleaved`` uses."""

    def __init__(self) -> None:
        self.group: str | None = None
        self.extra_info: dict[str, Any] = {}
        self.rounds = 0

    def pedantic(self, fn: Callable[[], None], rounds: int, iterations: int) -> None:
        assert iterations == 1
        self.rounds = rounds
        for _ in range(rounds):
            fn()


def test_sides_alternate_and_each_keeps_its_median() -> None:
    calls: list[str] = []
    sides = {"torch": lambda: calls.append("torch"), "impl": lambda: calls.append("impl")}
    bench = FakeBenchmark()
    medians = run_interleaved(bench, "group", sides, rounds=4)
    assert calls == ["impl", "torch", "torch", "impl", "impl", "torch", "torch", "impl"]  # order reverses each round
    assert bench.group == "group" and bench.rounds == 4
    assert bench.extra_info["sides"] == medians and set(medians) == {"torch", "impl"}
    assert all(t >= 0.0 for t in medians.values())


class FakeClock:
    """A ``perf_counter`` that advances only when a timed function says it took time: the runner's sizing of blocks
    and rounds is then the same on any machine."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def spend(self, seconds: float) -> None:
        self.now += seconds


def test_without_rounds_warms_up_and_repeats_fast_calls_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(interleave, "perf_counter", clock)
    monkeypatch.setattr(interleave, "_BUDGET_S", 0.05)
    counts = {"fast": 0, "slow": 0}

    def fast() -> None:
        counts["fast"] += 1
        clock.spend(1e-5)  # 200 calls fill a 2 ms block

    def slow() -> None:
        counts["slow"] += 1
        clock.spend(1e-2)  # fills a block by itself

    bench = FakeBenchmark()
    medians = run_interleaved(bench, "group", {"fast": fast, "slow": slow})
    # a round is 200 fast calls (2 ms) and one slow call (10 ms): 0.05 s / 12 ms rounds to 4, below the floor of 5
    assert bench.rounds == interleave._MIN_ROUNDS
    assert counts["slow"] == 2 + bench.rounds  # warm-up, sizing call, then one call a round
    assert counts["fast"] == 2 + 200 * bench.rounds  # warm-up, sizing call, then blocks of 200
    assert medians == pytest.approx({"fast": 1e-5, "slow": 1e-2})  # seconds per call, not per block


def test_rounds_fill_the_budget_up_to_the_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(interleave, "perf_counter", clock)
    bench = FakeBenchmark()
    run_interleaved(bench, "group", {"a": lambda: clock.spend(0.1)})  # 2 s budget / 0.1 s a round
    assert bench.rounds == 20
    run_interleaved(bench, "group", {"a": lambda: clock.spend(1e-6)})  # 2 ms a round would give 1000
    assert bench.rounds == interleave._MAX_ROUNDS


def test_setup_runs_untimed_before_every_call() -> None:
    seen: list[tuple[str, int]] = []
    made = {"a": 0}

    def setup() -> tuple[Any, ...]:
        made["a"] += 1
        return (made["a"],)

    bench = FakeBenchmark()
    run_interleaved(bench, "group", {"a": lambda n: seen.append(("a", n))}, setup={"a": setup}, rounds=3)
    assert seen == [("a", 1), ("a", 2), ("a", 3)]  # a fresh argument for every call


def test_summary_rows_compare_sides_of_a_group() -> None:
    """The summary's impl/torch ratio per group, and each further side (impl with one component from torch)
    against impl; groups without an impl side give no rows."""
    from benchmarks.conftest import other_sides, ratios

    def bench(group: str, sides: dict[str, float]) -> Any:
        return type("Bench", (), {"group": group, "stats": object(), "extra_info": {"sides": sides}})()

    runs = [
        bench("step", {"torch": 2.0, "impl": 3.0, "GELU from torch": 2.5}),
        bench("torch only", {"torch": 1.0}),
    ]
    assert ratios(runs) == [("step", 2.0, 3.0, 1.5)]
    assert other_sides(runs) == [("step", "GELU from torch", 2.5, 3.0)]
