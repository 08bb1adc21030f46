"""Tolerances: torch.testing.assert_close's defaults per dtype, unless an entry's page says why not."""

from __future__ import annotations

from spec.entry import Entry

#: (rtol, atol) by dtype name, the defaults of ``torch.testing.assert_close``.
DEFAULTS: dict[str, tuple[float, float]] = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}


def tolerance(entry: Entry, dtype: str) -> tuple[float, float]:
    """The (rtol, atol) an entry is held to in ``dtype``: never looser than the default without a stated reason."""
    if entry.tolerance is not None and dtype in entry.tolerance.per_dtype:
        return entry.tolerance.per_dtype[dtype]
    return DEFAULTS.get(dtype, (0.0, 0.0))
