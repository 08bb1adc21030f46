"""RotaryEmbedding: rotary position embeddings, which torch lacks. The page is spec/pages/rotary.md.

The reference is the plain implementation in spec/reference/rotary.py. Value checks keep positions below 32, where
float32 angles of any sound evaluation agree to ~4e-6 rad, inside the default tolerance; the ``properties`` check
(norms preserved, dot products depending only on relative position, offsets continuing a sequence) runs the
implementation alone at positions up to 2048 and allows for the float32 angle error there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from hypothesis import strategies as st

from spec.entry import CALL_CHECKS, Entry, ErrorCase, Example, T
from spec.reference.rotary import RotaryEmbedding as Reference
from spec.strategies import float_dtypes, seeds

Comparison = tuple[Any, ...]

_head_dim = st.integers(1, 8).map(lambda n: 2 * n)  # 2..16, even
_base = st.sampled_from([10000.0, 10000.0, 500000.0, 10.0])


@st.composite
def _examples(draw: st.DrawFn) -> Example:
    head_dim, max_seq_len = draw(_head_dim), draw(st.integers(1, 32))
    time = draw(st.integers(0, min(8, max_seq_len)))
    offset = draw(st.integers(0, max_seq_len - time))
    lead = draw(st.sampled_from([(), (3,), (2, 3)])) if draw(st.booleans()) else (draw(st.integers(0, 2)), 3)
    return Example(
        init={
            "head_dim": head_dim,
            "max_seq_len": max_seq_len,
            "base": draw(_base),
            "interleaved": draw(st.booleans()),
        },
        args=(T((*lead, time, head_dim), grad=True),),
        kwargs={"offset": offset} if offset or draw(st.booleans()) else {},
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


@st.composite
def _property_examples(draw: st.DrawFn) -> Example:
    """Queries and keys (B, H, T, D) and a shift; positions reach max_seq_len - 1, up to 2047."""
    head_dim, time = draw(_head_dim), draw(st.integers(1, 8))
    max_seq_len = draw(st.sampled_from([16, 64, 2048]))
    shift = draw(st.integers(0, max_seq_len - time))
    return Example(
        init={"head_dim": head_dim, "max_seq_len": max_seq_len, "interleaved": draw(st.booleans())},
        args=(T((2, 2, time, head_dim)), T((2, 2, time, head_dim))),
        kwargs={"shift": shift},
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


def _angle_error(x: torch.Tensor, positions: int) -> float:
    """An absolute bound on what float32 angle rounding moves a rotated vector at ``positions``: |x| m 2**-22."""
    if x.dtype != torch.float32:
        return 0.0
    return float(x.norm(dim=-1).max()) * positions * 2.0**-22


def norms_preserved(rope: Any, q: torch.Tensor, k: torch.Tensor, shift: int) -> Iterator[Comparison]:
    """Each rotated vector has the norm of the original (a rotation is orthogonal), at any offset."""
    for offset in (0, shift):
        yield f"norms at offset {offset}", rope(q, offset=offset).norm(dim=-1), q.norm(dim=-1)


def relative_position(rope: Any, q: torch.Tensor, k: torch.Tensor, shift: int) -> Iterator[Comparison]:
    """q_m . k_n depends on the positions only through m - n: shifting both by s leaves every dot product.

    In float32 the angles m * theta_i are rounded, so the dot products move by up to |q| |k| (m + s) 2**-22; that
    is the absolute tolerance added (0 in float64).
    """
    time = q.shape[-2]
    at_zero = rope(q) @ rope(k).transpose(-2, -1)  # (B, H, T, T): positions m, n in 0..T-1
    shifted = rope(q, offset=shift) @ rope(k, offset=shift).transpose(-2, -1)  # positions m + s, n + s
    allowance = _angle_error(q, time + shift) * float(k.norm(dim=-1).max()) * 2
    yield f"dot products shifted by {shift}", shifted, at_zero, allowance


def offset_continues(rope: Any, q: torch.Tensor, k: torch.Tensor, shift: int) -> Iterator[Comparison]:
    """Rotating the last positions alone with ``offset`` equals rotating the whole sequence (cached decoding)."""
    time = q.shape[-2]
    for start in range(time):
        yield f"positions {start}.. with offset {start}", rope(q[..., start:, :], offset=start), rope(q)[..., start:, :]


def zero_offset_is_identity(rope: Any, q: torch.Tensor, k: torch.Tensor, shift: int) -> Iterator[Comparison]:
    """Position 0 has angle 0: its vectors are unchanged."""
    yield "position 0", rope(q[..., :1, :]), q[..., :1, :]


ENTRIES = [
    Entry(
        name="RotaryEmbedding",
        path="nn.RotaryEmbedding",
        kind="module",
        page="rotary",
        checks=(*CALL_CHECKS, "parameters", "state_dict", "dtype", "errors", "properties"),
        examples=_examples(),
        reference=Reference,
        errors=(
            ErrorCase("odd head_dim", Example(init={"head_dim": 5, "max_seq_len": 8}, args=(T((1, 1, 2, 5)),))),
            ErrorCase(
                "input's last dimension differs from head_dim",
                Example(init={"head_dim": 4, "max_seq_len": 8}, args=(T((1, 1, 2, 6)),)),
            ),
            ErrorCase(
                "positions beyond max_seq_len",
                Example(init={"head_dim": 4, "max_seq_len": 8}, args=(T((1, 1, 3, 4)),), kwargs={"offset": 6}),
            ),
            ErrorCase(
                "negative offset",
                Example(init={"head_dim": 4, "max_seq_len": 8}, args=(T((1, 1, 3, 4)),), kwargs={"offset": -1}),
            ),
        ),
        extra={
            "properties": (norms_preserved, relative_position, offset_continues, zero_offset_is_identity),
            "property_examples": _property_examples(),
        },
    ),
]
