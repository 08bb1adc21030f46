"""init: initializers and freshly built modules draw their values from torch's distributions.

Randomness is compared by distribution, never by bitwise agreement of random streams: the reference and the
implementation under test each draw about :data:`conformance.stats.SAMPLES` values, seeded differently (the seeds
follow ``ctx.stat_seed``, fixed under the derandomized CI profile), and :func:`conformance.stats.same_distribution`
decides with a false-alarm rate of :data:`conformance.stats.FALSE_ALARM` per comparison.

Whether a result is random at all is asked of the reference: filled twice under different seeds, does it give the
same tensor? If so (``zeros_``, ``constant_``, a LayerNorm's weight) the implementation must give that tensor too:
exactly when it is constant, within the entry's tolerance otherwise.

For an ``init`` entry, each example is a call ``fn(tensor, *args, **kwargs)``; the call is repeated on the same
tensor until enough values are collected. It must fill the tensor in place and return it, leave it a leaf with its
``requires_grad`` flag (so it works on parameters), and, where ``entry.extra["support"]`` gives an interval, keep
every value inside it. For a ``module`` entry, ``entry.init_example`` is constructed repeatedly and every parameter
and buffer is compared by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from conformance import stats
from conformance.checks.base import CheckFailed, Context, ReferenceFailed, Skipped, check
from conformance.checks.calls import build_module
from conformance.materialize import Materialized
from spec.entry import Example

#: Most calls of an initializer per side: a small tensor gets fewer than SAMPLES values rather than a slow check.
MAX_CALLS = 64
#: Most constructions of a module per side when its smallest random tensor is small (a bias, say) ...
MAX_MODULE_BUILDS = 64
#: ... and most values drawn per side in all those constructions together.
MAX_MODULE_VALUES = 2_000_000


def _seeds(ctx: Context, salt: int) -> tuple[int, int, int]:
    """Seeds for the reference's sample, the IUT's sample and the determinism probe: distinct, reproducible."""
    base = (ctx.stat_seed * 1_000_003 + salt * 7919) % (2**61)
    return base, base + 1, base + 2


@check("init", examples=lambda entry: entry.examples if entry.kind == "init" else None)
def init(ctx: Context, example: Example | None) -> None:
    """Values follow the reference's distribution (KS, mean and variance tests); constant fills match exactly."""
    if ctx.entry.kind == "init":
        assert example is not None
        _check_init_function(ctx, example)
    elif ctx.entry.kind == "module":
        _check_module(ctx)
    else:
        raise Skipped(f"the init check applies to init functions and modules, not to {ctx.entry.kind!r} entries")


# Init functions ------------------------------------------------------------------------------------------------


def _flat(t: torch.Tensor) -> np.ndarray:
    # numpy from here on: torch's intra-op threads cost more than they save on a busy machine at these sizes.
    return t.detach().cpu().reshape(-1).to(torch.float64, copy=True).numpy()


def _fill(ctx: Context, example: Example, iut: bool, seed: int, calls: int) -> np.ndarray:
    """Call the initializer ``calls`` times on one tensor; every value it wrote, flattened, in float64."""
    _, args, kwargs = Materialized(example).copy()
    target, rest = args[0], args[1:]
    fn = ctx.iut_component() if iut else ctx.ref_component()
    call = ctx.iut if iut else ctx.ref
    what = f"{ctx.entry.path}({example.describe()})"
    requires_grad = target.requires_grad
    torch.manual_seed(seed)
    chunks = []
    for i in range(calls):
        out = call(fn, target, *rest, what=what, **kwargs)
        if i == 0 and iut:
            _expect_in_place(out, target, requires_grad)
        chunks.append(_flat(target))
    return np.concatenate(chunks)


def _expect_in_place(out: Any, target: torch.Tensor, requires_grad: bool) -> None:
    if out is not target:
        raise CheckFailed(f"returned {type(out).__name__}, not the tensor it filled (torch returns its argument)")
    if target.requires_grad != requires_grad:
        raise CheckFailed(f"changed requires_grad of the filled tensor from {requires_grad} to {target.requires_grad}")
    if target.grad_fn is not None:
        raise CheckFailed(
            f"left the filled tensor with grad_fn {type(target.grad_fn).__name__}: fill it under torch.no_grad() so "
            "that a parameter stays a leaf"
        )


def _check_init_function(ctx: Context, example: Example) -> None:
    target = example.args[0]
    numel = math.prod(getattr(target, "shape", ()))
    ref_seed, iut_seed, probe_seed = _seeds(ctx, example.seed)
    once = _fill(ctx, example, iut=False, seed=ref_seed, calls=1)
    if numel == 0 or np.array_equal(once, _fill(ctx, example, iut=False, seed=probe_seed, calls=1)):
        got = _fill(ctx, example, iut=True, seed=iut_seed, calls=1)
        _expect_deterministic(ctx, got, once, example.dtype, "filled tensor")
        return

    calls = min(MAX_CALLS, math.ceil(stats.SAMPLES / numel))
    expected = _fill(ctx, example, iut=False, seed=ref_seed, calls=calls)
    got = _fill(ctx, example, iut=True, seed=iut_seed, calls=calls)
    support = ctx.entry.extra.get("support")
    if support is not None:
        lo, hi = support(example)
        slack = 4 * torch.finfo(getattr(torch, example.dtype)).eps * max(abs(lo), abs(hi))
        _expect_within(expected, lo, hi, slack, "the reference", ReferenceFailed)
        _expect_within(got, lo, hi, slack, "filled values", CheckFailed)
    _expect_same_distribution(got, expected, "filled values")


