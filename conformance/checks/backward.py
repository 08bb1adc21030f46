"""backward: gradients of every input and parameter match under a random upstream gradient."""

from __future__ import annotations

from conformance.checks.base import Context, check
from conformance.checks.calls import backward_both, compare_outputs, run_both
from spec.entry import Example


@check("backward", examples=lambda entry: entry.examples)
def backward(ctx: Context, example: Example | None) -> None:
    """Input and parameter gradients match the reference's under the same random upstream gradient."""
    assert example is not None
    ref, iut = run_both(ctx, example)
    compare_outputs(ctx, example, ref, iut)
    backward_both(ctx, example, ref, iut)
