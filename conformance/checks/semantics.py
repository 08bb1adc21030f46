"""semantics: scenarios that exercise an API (``nn.Module``, ``nn.Parameter``) give the same observations as torch.

A semantics entry lists plain functions in ``extra["scenarios"]``; each takes a namespace and returns a list of
``(label, value)`` observations. The namespace holds the components named in ``extra["uses"]``, looked up under
``extra["namespace"]`` (``"nn"`` -> ``nn.Module``, ``nn.Parameter``) in torch for the reference run and in the
implementation under test for the other. Observations are compared in order: plain values with ``==``, tensors by
shape, dtype and value (the entry's tolerance). Every scenario runs; the report names each one that differs and its
first differing observation.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import torch

from conformance.checks.base import CheckFailed, Context, ReferenceFailed, Skipped, Unsupported, check
from conformance.compare import compare
from nnresolve import MissingComponent
from spec import tolerances


def _namespace(ctx: Context, iut: bool) -> types.SimpleNamespace:
    prefix = ctx.entry.extra.get("namespace", "nn")
    found = {}
    for name in ctx.entry.extra.get("uses", ()):
        path = f"{prefix}.{name}"
        if iut:
            found[name] = ctx.get_iut(path)
        else:
            try:
                found[name] = ctx.ref_impl.get(path)
            except MissingComponent as exc:
                raise ReferenceFailed(f"the reference has no {path}: {exc.reason}") from None
    return types.SimpleNamespace(**found)


def _differs(actual: Any, expected: Any, entry_tol: Callable[[str], tuple[float, float]]) -> str | None:
    """Why ``actual`` differs from ``expected`` (None when they agree); recurses into lists, tuples and dicts."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor):
            return f"got {type(actual).__name__} {actual!r}, expected a tensor {expected!r}"
        rtol, atol = entry_tol(str(expected.dtype).removeprefix("torch."))
        mismatch = compare(actual, expected, rtol=rtol, atol=atol, what="tensor")
        return None if mismatch is None else f"{mismatch} (got {actual.detach()!r}, expected {expected.detach()!r})"
    if isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
        if len(actual) != len(expected):
            return f"got {len(actual)} items {_short(actual)}, expected {len(expected)}: {_short(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            why = _differs(a, e, entry_tol)
            if why is not None:
                return f"item {i}: {why}" if len(expected) > 1 else why
        return None
    if isinstance(expected, dict) and isinstance(actual, dict):
        if list(actual) != list(expected):
            return f"got keys {list(actual)}, expected {list(expected)}"
        for key in expected:
            why = _differs(actual[key], expected[key], entry_tol)
            if why is not None:
                return f"[{key!r}]: {why}"
        return None
    try:
        same = bool(actual == expected)
    except Exception as exc:
        return f"got {_short(actual)} that cannot be compared with {_short(expected)} ({type(exc).__name__})"
    return None if same else f"got {_short(actual)}, expected {_short(expected)}"


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _run(ctx: Context, scenario: Callable[[Any], list[tuple[str, Any]]], iut: bool) -> list[tuple[str, Any]]:
    namespace = _namespace(ctx, iut)
    name = scenario.__name__
    if not iut:
        return ctx.ref(scenario, namespace, what=f"scenario {name!r}")
    try:
        return scenario(namespace)
    except NotImplementedError as exc:
        raise Unsupported(f"scenario {name!r}: {exc}") from None
    except Exception as exc:
        raise CheckFailed(f"scenario {name!r} raised {type(exc).__name__}: {exc}") from exc


@check("semantics")
def semantics(ctx: Context, example: object) -> None:
    """Every scenario of the entry observes the same with the implementation as with torch."""
    scenarios = ctx.entry.extra.get("scenarios", ())
    if not scenarios:
        raise Skipped("the entry lists no scenarios")

    def tol(dtype: str) -> tuple[float, float]:
        return tolerances.tolerance(ctx.entry, dtype)

    failures: list[str] = []
    for scenario in scenarios:
        name = scenario.__name__
        expected = _run(ctx, scenario, iut=False)
        try:
            actual = _run(ctx, scenario, iut=True)
        except Unsupported as exc:
            ctx.unsupported.append(str(exc))
            continue
        except CheckFailed as exc:
            failures.append(exc.message)
            continue
        labels = [label for label, _ in expected]
        if [label for label, _ in actual] != labels:
            failures.append(f"scenario {name!r} observed {[lb for lb, _ in actual]}, torch's run observed {labels}")
            continue
        for (label, a), (_, e) in zip(actual, expected, strict=True):
            why = _differs(a, e, tol)
            if why is not None:
                failures.append(f"scenario {name!r}, {label!r}: {why}")
                break
        else:
            ctx.examples_run += 1
    if failures:
        raise CheckFailed(f"{len(failures)} of {len(scenarios)} scenarios differ from torch: " + "; ".join(failures))
