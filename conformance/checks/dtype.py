"""dtype: the same example in float32 and in float64 keeps the dtype and matches the reference in each."""

from __future__ import annotations

from conformance.checks.base import CheckFailed, Context, check
from conformance.checks.calls import compare_example
from spec.entry import Example


@check("dtype", examples=lambda entry: entry.examples)
def dtype(ctx: Context, example: Example | None) -> None:
    """Float32 and float64 both work, keep their dtype, and match the reference (gradients too)."""
    assert example is not None
    for name in ("float32", "float64"):
        try:
            compare_example(ctx, example.with_dtype(name))
        except CheckFailed as exc:  # the reported example is the drawn one: say which dtype failed
            raise CheckFailed(f"in {name}: {exc.message}", exc.mismatch, exc.example) from exc
