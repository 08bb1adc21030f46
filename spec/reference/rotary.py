r"""Rotary position embeddings (RoFormer, Su et al. 2021), written out with one 2x2 rotation per pair and position.

A vector :math:`x \in \mathbb{R}^d` at position :math:`m` is split into :math:`d/2` pairs; pair :math:`i` is rotated
by the angle :math:`m\,\theta_i` with :math:`\theta_i = \text{base}^{-2i/d}`:

.. math::
    \begin{pmatrix} y_a \\ y_b \end{pmatrix} =
    \begin{pmatrix} \cos m\theta_i & -\sin m\theta_i \\ \sin m\theta_i & \cos m\theta_i \end{pmatrix}
    \begin{pmatrix} x_a \\ x_b \end{pmatrix}

The pairs are :math:`(a, b) = (2i, 2i+1)` in the interleaved convention (RoFormer, GPT-J) and
:math:`(a, b) = (i, i + d/2)` in the half-split convention (GPT-NeoX, Llama).

Angles are evaluated the way a float32 (or float64) implementation evaluates them, so that the comparison measures
the rotation and not the rounding of the angle: :math:`\theta_i` is computed in float64 and rounded once to the
input's dtype, the position is a number of that dtype, and :math:`m\theta_i` is one multiplication in that dtype.
The cosine, the sine and the rotation itself are then evaluated in float64 and the result rounded once. (A float32
angle at position 4000 differs from the exact one by up to ~2.4e-4 rad; evaluating the formula exactly would
compare implementations against a value none of them computes.)
"""

from __future__ import annotations

import math

import torch


def _check(head_dim: int, max_seq_len: int, base: float) -> None:
    if isinstance(head_dim, bool) or not isinstance(head_dim, int) or head_dim < 2 or head_dim % 2:
        raise ValueError(f"head_dim must be a positive even int (it is split into pairs), got {head_dim!r}")
    if isinstance(max_seq_len, bool) or not isinstance(max_seq_len, int) or max_seq_len < 1:
        raise ValueError(f"max_seq_len must be a positive int, got {max_seq_len!r}")
    if not base > 0:
        raise ValueError(f"base must be positive, got {base!r}")


class RotaryEmbedding(torch.nn.Module):
    """The reference: rotate each pair of each position by an explicit rotation matrix.

    Args:
        head_dim: size of the vectors to rotate (even).
        max_seq_len: number of positions; ``offset + time`` must not exceed it.
        base: the wavelength base of the angles. Default: ``10000.0``.
        interleaved: pairs ``(2i, 2i+1)`` if True, else ``(i, i + head_dim/2)``. Default: ``False``.

    Shape:
        - x: (batch, heads, time, head_dim); any leading dimensions work.
        - Output: same as x.
    """

    def __init__(self, head_dim: int, max_seq_len: int, base: float = 10000.0, interleaved: bool = False) -> None:
        super().__init__()
        _check(head_dim, max_seq_len, base)
        self.head_dim, self.max_seq_len, self.base, self.interleaved = head_dim, max_seq_len, base, interleaved

    def pair(self, i: int) -> tuple[int, int]:
        """The two coordinates that pair ``i`` rotates."""
        return (2 * i, 2 * i + 1) if self.interleaved else (i, i + self.head_dim // 2)

    def angle(self, position: int, i: int, dtype: torch.dtype) -> float:
        """m * theta_i, evaluated in ``dtype`` as a float32/float64 implementation does (see the module docstring)."""
        theta = torch.tensor(self.base ** (-2.0 * i / self.head_dim), dtype=torch.float64).to(dtype)
        return float(torch.tensor(position, dtype=dtype) * theta)

    def rotation(self, position: int, i: int, dtype: torch.dtype) -> torch.Tensor:
        """The 2x2 rotation matrix of pair ``i`` at ``position``, in float64."""
        a = self.angle(position, i, dtype)
        return torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64)

    def forward(self, x: torch.Tensor, offset: int = 0) -> torch.Tensor:
        if x.dim() < 2 or x.shape[-1] != self.head_dim:
            raise ValueError(f"expected x of shape (..., time, {self.head_dim}), got {tuple(x.shape)}")
        time = x.shape[-2]
        if offset < 0 or offset + time > self.max_seq_len:
            raise ValueError(
                f"positions {offset}..{offset + time - 1} are outside 0..{self.max_seq_len - 1} (max_seq_len)"
            )
        rows = []
        for t in range(time):
            columns: list[torch.Tensor | None] = [None] * self.head_dim
            for i in range(self.head_dim // 2):
                a, b = self.pair(i)
                r = self.rotation(offset + t, i, x.dtype)
                pair = torch.stack([x[..., t, a], x[..., t, b]], dim=-1).double()  # (..., 2)
                rotated = pair @ r.T  # (..., 2): r @ [x_a, x_b] for every leading index
                columns[a], columns[b] = rotated[..., 0], rotated[..., 1]
            rows.append(torch.stack(columns, dim=-1))  # type: ignore[arg-type]
        return torch.stack(rows, dim=-2).to(x.dtype) if rows else x.clone()

    def extra_repr(self) -> str:
        return f"{self.head_dim}, max_seq_len={self.max_seq_len}, base={self.base}, interleaved={self.interleaved}"
