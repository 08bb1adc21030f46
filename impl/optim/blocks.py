"""An optimizer's update run block by block: the same foreach kernels over pieces of about ``BLOCK`` elements.

On the CPU each ``torch._foreach_*`` kernel is a loop over its tensors, so an update of several passes over a GPT's
parameters streams every tensor from memory again on every pass, and each temporary (a decayed gradient, Adam's
denominator) is fresh pages every step. Cut into blocks of 1 MiB of float32 per tensor, the pieces of one block stay
in cache between the passes and the temporaries are small enough for the allocator to reuse. Every element still
sees the same operations in the same order, so the result is bitwise that of one pass over whole tensors.

Measured on a 4-layer GPT's parameters, one thread: AdamW is 2.0x faster than in one block at width 768 (28M
elements) and 1.9x at 256 (3.2M); at 128 (0.8M) everything stays in cache anyway and blocks only add kernel calls,
hence ``MIN_BLOCKS``.
"""

from __future__ import annotations

import torch

__all__ = ["BLOCK", "MIN_BLOCKS", "Block", "blocks", "cut"]

BLOCK = 1 << 18
MIN_BLOCKS = 4

# (owners, lists): owners[j] is the index of the parameter that the j-th piece belongs to, and lists[i][j] the piece
# of tensor_lists[i][owners[j]].
Block = tuple[list[int], list[list[torch.Tensor]]]


def blocks(tensor_lists: list[list[torch.Tensor]]) -> list[Block]:
    """The blocks an update of ``tensor_lists`` (parameters first) runs over.

    Blocks pay off on the CPU; elsewhere, or for fewer than ``MIN_BLOCKS`` blocks' worth of elements, the whole
    tensors form the one block.
    """
    params = tensor_lists[0]
    if params[0].is_cpu and sum(p.numel() for p in params) > MIN_BLOCKS * BLOCK:
        return cut(tensor_lists, BLOCK)
    return [(list(range(len(params))), tensor_lists)]


def cut(tensor_lists: list[list[torch.Tensor]], size: int) -> list[Block]:
    """The same-position tensors of ``tensor_lists`` cut into blocks of about ``size`` elements.

    Contiguous tensors are cut into flat slices (views, so in-place updates reach them); a parameter with any
    non-contiguous tensor goes whole.
    """
    out: list[Block] = []
    owners: list[int] = []
    lists: list[list[torch.Tensor]] = [[] for _ in tensor_lists]
    filled = 0
    for index, tensors in enumerate(zip(*tensor_lists, strict=True)):
        numel = tensors[0].numel()
        sliceable = all(t.is_contiguous() for t in tensors)
        flat = [t.view(-1) for t in tensors] if sliceable else list(tensors)
        lo = 0
        while True:  # at least one piece, also for an empty tensor
            hi = min(lo + size - filled, numel) if sliceable else numel
            owners.append(index)
            for pieces, t in zip(lists, flat, strict=True):
                pieces.append(t[lo:hi] if (lo, hi) != (0, numel) else t)
            filled += hi - lo
            if filled >= size:
                out.append((owners, lists))
                owners, lists, filled = [], [[] for _ in tensor_lists], 0
            if hi >= numel:
                break
            lo = hi
    if owners:
        out.append((owners, lists))
    return out
