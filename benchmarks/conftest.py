"""Benchmarks run impl and torch side by side; the summary prints impl/torch ratios of the median times.

Each benchmark times its sides ("torch", "impl"; "nanoGPT" for nanoGPT's own code, when it is given) interleaved,
with ``interleave.run_interleaved``, which keeps each side's median in ``extra_info["sides"]``. Everything runs on
one thread so the ratio compares the code, not the scheduling, unless a benchmark's group names another count.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> Any:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def medians(benchmarks: list[Any]) -> dict[str, dict[str, float]]:
    """Median seconds by group, then by side (``extra_info["sides"]``)."""
    by_group: dict[str, dict[str, float]] = defaultdict(dict)
    for bench in benchmarks:
        if bench.stats is not None:
            by_group[bench.group].update(bench.extra_info.get("sides", {}))
    return by_group


def ratios(benchmarks: list[Any]) -> list[tuple[str, float, float, float]]:
    """(group, torch median s, impl median s, impl/torch) for every group that has both sides."""
    return [
        (group, sides["torch"], sides["impl"], sides["impl"] / sides["torch"])
        for group, sides in sorted(medians(benchmarks).items())
        if "impl" in sides and "torch" in sides
    ]


def against_nanogpt(benchmarks: list[Any]) -> list[tuple[str, float, float]]:
    """(group, nanoGPT median s, impl median s) for every group that also ran nanoGPT's own code."""
    return [
        (g, s["nanoGPT"], s["impl"]) for g, s in sorted(medians(benchmarks).items()) if {"nanoGPT", "impl"} <= s.keys()
    ]


def other_sides(benchmarks: list[Any]) -> list[tuple[str, str, float, float]]:
    """(group, side, side median s, impl median s) for every side beyond torch, impl and nanoGPT (variants of
    impl, such as impl with one component from torch)."""
    return [
        (g, side, t, s["impl"])
        for g, s in sorted(medians(benchmarks).items())
        if "impl" in s
        for side, t in s.items()
        if side not in ("torch", "impl", "nanoGPT")
    ]


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    rows = ratios(session.benchmarks)
    if not rows:
        return
    tr = terminalreporter
    tr.section("impl / torch (medians, sides interleaved; one thread unless the group says otherwise)")
    width = max(len(r[0]) for r in rows)
    tr.write_line(f"{'benchmark'.ljust(width)}  {'torch ms':>9}  {'impl ms':>9}  {'ratio':>6}")
    for group, t, i, r in rows:
        tr.write_line(f"{group.ljust(width)}  {t * 1e3:9.3f}  {i * 1e3:9.3f}  {r:6.2f}")
    for group, nanogpt, impl in against_nanogpt(session.benchmarks):
        tr.write_line(f"{group}: nanoGPT {nanogpt * 1e3:.3f} ms, impl/nanoGPT {impl / nanogpt:.2f}")
    for group, side, t, impl in other_sides(session.benchmarks):
        tr.write_line(f"{group}: {side} {t * 1e3:.3f} ms, {(impl - t) * 1e3:+.3f} ms saved against impl")
