"""stability: extreme values (huge logits, tiny variance, huge or tiny gradients) match the reference too."""

from __future__ import annotations

from conformance.checks.base import Context, check
from conformance.checks.calls import compare_example
from spec.entry import Example


@check("stability", examples=lambda entry: entry.stability)
def stability(ctx: Context, example: Example | None) -> None:
    """Outputs and gradients at extreme magnitudes match the reference's, NaN and inf in the same places."""
    assert example is not None
    compare_example(ctx, example)
