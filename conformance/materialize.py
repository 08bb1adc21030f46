"""Turn an Example's tensor placeholders into tensors, the same values for the reference and the IUT."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from spec.entry import Example, T

DTYPES: dict[str, torch.dtype] = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int64": torch.int64,
    "int32": torch.int32,
    "bool": torch.bool,
}


def dtype_of(name: str) -> torch.dtype:
    try:
        return DTYPES[name]
    except KeyError:
        raise ValueError(f"unknown dtype name {name!r}; known: {sorted(DTYPES)}") from None


def _fill(t: T, float_dtype: torch.dtype, gen: torch.Generator) -> torch.Tensor:
    dtype = dtype_of(t.dtype) if t.dtype else float_dtype
    if t.fill == "index":
        out = torch.randint(int(t.low), int(t.high), t.shape, generator=gen, dtype=torch.int64)
        return out.to(dtype) if t.dtype else out
    if t.fill == "bool":
        return torch.rand(t.shape, generator=gen, dtype=torch.float64) < t.high
    # Values are drawn in float64 and rounded once, so both dtypes see the same numbers up to rounding.
    if t.fill == "normal":
        out = torch.randn(t.shape, generator=gen, dtype=torch.float64) * t.scale + t.low
    elif t.fill == "uniform":
        out = torch.rand(t.shape, generator=gen, dtype=torch.float64) * (t.high - t.low) + t.low
    elif t.fill == "probs":
        raw = torch.rand(t.shape, generator=gen, dtype=torch.float64) + 1e-3
        out = raw / raw.sum(dim=t.dim, keepdim=True) if raw.numel() else raw
    elif t.fill == "ones":
        out = torch.ones(t.shape, dtype=torch.float64)
    elif t.fill == "zeros":
        out = torch.zeros(t.shape, dtype=torch.float64)
    else:
        raise ValueError(f"unknown fill {t.fill!r} in {t!r}")
    return out.to(dtype)


def _build(value: Any, float_dtype: torch.dtype, gen: torch.Generator) -> Any:
    if isinstance(value, T):
        return _fill(value, float_dtype, gen)
    if isinstance(value, tuple):
        return tuple(_build(v, float_dtype, gen) for v in value)
    if isinstance(value, list):
        return [_build(v, float_dtype, gen) for v in value]
    if isinstance(value, Mapping):
        return {k: _build(v, float_dtype, gen) for k, v in value.items()}
    return value


def strided(t: torch.Tensor) -> torch.Tensor:
    """The values of ``t`` in a non-contiguous layout: every other element of a buffer twice as long in the last
    dimension, and, with two or more dimensions, the first two dimensions swapped in memory (the layout of
    attention's heads split off a projection, ``x.view(B, T, H, D).transpose(1, 2)``). A 0-dim tensor stays as it
    is."""
    if t.dim() == 0:
        return t
    shape = list(t.shape)
    buffer_shape = [*shape[:-1], 2 * shape[-1]]
    if t.dim() >= 2:
        buffer_shape[0], buffer_shape[1] = buffer_shape[1], buffer_shape[0]
    out = t.new_zeros(buffer_shape)
    if t.dim() >= 2:
        out = out.transpose(0, 1)
    out = out[..., ::2]
    return out.copy_(t)


def _mark(value: Any, spec: Any, device: torch.device, non_contiguous: bool = False) -> Any:
    """Fresh leaf copies of built tensors on ``device``, with requires_grad where the placeholder asks for it; with
    ``non_contiguous``, each in the layout of :func:`strided`."""
    if isinstance(value, torch.Tensor):
        leaf = value.detach().to(device, copy=True)
        if non_contiguous:
            leaf = strided(leaf)  # a view of a buffer that needs no gradient: still a leaf
        if isinstance(spec, T) and spec.grad and leaf.is_floating_point():
            leaf.requires_grad_(True)
        return leaf
    if isinstance(value, tuple):
        return tuple(_mark(v, s, device, non_contiguous) for v, s in zip(value, spec, strict=True))
    if isinstance(value, list):
        return [_mark(v, s, device, non_contiguous) for v, s in zip(value, spec, strict=True)]
    if isinstance(value, dict):
        return {k: _mark(v, spec[k], device, non_contiguous) for k, v in value.items()}
    return value


class Materialized:
    """An example's tensors, built once from its seed; ``copy()`` hands out independent leaves on ``device``.

    The values are drawn on the CPU whatever the device, so every device sees the same numbers.
    """

    def __init__(self, example: Example, device: torch.device | str = "cpu") -> None:
        gen = torch.Generator().manual_seed(example.seed)
        dtype = dtype_of(example.dtype)
        self.example = example
        self.device = torch.device(device)
        self._init = _build(dict(example.init), dtype, gen)
        self._args = _build(example.args, dtype, gen)
        self._kwargs = _build(dict(example.kwargs), dtype, gen)

    def copy(self, strided: bool = False) -> tuple[dict[str, Any], tuple[Any, ...], dict[str, Any]]:
        """Independent leaves of the constructor arguments, call arguments and keyword arguments; with ``strided``
        the tensors among the call's arguments come in a non-contiguous layout (:func:`strided`), same values."""
        ex = self.example
        return (
            _mark(self._init, dict(ex.init), self.device),
            _mark(self._args, ex.args, self.device, strided),
            _mark(self._kwargs, dict(ex.kwargs), self.device, strided),
        )


def named_tensors(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Every tensor of a call, named by its place (``args[0]``, ``kwargs['weight']``, ``args[1][0]``)."""
    found: dict[str, torch.Tensor] = {}

    def walk(name: str, value: Any) -> None:
        if isinstance(value, torch.Tensor):
            found[name] = value
        elif isinstance(value, (tuple, list)):
            for i, v in enumerate(value):
                walk(f"{name}[{i}]", v)
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{name}[{k!r}]", v)

    walk("args", args)
    walk("kwargs", dict(kwargs))
    return found


def tensors_needing_grad(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """The leaves of a call that require a gradient, named by their place (``args[0]``, ``kwargs['weight']``)."""
    return {name: t for name, t in named_tensors(args, kwargs).items() if t.requires_grad}


def flatten_tensors(value: Any) -> list[torch.Tensor]:
    """The tensors in an output, in order (a tensor, or a tuple/list of them)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in flatten_tensors(v)]
    return []
