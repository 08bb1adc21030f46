"""What every check shares: the context it runs in, how it fails, and how it draws examples.

A check is a function ``body(ctx, example)`` registered with :func:`check`. When it names a strategy, the runner
calls it under hypothesis for every drawn example and hypothesis shrinks a failure to a minimal one; otherwise it is
called once with ``example=None``. Calls into the implementation under test go through :meth:`Context.iut`, which
turns ``NotImplementedError`` into *unsupported* and any other exception into a failure; calls into the reference
go through :meth:`Context.ref`, where an exception means the spec itself is wrong. An exception that escapes both
(the harness using an object of the implementation that lacks what it needs: a module without ``.to``) fails the
check too, naming where it was raised, rather than ending the run.
"""

from __future__ import annotations

import io
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import hypothesis
import torch
from hypothesis import strategies as st

from conformance.compare import Mismatch, compare
from nnresolve import Implementation, MissingComponent, describe_exception
from spec import tolerances
from spec.entry import Entry, Example

R = TypeVar("R")


class CheckFailed(AssertionError):
    """The implementation under test departs from the spec."""

    def __init__(self, message: str, mismatch: Mismatch | None = None, example: Example | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.mismatch = mismatch
        self.example = example


class Unsupported(Exception):
    """The implementation raised NotImplementedError for this setting."""


class Skipped(Exception):
    """The check does not apply to this example or implementation."""


class ReferenceFailed(Exception):
    """The reference itself raised or misbehaved: the spec entry is wrong, not the implementation."""


@dataclass
class Context:
    """Everything a check body needs."""

    entry: Entry
    iut_impl: Implementation
    ref_impl: Implementation
    settings: hypothesis.settings
    stat_seed: int = 0
    # Where this check's tensors and modules live (conformance.devices.for_check picks it).
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    unsupported: list[str] = field(default_factory=list)
    examples_run: int = 0

    @property
    def component(self) -> str:
        return self.iut_impl.qualname(self.entry.path)

    def iut_component(self) -> Any:
        return self.iut_impl.get(self.entry.path)

    def ref_component(self) -> Any:
        if self.entry.reference is not None:
            return self.entry.reference
        return self.ref_impl.get(self.entry.path)

    def get_iut(self, path: str) -> Any:
        """Another component of the implementation under test (for example ``nn.Module`` for a layer)."""
        try:
            return self.iut_impl.get(path)
        except MissingComponent as exc:
            raise Unsupported(f"needs {path}, which is missing: {exc.reason}") from None

    def iut(self, fn: Callable[..., R], *args: Any, what: str = "", **kwargs: Any) -> R:
        """Call into the implementation under test."""
        try:
            return fn(*args, **kwargs)
        except NotImplementedError as exc:
            raise Unsupported(f"{what or self.component}: {exc}".rstrip(": ")) from None
        except (CheckFailed, Unsupported, Skipped, ReferenceFailed):
            raise
        except SystemExit as exc:  # not an Exception, but ending the run silently (exit 0, say) would pass it
            raise CheckFailed(f"{what or self.component} raised {describe_exception(exc)}") from exc
        except Exception as exc:
            raise CheckFailed(f"{what or self.component} raised {type(exc).__name__}: {exc}") from exc

    def ref(self, fn: Callable[..., R], *args: Any, what: str = "", **kwargs: Any) -> R:
        """Call into the reference; an exception here is a bug in the spec entry."""
        try:
            return fn(*args, **kwargs)
        except (CheckFailed, Unsupported, Skipped, ReferenceFailed):
            raise
        except Exception as exc:
            raise ReferenceFailed(
                f"the reference {what or self.entry.path} raised {type(exc).__name__}: {exc}"
            ) from exc

    def tolerance(self, dtype: str) -> tuple[float, float]:
        return tolerances.tolerance(self.entry, dtype)

    def expect_close(self, actual: Any, expected: Any, dtype: str, what: str, scale: float = 1.0) -> None:
        """Fail unless ``actual`` matches ``expected`` within the entry's tolerance (atol scaled by ``scale``)."""
        rtol, atol = self.tolerance(dtype)
        if isinstance(expected, torch.Tensor) and expected.is_floating_point():
            # A value that went through another dtype than the example's (a dtype argument) is held to the looser
            # of the two tolerances: its precision is the lesser one.
            other_rtol, other_atol = self.tolerance(str(expected.dtype).removeprefix("torch."))
            rtol, atol = max(rtol, other_rtol), max(atol, other_atol)
        mismatch = compare(actual, expected, rtol=rtol, atol=atol * scale, what=what)
        if mismatch is not None:
            raise CheckFailed(str(mismatch), mismatch)


Body = Callable[[Context, Example | None], None]


@dataclass(frozen=True)
class Check:
    name: str
    body: Body
    examples: Callable[[Entry], st.SearchStrategy[Example] | None] | None
    doc: str


REGISTRY: dict[str, Check] = {}


def check(
    name: str, examples: Callable[[Entry], st.SearchStrategy[Example] | None] | None = None
) -> Callable[[Body], Body]:
    """Register a check body under ``name``; ``examples`` picks the entry's strategy it runs over, if any."""

    def register(body: Body) -> Body:
        REGISTRY[name] = Check(name, body, examples, (body.__doc__ or "").strip().split("\n")[0])
        return body

    return register


def through_checkpoint(state: Any) -> Any:
    """``state`` after ``torch.save`` and ``torch.load(weights_only=True)``: what a checkpoint file gives back."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def escaped(exc: BaseException) -> CheckFailed:
    """The failure for an exception that no call site judged: raised where the harness uses the implementation's
    objects directly (an attribute the IUT lacks, a method with another signature)."""
    return CheckFailed(
        f"the check stopped with {describe_exception(exc)}: the implementation's objects lack or break what the "
        "check uses"
    )


def _judged(ctx: Context, chk: Check, example: Example | None) -> None:
    """``chk.body(ctx, example)``, with an exception that escaped every call site turned into a failure."""
    try:
        chk.body(ctx, example)
    except (CheckFailed, Unsupported, Skipped, ReferenceFailed, hypothesis.errors.HypothesisException):
        raise
    except (Exception, SystemExit) as exc:
        raise escaped(exc) from exc


def run_body(ctx: Context, chk: Check) -> None:
    """Run one check over its examples under hypothesis (or once); raises CheckFailed with the shrunk example."""
    strategy = chk.examples(ctx.entry) if chk.examples is not None else None
    if strategy is None:
        _judged(ctx, chk, None)
        return

    seen_supported = False

    # Derandomized runs seed from the test function, the same for every check: give each (entry, check) its own
    # fixed seed, or forward, backward and dtype would all see the very same examples.
    fixed_seed = zlib.crc32(f"{ctx.entry.name}-{chk.name}".encode()) if ctx.settings.derandomize else None

    @hypothesis.seed(fixed_seed)
    @hypothesis.settings(ctx.settings)
    @hypothesis.given(strategy)
    def over_examples(example: Example) -> None:
        nonlocal seen_supported
        try:
            _judged(ctx, chk, example)
        except Unsupported as exc:
            note = f"{exc} [{example.describe()}]"
            if note not in ctx.unsupported:
                ctx.unsupported.append(note)
            return
        except Skipped:
            return
        except CheckFailed as exc:
            exc.example = example
            raise
        seen_supported = True
        ctx.examples_run += 1

    over_examples()
    if not seen_supported and not ctx.unsupported:
        raise Skipped("no example applied")


def stat_seed(settings: hypothesis.settings) -> int:
    """Seed for statistical checks: fixed when the profile is derandomized (CI), fresh otherwise."""
    return 0 if settings.derandomize else random.SystemRandom().randrange(2**31)
