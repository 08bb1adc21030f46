"""errors: bad input raises an exception (of an accepted type) instead of returning silent garbage."""

from __future__ import annotations

from conformance.checks.base import CheckFailed, Context, ReferenceFailed, Unsupported, check
from conformance.checks.calls import run_both
from spec.entry import Example


@check("errors")
def errors(ctx: Context, example: Example | None) -> None:
    """Every bad input the spec lists raises, on the reference and on the IUT."""
    for case in ctx.entry.errors:
        try:
            run_both(ctx, case.example)
        except ReferenceFailed:
            pass  # expected: the reference rejects it; the IUT is then called by the loop below
        else:
            raise ReferenceFailed(f"the reference accepts the bad input of error case {case.why!r}")
        _expect_iut_raises(ctx, case.why, case.example, case.raises)


def _expect_iut_raises(ctx: Context, why: str, example: Example, raises: tuple[str, ...]) -> None:
    from conformance.checks.calls import build_module  # local: keeps the import graph flat
    from conformance.materialize import Materialized

    init, args, kwargs = Materialized(example).copy()
    try:
        if ctx.entry.kind == "module":
            module = build_module(ctx, example, init, iut=True)
            module(*args, **kwargs)
        else:
            ctx.iut_component()(*args, **kwargs)
    except Unsupported:
        raise
    except NotImplementedError as exc:
        raise Unsupported(f"{why}: {exc}") from None
    except CheckFailed as exc:
        cause = exc.__cause__
        if cause is not None and any(k.__name__ in raises for k in type(cause).__mro__):
            return
        raise CheckFailed(f"bad input ({why}): {exc.message}; expected one of {list(raises)}") from None
    except Exception as exc:
        if any(k.__name__ in raises for k in type(exc).__mro__):
            return
        raise CheckFailed(
            f"bad input ({why}) raised {type(exc).__name__}: {exc}; expected one of {list(raises)}"
        ) from None
    raise CheckFailed(f"bad input ({why}) did not raise; {example.describe()}; expected one of {list(raises)}")
