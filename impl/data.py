"""Text data for the GPT: the bundled Tiny Shakespeare, a train/val split, and a seeded random-window sampler."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["BUNDLED", "BatchSampler", "load_text", "train_val_split"]

#: The text used when no ``data.path`` is given: Tiny Shakespeare (about 1.1 M characters), shipped as package data.
BUNDLED = "tinyshakespeare.txt"


def load_text(path: str | Path | None = None, name: str = "data.path") -> str:
    """The text at ``path`` (UTF-8), or the bundled Tiny Shakespeare when ``path`` is None or empty.

    A missing file raises ``FileNotFoundError`` and one that is not UTF-8 a ``ValueError``, each naming the file
    as ``name`` (the setting or option it came from).

    Example::

        >>> text = load_text()
        >>> len(text), text[:13]
        (1115394, 'First Citizen')
    """
    if not path:
        return resources.files("impl").joinpath("data", BUNDLED).read_text(encoding="utf-8")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{name} {str(p)!r} is not a file")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{name} {str(p)!r} is not UTF-8 text: cannot decode byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start} ({exc.reason})"
        ) from None


def train_val_split(data: Tensor, train_fraction: float = 0.9) -> tuple[Tensor, Tensor]:
    """The first ``train_fraction`` of ``data`` for training, the rest for validation (a contiguous cut, no shuffle).

    Example::

        >>> train_val_split(torch.arange(10))
        (tensor([0, 1, 2, 3, 4, 5, 6, 7, 8]), tensor([9]))
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    n = int(train_fraction * len(data))
    return data[:n], data[n:]


class BatchSampler:
    """Draws batches of random windows from a 1-D token tensor.

    Each example is a window of ``block_size + 1`` consecutive tokens starting at a uniformly random offset; the
    input is its first ``block_size`` tokens and the target the same window shifted by one. Offsets come from
    ``generator`` alone, so a seeded generator (whose state can be saved and restored) makes the batches
    reproducible.

    Args:
        data: (N,) token ids, N > block_size.
        block_size: tokens per example (T).
        batch_size: examples per batch (B).
        generator: source of the offsets.

    Shape:
        - Output: (x, y), both (B, T) int64, ``y[:, t] == x[:, t + 1]`` for t < T - 1.

    Example::

        >>> sampler = BatchSampler(torch.arange(100), 8, 4, torch.Generator().manual_seed(0))
        >>> x, y = sampler()
        >>> bool((y[:, :-1] == x[:, 1:]).all())
        True
    """

    def __init__(self, data: Tensor, block_size: int, batch_size: int, generator: torch.Generator) -> None:
        if data.dim() != 1:
            raise ValueError(f"data must be 1-D token ids, got shape {tuple(data.shape)}")
        if len(data) <= block_size:
            raise ValueError(f"data has {len(data)} tokens; a window needs block_size + 1 = {block_size + 1}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.data = data.long()
        self.block_size = block_size
        self.batch_size = batch_size
        self.generator = generator
        self._window = torch.arange(block_size + 1, device=data.device)  # (T+1,)

    def __call__(self) -> tuple[Tensor, Tensor]:
        starts = torch.randint(len(self.data) - self.block_size, (self.batch_size,), generator=self.generator)
        chunk = self.data[starts.to(self.data.device)[:, None] + self._window]  # (B, T+1)
        return chunk[:, :-1], chunk[:, 1:]
