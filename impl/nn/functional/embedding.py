"""``embedding``: a table lookup, with a hand-derived backward pass."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from impl.nn.functional._autograd import apply

__all__ = ["embedding"]

_INDEX_DTYPES = (torch.int64, torch.int32)


class _Embedding(torch.autograd.Function):
    r"""Row lookup :math:`y_{i,:} = W_{x_i,:}` for a flat index vector :math:`x` of length :math:`M`.

    Derivation. Each output row is a copy of one table row, so

    .. math::
        \frac{\partial L}{\partial W_{r,:}} = \sum_{i : x_i = r} s_i\, G_{i,:},

    a scatter-add of the upstream rows :math:`G_{i,:}` into the rows they were read from (``index_add_``), with
    :math:`s_i = 1` by default and :math:`s_i = 1 / |\{j : x_j = x_i\}|` with ``scale_grad_by_freq`` (each row's
    gradient divided by how often its index occurs in the batch). The ``padding_idx`` row is a constant: its
    gradient is zero. The indices are not differentiable.
    """

    @staticmethod
    def forward(ctx: Any, weight: Tensor, indices: Tensor, padding_idx: int, scale_grad_by_freq: bool) -> Tensor:
        flat = indices.reshape(-1)  # (M,)
        out = weight.index_select(0, flat)  # (M, D)
        ctx.save_for_backward(flat)
        ctx.num_weights = weight.shape[0]
        ctx.padding_idx = padding_idx
        ctx.scale_grad_by_freq = scale_grad_by_freq
        return out.view(*indices.shape, weight.shape[1])

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, None, None, None]:
        if not ctx.needs_input_grad[0]:
            return None, None, None, None
        (flat,) = ctx.saved_tensors
        g2d = grad_out.reshape(flat.shape[0], grad_out.shape[-1])  # (M, D)
        if ctx.scale_grad_by_freq:
            counts = torch.bincount(flat, minlength=ctx.num_weights)  # (V,)
            g2d = g2d / counts.index_select(0, flat).unsqueeze(1).to(g2d.dtype)
        grad_weight = torch.zeros(ctx.num_weights, g2d.shape[1], dtype=g2d.dtype, device=g2d.device)
        grad_weight.index_add_(0, flat, g2d)
        if ctx.padding_idx >= 0:
            grad_weight[ctx.padding_idx] = 0
        return grad_weight, None, None, None


def _renorm_(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, each referenced row whose ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm``."""
    with torch.no_grad():
        rows_idx = indices.reshape(-1).unique()
        rows = weight.index_select(0, rows_idx)  # (U, D)
        # The factor is formed in float64 and applied in the table's dtype, as torch's embedding_renorm_ does.
        norms = torch.linalg.vector_norm(rows, ord=norm_type, dim=1).double()
        scale = torch.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).to(rows.dtype)
        weight.index_copy_(0, rows_idx, rows * scale.unsqueeze(1))


def _check_indices(indices: Tensor, num_embeddings: int) -> None:
    if indices.numel() == 0:
        return
    lo, hi = (int(v) for v in torch.aminmax(indices))
    if lo < 0 or hi >= num_embeddings:
        bad = lo if lo < 0 else hi
        raise IndexError(
            f"embedding(): index {bad} is out of range for a table with num_embeddings={num_embeddings} "
            f"(valid indices are 0..{num_embeddings - 1})"
        )


def normalize_padding_idx(padding_idx: int | None, num_embeddings: int) -> int | None:
    """``padding_idx`` as a row index in ``[0, num_embeddings)`` (negative counts from the end), or None."""
    if padding_idx is None:
        return None
    if padding_idx >= num_embeddings or padding_idx < -num_embeddings:
        raise AssertionError(
            f"Padding_idx must be within num_embeddings: got padding_idx={padding_idx} "
            f"for num_embeddings={num_embeddings}"
        )
    return padding_idx + num_embeddings if padding_idx < 0 else padding_idx


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    r"""Look up rows of an embedding table: ``out[..., :] = weight[input[...], :]``.

    Args:
        input: integer tensor (``torch.long`` or ``torch.int``) of indices into the table, any shape.
        weight: the table, :math:`(\text{num\_embeddings}, \text{embedding\_dim})`.
        padding_idx: if given, that row receives no gradient (negative values count from the end).
        max_norm: if given, every row referenced by ``input`` whose ``norm_type``-norm exceeds ``max_norm`` is
            rescaled **in place** in ``weight`` to norm ``max_norm`` before the lookup.
        norm_type: the p of the p-norm used with ``max_norm``. Default: ``2.0``.
        scale_grad_by_freq: divide each row's gradient by the number of times its index occurs in ``input``.
        sparse: sparse gradients are not supported; ``True`` raises ``NotImplementedError``.

    Shape:
        - Input: :math:`(*)`, integer indices in :math:`[0, \text{num\_embeddings})`
        - Weight: :math:`(V, D)`
        - Output: :math:`(*, D)`

    Example::

        >>> table = torch.randn(10, 3)
        >>> embedding(torch.tensor([[1, 2], [4, 5]]), table).shape
        torch.Size([2, 2, 3])
    """
    if sparse:
        raise NotImplementedError("embedding(): sparse=True (sparse gradients) is not supported")
    if weight.dim() != 2:
        raise RuntimeError(
            f"embedding(): 'weight' must be 2-D (num_embeddings, embedding_dim), but got shape {list(weight.shape)}"
        )
    if input.dtype not in _INDEX_DTYPES:
        raise RuntimeError(
            f"embedding(): expected indices of dtype torch.int64 or torch.int32, but got input of dtype {input.dtype}"
        )
    num_embeddings = weight.shape[0]
    padding_idx = normalize_padding_idx(padding_idx, num_embeddings)
    _check_indices(input, num_embeddings)
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    return apply(_Embedding, weight, input, -1 if padding_idx is None else padding_idx, scale_grad_by_freq)
