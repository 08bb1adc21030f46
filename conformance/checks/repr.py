"""repr: a module prints its settings as torch's does: ``Linear(in_features=2, out_features=3, bias=True)``.

``print(model)`` is how people read a model's configuration and compare two of them; an implementation whose
``extra_repr`` drops or renames a setting misleads that reading even when its numbers are right. Everything after
the class name must match torch's character for character; the name itself is the implementation's own (a
component served under another name, ``mylib.layers:Dense``, prints as ``Dense(...)``).
"""

from __future__ import annotations

from conformance.checks.base import CheckFailed, Context, check
from conformance.checks.calls import build_pair
from spec.entry import Example


@check("repr", examples=lambda entry: entry.examples)
def module_repr(ctx: Context, example: Example | None) -> None:
    """repr() of the module built from the example's constructor arguments equals torch's, but for the class name."""
    assert example is not None
    ref, iut = build_pair(ctx, example)
    actual = ctx.iut(lambda: repr(iut), what="repr()")
    expected = repr(ref)
    name, ref_name = type(iut).__name__, type(ref).__name__
    if not actual.startswith(name):
        raise CheckFailed(f"repr() is {actual!r}; it should start with the class name {name!r}, as torch's does")
    if actual.removeprefix(name) != expected.removeprefix(ref_name):
        raise CheckFailed(f"repr() is {actual!r}; torch's is {expected!r}")
