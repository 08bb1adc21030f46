"""forward: the IUT's outputs equal the reference's for the same arguments, weights and inputs."""

from __future__ import annotations

from conformance.checks.base import Context, check
from conformance.checks.calls import compare_outputs, run_both
from spec.entry import Example


@check("forward", examples=lambda entry: entry.examples)
def forward(ctx: Context, example: Example | None) -> None:
    """Outputs match the reference's in value, shape and dtype."""
    assert example is not None
    ref, iut = run_both(ctx, example)
    compare_outputs(ctx, example, ref, iut)
