"""strided: inputs in a non-contiguous layout give the outputs and gradients that contiguous ones do.

Tensors inside a model are often views: attention's heads are a transpose of a projection's output, a weight
may arrive as ``w.T``. torch's operators take any strides; an implementation that calls ``.view`` on its input,
or hands a strided buffer to code that assumes contiguous memory, fails or computes garbage here. Every tensor
of the call (not the module's own parameters) comes as a view with the same values; see
:func:`conformance.materialize.strided`.
"""

from __future__ import annotations

from conformance.checks.base import Context, check
from conformance.checks.calls import compare_example
from spec.entry import Example


@check("strided", examples=lambda entry: entry.examples)
def strided(ctx: Context, example: Example | None) -> None:
    """Non-contiguous inputs: outputs and gradients match the reference's, as for contiguous ones."""
    assert example is not None
    compare_example(ctx, example, strided=True)