def _expect_within(
    values: np.ndarray, lo: float, hi: float, slack: float, what: str, error: Callable[[str], Exception]
) -> None:
    outside = (values < lo - slack) | (values > hi + slack)
    if outside.any():
        raise error(
            f"{what}: {int(outside.sum())} of {values.size} values lie outside [{lo:.6g}, {hi:.6g}] "
            f"(for example {float(values[outside][0]):.6g}; observed range [{values.min():.6g}, {values.max():.6g}])"
        )


def _expect_deterministic(ctx: Context, got: np.ndarray, expected: np.ndarray, dtype: str, what: str) -> None:
    """A non-random result: exactly equal when constant, else within the entry's tolerance."""
    if expected.size == 0 or (expected == expected[0]).all():
        if not np.array_equal(got, expected):
            value = float(expected[0]) if expected.size else None
            observed = f"values in [{got.min():.6g}, {got.max():.6g}]" if got.size else "no values"
            raise CheckFailed(
                f"{what}: torch fills {expected.size} values with the constant {value!r}; got {got.size} {observed}"
            )
        return
    ctx.expect_close(torch.from_numpy(got), torch.from_numpy(expected), dtype, f"{what} (deterministic in torch)")


def _expect_same_distribution(got: np.ndarray, expected: np.ndarray, what: str) -> None:
    verdict = stats.same_distribution(got, expected)
    if not verdict.same:
        raise CheckFailed(f"{what} are not distributed like torch's: {verdict.describe()}")


# Modules ---------------------------------------------------------------------------------------------------------


def _state(ctx: Context, example: Example, iut: bool, keep: list[str] | None = None) -> dict[str, np.ndarray]:
    """Every parameter and buffer of a freshly built module (or only those in ``keep``), flat, in float64."""
    init, _, _ = Materialized(example).copy()
    module = build_module(ctx, example, init, iut)
    call = ctx.iut if iut else ctx.ref
    named = call(lambda: [*module.named_parameters(), *module.named_buffers()], what="named_parameters/buffers")
    return {name: _flat(t) for name, t in named if keep is None or name in keep}


def _layout(ctx: Context, example: Example, iut: bool) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
    init, _, _ = Materialized(example).copy()
    module = build_module(ctx, example, init, iut)
    call = ctx.iut if iut else ctx.ref
    named = call(lambda: [*module.named_parameters(), *module.named_buffers()], what="named_parameters/buffers")
    return {name: (tuple(t.shape), t.dtype) for name, t in named}


def _check_module(ctx: Context) -> None:
    example = ctx.entry.init_example
    if example is None:
        raise Skipped("the entry gives no init_example to construct")
    ref_seed, iut_seed, probe_seed = _seeds(ctx, 0)

    torch.manual_seed(iut_seed)
    got_layout = _layout(ctx, example, iut=True)
    expected_layout = _layout(ctx, example, iut=False)
    if got_layout != expected_layout:
        missing = sorted(set(expected_layout) - set(got_layout))
        unexpected = sorted(set(got_layout) - set(expected_layout))
        differ = {n: (got_layout[n], expected_layout[n]) for n in got_layout.keys() & expected_layout.keys()}
        differ = {n: v for n, v in differ.items() if v[0] != v[1]}
        raise CheckFailed(
            f"parameters and buffers of {ctx.entry.path}(**{dict(example.init)!r}) differ from torch's: "
            f"missing {missing}, unexpected {unexpected}, (shape, dtype) got vs torch's {differ}"
        )

    torch.manual_seed(probe_seed)
    probe = _state(ctx, example, iut=False)
    torch.manual_seed(ref_seed)
    expected_runs = [_state(ctx, example, iut=False)]
    torch.manual_seed(iut_seed)
    got_runs = [_state(ctx, example, iut=True)]

    random_names = [n for n, t in probe.items() if t.size and not np.array_equal(t, expected_runs[0][n])]
    for name in probe:
        if name not in random_names:
            _expect_deterministic(ctx, got_runs[0][name], expected_runs[0][name], example.dtype, f"{name!r} at init")
    if not random_names:
        return

    # Construct again until the smallest random tensor has enough values, within the limits above.
    smallest = min(probe[n].size for n in random_names)
    total = sum(t.size for t in probe.values())
    builds = max(1, min(MAX_MODULE_BUILDS, MAX_MODULE_VALUES // total, math.ceil(stats.SAMPLES / smallest)))
    small = [n for n in random_names if probe[n].size < stats.SAMPLES]
    torch.manual_seed(ref_seed + 3)
    expected_runs += [_state(ctx, example, iut=False, keep=small) for _ in range(builds - 1)]
    torch.manual_seed(iut_seed + 3)
    got_runs += [_state(ctx, example, iut=True, keep=small) for _ in range(builds - 1)]
    for name in random_names:
        expected = np.concatenate([run[name] for run in expected_runs if name in run])[: stats.SAMPLES]
        got = np.concatenate([run[name] for run in got_runs if name in run])[: stats.SAMPLES]
        _expect_same_distribution(got, expected, f"values of {name!r} at init")
