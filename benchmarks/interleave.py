"""Timing several implementations of the same work side by side, interleaved round by round."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from time import perf_counter
from typing import Any

# Each timed block of calls lasts about this long, and each benchmark about _BUDGET_S in all (at least _MIN_ROUNDS
# rounds): long enough for stable medians, short enough for the whole suite to take minutes.
_BLOCK_S = 2e-3
_BUDGET_S = 2.0
_MIN_ROUNDS, _MAX_ROUNDS = 5, 300


def run_interleaved(
    benchmark: Any,
    group: str,
    sides: Mapping[str, Callable[..., object]],
    *,
    setup: Mapping[str, Callable[[], tuple[Any, ...]]] | None = None,
    rounds: int | None = None,
) -> dict[str, float]:
    """Time every side's callable in alternation and record each side's median seconds per call.

    A round runs a timed block of calls of each side, in an order that reverses from round to round, so a drift in
    the machine's speed (large on a shared machine) falls on all sides alike rather than on whichever ran last.
    Without ``rounds``, each side is called twice first (a warm-up, then a call that sizes its block to about
    ``_BLOCK_S``) and the rounds fill ``_BUDGET_S``; with ``rounds``, the caller has warmed up and a block is one
    call. ``setup`` (side -> function returning the call's arguments, run untimed) also makes a block one call.
    Returns the medians, also kept in ``extra_info["sides"]``.
    """
    calls = dict.fromkeys(sides, 1)
    if rounds is None:
        per_round = 0.0
        for name, fn in sides.items():
            for _ in range(2):
                args = setup[name]() if setup else ()
                start = perf_counter()
                fn(*args)
                once = perf_counter() - start
            calls[name] = 1 if setup else max(1, round(_BLOCK_S / max(once, 1e-9)))
            per_round += calls[name] * once
        rounds = min(_MAX_ROUNDS, max(_MIN_ROUNDS, round(_BUDGET_S / max(per_round, 1e-9))))
    times: dict[str, list[float]] = {name: [] for name in sides}
    order = list(sides)

    def one_round() -> None:
        order.reverse()
        for name in order:
            fn, n = sides[name], calls[name]
            args = setup[name]() if setup else ()
            start = perf_counter()
            for _ in range(n):
                fn(*args)
            times[name].append((perf_counter() - start) / n)

    benchmark.group = group
    benchmark.pedantic(one_round, rounds=rounds, iterations=1)
    result = {name: statistics.median(ts) for name, ts in times.items()}
    benchmark.extra_info["sides"] = result
    return result
