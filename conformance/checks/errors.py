"""errors: bad input raises an exception (of an accepted type) instead of returning silent garbage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.checks import cache, data, lr_scheduler
from conformance.checks.base import CheckFailed, Context, ReferenceFailed, Unsupported, check
from conformance.checks.calls import call_component, run_both
from conformance.materialize import Materialized, dtype_of
from spec.entry import Example


@check("errors")
def errors(ctx: Context, example: Example | None) -> None:
    """Every bad input the spec lists raises, on the reference and on the IUT."""
    attempt = {"scheduler": _build_schedule, "data": _run_data, "cache": _run_cache}.get(ctx.entry.kind, _call)
    for case in ctx.entry.errors:
        try:
            with lr_scheduler.quiet():
                attempt(ctx, case.example, iut=False)
        except ReferenceFailed:
            pass  # expected: the reference rejects it
        except (CheckFailed, Unsupported):
            # The IUT is only called once the reference has accepted the input: the spec is at fault.
            raise ReferenceFailed(f"the reference accepts the bad input of error case {case.why!r}") from None
        else:
            raise ReferenceFailed(f"the reference accepts the bad input of error case {case.why!r}")
        _expect_iut_raises(ctx, case.why, case.example, case.raises, attempt)


def _direct(fn: Any, *args: Any, what: str = "", **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def _call(ctx: Context, example: Example, iut: bool) -> None:
    """The reference: both sides as the value checks run them (the reference first). The IUT: its call alone,
    as it is, so that what it raises shows."""
    if not iut:
        run_both(ctx, example)
        return
    init, args, kwargs = Materialized(example).copy()
    if ctx.entry.kind == "module":
        cls = ctx.iut_component()
        module = cls(**init)
        if example.dtype != "float32":
            module = module.to(dtype_of(example.dtype))
        if not example.train:
            module.eval()
        module(*args, **kwargs)
    else:
        call_component(ctx, _direct, ctx.iut_component(), args, kwargs)


def _build_schedule(ctx: Context, example: Example, iut: bool) -> None:
    """A schedule over a fresh optimizer; the IUT's constructors are called as they are."""
    lr_scheduler.schedule(ctx, example, lr_scheduler.make_optimizer(ctx, example, iut), iut, direct=iut)


def _run_data(ctx: Context, example: Example, iut: bool) -> None:
    """The example's loader, sampler or split, built and iterated; the IUT's calls are made as they are."""
    data.run_side(ctx, example, iut, direct=iut)


def _run_cache(ctx: Context, example: Example, iut: bool) -> None:
    """The example's cache, built and fed its steps; the IUT's calls are made as they are."""
    cache.run_side(ctx, example, iut, direct=iut)


def _expect_iut_raises(
    ctx: Context, why: str, example: Example, raises: tuple[str, ...], attempt: Callable[[Context, Example, bool], None]
) -> None:
    try:
        attempt(ctx, example, True)
    except (Unsupported, CheckFailed):  # the harness's own verdicts (an optimizer the IUT could not build)
        raise
    except NotImplementedError as exc:
        raise Unsupported(f"{why}: {exc}") from None
    except Exception as exc:
        if any(k.__name__ in raises for k in type(exc).__mro__):
            return
        raise CheckFailed(
            f"bad input ({why}) raised {type(exc).__name__}: {exc}; expected one of {list(raises)}"
        ) from None
    raise CheckFailed(f"bad input ({why}) did not raise; {example.describe()}; expected one of {list(raises)}")
