"""``RotaryEmbedding``: rotary position embeddings (RoFormer), in the half-split and the interleaved convention."""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch import Tensor

from impl.nn.functional._autograd import apply
from impl.nn.module import Module

__all__ = ["RotaryEmbedding"]

# Half-precision inputs are rotated in float32 and rounded once.
_UPCAST = (torch.float16, torch.bfloat16)


def _rotate(x: Tensor, cos: Tensor, sin: Tensor, interleaved: bool) -> Tensor:
    """Rotate the pairs of ``x`` (..., T, D) by the angles whose cosines and sines are ``cos``, ``sin`` (T, D/2)."""
    if interleaved:
        x1, x2 = x[..., 0::2], x[..., 1::2]  # (..., T, D/2) each: pairs (2i, 2i+1)
        return torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1).flatten(-2)
    x1, x2 = x.chunk(2, dim=-1)  # pairs (i, i + D/2)
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


class _Rotary(torch.autograd.Function):
    r"""Pairwise rotation :math:`y = R(m)\,x`, :math:`R(m)` block-diagonal with 2x2 blocks
    :math:`\begin{pmatrix}\cos m\theta_i & -\sin m\theta_i\\ \sin m\theta_i & \cos m\theta_i\end{pmatrix}`.

    Derivation. :math:`y` is linear in :math:`x` with Jacobian :math:`R(m)`, so
    :math:`\nabla_x = R(m)^\top \nabla_y`, and :math:`R(m)^\top = R(-m)`: the backward pass is the same rotation
    with the sines negated. Nothing but the (shared) cosine and sine tables is saved.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, cos: Tensor, sin: Tensor, interleaved: bool) -> Tensor:
        ctx.save_for_backward(cos, sin)
        ctx.interleaved = interleaved
        return _rotate(x, cos, sin, interleaved)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, None, None, None]:
        cos, sin = ctx.saved_tensors
        return _rotate(grad_out, cos, -sin, ctx.interleaved), None, None, None


class RotaryEmbedding(Module):
    r"""Rotary position embeddings: rotate pairs of coordinates by angles proportional to the position.

    A vector :math:`x \in \mathbb{R}^d` at position :math:`m` has its pair :math:`i` rotated by :math:`m\theta_i`,
    :math:`\theta_i = \text{base}^{-2i/d}`:

    .. math::
        (y_a, y_b) = (x_a \cos m\theta_i - x_b \sin m\theta_i,\; x_a \sin m\theta_i + x_b \cos m\theta_i)

    with pairs :math:`(a, b) = (i, i + d/2)` (half-split, GPT-NeoX/Llama; the default) or :math:`(2i, 2i+1)`
    (``interleaved``, RoFormer/GPT-J). Applied to queries and keys, it makes :math:`\langle q_m, k_n \rangle` depend
    on the positions only through :math:`m - n`, and it preserves norms.

    Angles are computed as a float32 implementation computes them: :math:`\theta_i` rounded once to the input's
    dtype, :math:`m\theta_i` one multiplication in that dtype; their cosines and sines are tabulated once per dtype
    and device for positions ``0 .. max_seq_len - 1``. The module has no parameters and no state.

    Args:
        head_dim: size of the vectors to rotate; must be even.
        max_seq_len: number of positions; ``offset + time`` must not exceed it.
        base: the wavelength base. Default: ``10000.0``.
        interleaved: rotate pairs ``(2i, 2i+1)`` instead of ``(i, i + head_dim/2)``. Default: ``False``.

    Shape:
        - x: :math:`(B, H, T, \text{head\_dim})` (any leading dimensions), positions ``offset .. offset + T - 1``.
        - Output: same shape as x.

    Example::

        >>> rope = RotaryEmbedding(head_dim=16, max_seq_len=128)
        >>> q = torch.randn(2, 4, 10, 16)                    # (B, nh, T, hs)
        >>> rope(q).shape, rope(q[:, :, -1:], offset=9).shape  # a cached decoding step at position 9
        (torch.Size([2, 4, 10, 16]), torch.Size([2, 4, 1, 16]))
    """

    def __init__(self, head_dim: int, max_seq_len: int, base: float = 10000.0, interleaved: bool = False) -> None:
        super().__init__()
        if isinstance(head_dim, bool) or not isinstance(head_dim, int) or head_dim < 2 or head_dim % 2:
            raise ValueError(f"head_dim must be a positive even int (it is split into pairs), got {head_dim!r}")
        if isinstance(max_seq_len, bool) or not isinstance(max_seq_len, int) or max_seq_len < 1:
            raise ValueError(f"max_seq_len must be a positive int, got {max_seq_len!r}")
        if not base > 0:
            raise ValueError(f"base must be positive, got {base!r}")
        self.head_dim = head_dim
        self.max_seq_len = max_seq_len
        self.base = float(base)
        self.interleaved = interleaved
        # Derived data, not state: rebuilt on demand, so it is neither in state_dict() nor moved by to().
        self._tables: dict[tuple[torch.dtype, torch.device], tuple[Tensor, Tensor]] = {}

    def tables(self, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
        """cos and sin of the angles :math:`m\\theta_i`, each (max_seq_len, head_dim/2), in ``dtype``."""
        key = (dtype, device)
        if key not in self._tables:
            exponent = torch.arange(0, self.head_dim, 2, dtype=torch.float64, device=device) / self.head_dim
            inv_freq = (self.base**-exponent).to(dtype)  # theta_i, rounded once
            positions = torch.arange(self.max_seq_len, dtype=dtype, device=device)
            angles = torch.outer(positions, inv_freq).double()  # m * theta_i in dtype, then exact cos/sin
            self._tables[key] = (angles.cos().to(dtype), angles.sin().to(dtype))
        return self._tables[key]

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        if x.dim() < 2 or x.shape[-1] != self.head_dim:
            raise ValueError(f"expected x of shape (..., time, {self.head_dim}), got {tuple(x.shape)}")
        offset = operator.index(offset)
        time = x.shape[-2]
        if offset < 0 or offset + time > self.max_seq_len:
            raise ValueError(
                f"positions {offset}..{offset + time - 1} are outside 0..{self.max_seq_len - 1} (max_seq_len)"
            )
        dtype = torch.float32 if x.dtype in _UPCAST else x.dtype
        cos, sin = self.tables(dtype, x.device)
        cos, sin = cos[offset : offset + time], sin[offset : offset + time]  # (T, D/2)
        return apply(_Rotary, x.to(dtype), cos, sin, self.interleaved).to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.head_dim}, max_seq_len={self.max_seq_len}, base={self.base}, interleaved={self.interleaved}"
