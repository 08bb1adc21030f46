"""Compare tensors element by element and describe where and by how much they differ."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Mismatch:
    """How an actual tensor departs from the expected one."""

    what: str
    reason: str
    max_abs: float = 0.0
    max_rel: float = 0.0
    rtol: float = 0.0
    atol: float = 0.0
    index: tuple[int, ...] = ()
    actual: float | None = None
    expected: float | None = None
    bad: int = 0
    total: int = 0
    #: How many of the ``bad`` elements hold a NaN or an infinity that the other side does not have.
    nonfinite: int = 0

    def __str__(self) -> str:
        if not self.total:
            return f"{self.what}: {self.reason}"
        text = f"{self.what}: {self.reason}: {self.bad} of {self.total} elements outside tolerance "
        text += f"(rtol={self.rtol:g}, atol={self.atol:g})"
        if self.nonfinite:
            text += f", {self.nonfinite} of them a NaN or an infinity that the other side does not have"
        # The error sizes are over the elements finite on both sides; with none, there is nothing to measure.
        if not math.isnan(self.max_abs):
            text += f"; largest absolute error {self.max_abs:.3g}, largest relative error {self.max_rel:.3g}"
        return f"{text}; worst at index {list(self.index)}: got {self.actual!r}, expected {self.expected!r}"


def compare(
    actual: object, expected: torch.Tensor, *, rtol: float, atol: float, what: str, check_dtype: bool = True
) -> Mismatch | None:
    """None when ``actual`` matches ``expected`` like ``torch.testing.assert_close`` (NaNs must match in place)."""
    if not isinstance(actual, torch.Tensor):
        return Mismatch(what, f"expected a tensor, got {type(actual).__name__}")
    if actual.shape != expected.shape:
        return Mismatch(what, f"shape {tuple(actual.shape)} differs from the reference's {tuple(expected.shape)}")
    if check_dtype and actual.dtype != expected.dtype:
        return Mismatch(what, f"dtype {actual.dtype} differs from the reference's {expected.dtype}")
    # As assert_close does: a result left on (or moved to) another device is a bug on a GPU run.
    if actual.device != expected.device:
        return Mismatch(what, f"on device {actual.device}, the reference's is on {expected.device}")
    a = actual.detach().to("cpu", torch.float64)
    e = expected.detach().to("cpu", torch.float64)
    if not expected.is_floating_point():
        rtol, atol = 0.0, 0.0
    diff = (a - e).abs()
    nan_a, nan_e = a.isnan(), e.isnan()
    same_inf = (a == e) & e.isinf()
    # An infinite expected value makes rtol * |e| infinite: only the same infinity may match it.
    ok = ((diff <= atol + rtol * e.abs()) & e.isfinite()) | (nan_a & nan_e) | same_inf
    if bool(ok.all()):
        return None
    # Where NaN or an infinity is in the wrong place, that element is the worst.
    score = torch.where(ok, torch.zeros_like(diff), diff.nan_to_num(nan=float("inf"), posinf=float("inf")))
    score = torch.where(~ok & score.isnan(), torch.full_like(score, float("inf")), score)
    flat = int(score.reshape(-1).argmax())
    index = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), e.shape)) if e.dim() else ()
    finite = ~(nan_a | nan_e) & ~(a.isinf() | e.isinf())
    max_abs = float(diff[finite].max()) if bool(finite.any()) else float("nan")
    rel = diff / e.abs().clamp_min(torch.finfo(torch.float64).tiny)
    max_rel = float(rel[finite].max()) if bool(finite.any()) else float("nan")
    return Mismatch(
        what,
        "values differ",
        max_abs=max_abs,
        max_rel=max_rel,
        rtol=rtol,
        atol=atol,
        index=index,
        actual=float(a.reshape(-1)[flat]),
        expected=float(e.reshape(-1)[flat]),
        bad=int((~ok).sum()),
        total=e.numel(),
        nonfinite=int((~ok & ~finite).sum()),
    )
