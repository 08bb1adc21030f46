"""properties: mathematical properties the implementation under test must have, checked on it alone.

Some behaviour has no reference to compare against value by value (a rotary embedding preserves norms; attention
over repeated key/value heads equals grouped-query attention), and some is a rule about how two calls relate (the
bottom-right causal mask of cached decoding). The spec states such rules as *property functions*, listed in
``entry.extra["properties"]``::

    def norms_preserved(subject, *args, **kwargs) -> Iterable[Comparison]:
        '''One line stating the property.'''

``subject`` is the implementation under test's component: a fresh module built from the example's ``init`` (in
its dtype and mode) for a module entry, the function itself otherwise. ``args`` and ``kwargs`` are the example's,
materialized. The property calls the subject as it needs and yields the quantities that must agree:
``(what, actual, expected)`` or ``(what, actual, expected, atol)``; each pair is compared with the entry's
tolerance in the example's dtype, the absolute tolerance raised to ``atol`` where that is larger (a bound the
property's docstring derives, e.g. rounding that grows with position). Examples come from
``entry.extra["property_examples"]`` when given, else from ``entry.examples``. A ``NotImplementedError`` raised
inside makes the setting unsupported, as everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from conformance.checks.base import CheckFailed, Context, check
from conformance.checks.calls import build_module
from conformance.materialize import Materialized
from spec.entry import Entry, Example

Property = Callable[..., Iterable[tuple[Any, ...]]]


def _properties(entry: Entry) -> tuple[Property, ...]:
    props = tuple(entry.extra.get("properties", ()))
    if not props:
        raise ValueError(f"spec entry {entry.name} lists the properties check but has no extra['properties']")
    return props


def _statement(prop: Property) -> str:
    return (prop.__doc__ or prop.__name__).strip().split("\n")[0]


@check("properties", examples=lambda entry: entry.extra.get("property_examples", entry.examples))
def properties(ctx: Context, example: Example | None) -> None:
    """Every property function of the entry holds on the implementation under test."""
    assert example is not None
    mat = Materialized(example, ctx.device)
    for prop in _properties(ctx.entry):
        init, args, kwargs = mat.copy()
        module = ctx.entry.kind == "module"
        subject = build_module(ctx, example, init, iut=True) if module else ctx.iut_component()
        name = prop.__name__
        comparisons = ctx.iut(lambda p=prop, s=subject, a=args, k=kwargs: list(p(s, *a, **k)), what=f"{name}")
        for comparison in comparisons:
            what, actual, expected, *allowance = comparison
            atol = ctx.tolerance(example.dtype)[1]
            scale = max(1.0, float(allowance[0]) / atol) if allowance and atol > 0 else 1.0
            try:
                ctx.expect_close(actual, expected, example.dtype, f"{name}: {what}", scale=scale)
            except CheckFailed as exc:
                raise CheckFailed(f"property violated: {_statement(prop)}\n  {exc.message}", exc.mismatch) from None
