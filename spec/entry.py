"""The shape of a spec entry: what the harness needs to know about one component.

An entry is data. It names the component (``path``, as torch lays it out), says which generic checks apply, and
gives hypothesis strategies that draw :class:`Example` values: constructor arguments, call arguments and a seed.
Tensors inside an example are :class:`T` placeholders (shape, how to fill it, whether it needs a gradient); the
harness turns them into real tensors from the example's seed, identically for the reference and for the
implementation under test. So a failure is reported, shrunk and replayed as plain data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from hypothesis import strategies as st

Kind = Literal["module", "function", "init", "optimizer", "scheduler", "data", "cache", "semantics"]
Fill = Literal["normal", "uniform", "index", "probs", "ones", "zeros", "bool"]

#: Every check a spec entry may list, in scorecard order.
CHECKS: tuple[str, ...] = (
    "forward",
    "backward",
    "no_grad",
    "strided",
    "half",
    "parameters",
    "state_dict",
    "repr",
    "init",
    "dtype",
    "stability",
    "errors",
    "random_mask",
    "semantics",
    "batches",
    "decoding",
    "trajectory",
    "resume",
    "properties",
)


#: The checks that call a component on the drawn examples and compare its outputs and gradients with the
#: reference's: as given, without a graph, with non-contiguous inputs and in half precision. Every operator's
#: entry lists them.
CALL_CHECKS: tuple[str, ...] = ("forward", "backward", "no_grad", "strided", "half")


def _literal(value: Any) -> str:
    """``repr`` that stays valid Python for the floats whose repr is not (inf, nan)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


@dataclass(frozen=True)
class T:
    """A tensor placeholder inside an :class:`Example`.

    Args:
        shape: the tensor's shape.
        fill: ``normal`` (mean 0, std ``scale``, shifted by ``low``), ``uniform`` in [low, high), ``index`` (int64 in
            [low, high)), ``probs`` (non-negative, summing to 1 over ``dim``), ``ones``, ``zeros``, ``bool``
            (True with probability ``high``).
        dtype: None for the example's floating dtype; else a torch dtype name such as ``"int64"``.
        grad: whether the tensor is a leaf that needs a gradient (floating tensors only).
    """

    shape: tuple[int, ...]
    fill: Fill = "normal"
    low: float = 0.0
    high: float = 1.0
    scale: float = 1.0
    dim: int = -1
    dtype: str | None = None
    grad: bool = False

    def __repr__(self) -> str:
        # Only the fields that differ from the defaults, as keywords: short, and valid Python for a repro snippet.
        defaults = T(())
        changed = [
            f"{name}={_literal(getattr(self, name))}"
            for name in ("fill", "low", "high", "scale", "dim", "dtype", "grad")
            if getattr(self, name) != getattr(defaults, name)
        ]
        return f"T({', '.join([repr(tuple(self.shape)), *changed])})"


@dataclass(frozen=True)
class Example:
    """One concrete case: everything needed to replay a check.

    For a ``module`` entry, ``init`` holds constructor arguments and ``args``/``kwargs`` the forward call; for a
    ``function`` or ``init`` entry, ``args``/``kwargs`` are the call; for an ``optimizer`` entry ``init`` holds the
    hyperparameters and ``extra`` the parameter shapes and gradient schedule.
    """

    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    init: Mapping[str, Any] = field(default_factory=dict)
    dtype: str = "float32"
    seed: int = 0
    train: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)

    def with_dtype(self, dtype: str) -> Example:
        return replace(self, dtype=dtype)

    def describe(self) -> str:
        parts = []
        if self.init:
            parts.append(f"init={dict(self.init)!r}")
        parts.append(f"args={self.args!r}")
        if self.kwargs:
            parts.append(f"kwargs={dict(self.kwargs)!r}")
        parts.append(f"dtype={self.dtype}")
        parts.append(f"seed={self.seed}")
        if not self.train:
            parts.append("mode=eval")
        if self.extra:
            parts.append(f"extra={dict(self.extra)!r}")
        return ", ".join(parts)


@dataclass(frozen=True)
class ErrorCase:
    """A bad input that must raise. ``raises`` lists the accepted exception types (by name)."""

    why: str
    example: Example
    raises: tuple[str, ...] = ("ValueError", "RuntimeError", "IndexError", "TypeError")


@dataclass(frozen=True)
class Tolerance:
    """An explicit (rtol, atol) per dtype name, with the reason the spec page gives for it."""

    per_dtype: Mapping[str, tuple[float, float]]
    why: str


@dataclass(frozen=True)
class Entry:
    """One component of the spec.

    Args:
        name: the component's id in test ids and on the scorecard (``"LayerNorm"``, ``"layer_norm"``).
        path: where the component lives inside an implementation, torch's layout (``"nn.LayerNorm"``).
        kind: how it is called: ``module`` (constructed, then called), ``function``, ``init`` (fills a tensor in
            place), ``optimizer``, ``scheduler`` (a learning-rate schedule over an optimizer), ``data`` (a
            dataset, sampler or loader of ``utils.data``, iterated), ``cache`` (a key/value cache, fed a decoding
            run's steps) or ``semantics`` (scenario-based, e.g. ``nn.Module`` itself).
        page: the readable page, ``spec/pages/<page>.md``.
        checks: which generic checks apply.
        examples: draws examples for the value checks (forward, backward, dtype, ...).
        reference: None to compare against the same path in torch; else a callable (or class) that is the
            reference, for components torch lacks.
        errors: bad inputs that must raise.
        stability: draws examples with extreme values (huge logits, tiny variance).
        init_example: the example whose constructor arguments make a module large enough for init statistics.
        tolerance: a looser tolerance than torch.testing.assert_close's defaults, with the page's reason.
        extra: entry-specific data for the checks that need it (e.g. how to pass ``p`` to a dropout-like op,
            the scenarios of a semantics entry).
    """

    name: str
    path: str
    kind: Kind
    page: str
    checks: tuple[str, ...]
    examples: st.SearchStrategy[Example] | None = None
    reference: Callable[..., Any] | None = None
    errors: tuple[ErrorCase, ...] = ()
    stability: st.SearchStrategy[Example] | None = None
    init_example: Example | None = None
    tolerance: Tolerance | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [c for c in self.checks if c not in CHECKS]
        if unknown:
            raise ValueError(f"spec entry {self.name}: unknown checks {unknown}; known: {CHECKS}")
