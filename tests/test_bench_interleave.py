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


def test_without_rounds_warms_up_and_repeats_fast_calls_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(interleave, "_BUDGET_S", 0.05)  # the fewest rounds
    counts = {"fast": 0, "slow": 0}

    def fast() -> None:
        counts["fast"] += 1

    def slow() -> None:
        counts["slow"] += 1
        total = 0
        for i in range(200_000):  # long enough to fill a timed block by itself
            total += i

    bench = FakeBenchmark()
    run_interleaved(bench, "group", {"fast": fast, "slow": slow})
    assert bench.rounds == interleave._MIN_ROUNDS
    assert counts["slow"] == 2 + bench.rounds  # warm-up, sizing call, then one call a round
    assert counts["fast"] > 10 * counts["slow"]  # many calls to a block


def test_setup_runs_untimed_before_every_call() -> None:
    seen: list[tuple[str, int]] = []
    made = {"a": 0}

    def setup() -> tuple[Any, ...]:
        made["a"] += 1
        return (made["a"],)

    bench = FakeBenchmark()
    run_interleaved(bench, "group", {"a": lambda n: seen.append(("a", n))}, setup={"a": setup}, rounds=3)
    assert seen == [("a", 1), ("a", 2), ("a", 3)]  # a fresh argument for every call
