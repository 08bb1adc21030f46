"""no_grad: under ``torch.no_grad()`` (evaluation, sampling) the outputs match the reference's and carry no graph.

An implementation may take another path without a graph (ours skips building the autograd node and the
derivative, and evaluates some forms differently); the forward check never sees that path, since its inputs
require gradients. Here the same examples run with gradients disabled on both sides.
"""

from __future__ import annotations

import torch

from conformance.checks.base import CheckFailed, Context, check
from conformance.checks.calls import compare_outputs, run_both
from spec.entry import Example


@check("no_grad", examples=lambda entry: entry.examples)
def no_grad(ctx: Context, example: Example | None) -> None:
    """Under torch.no_grad(), outputs match the reference's in value, shape and dtype, and need no gradient."""
    assert example is not None
    with torch.no_grad():
        ref, iut = run_both(ctx, example)
    compare_outputs(ctx, example, ref, iut)
    for i, (r, a) in enumerate(zip(ref.outputs, iut.outputs, strict=True)):
        if a.requires_grad and not r.requires_grad:
            what = "the output" if len(ref.outputs) == 1 else f"output {i}"
            raise CheckFailed(
                f"{what} requires grad under torch.no_grad() (grad_fn {type(a.grad_fn).__name__}); "
                "the reference's does not: a graph was built where none may be"
            )
