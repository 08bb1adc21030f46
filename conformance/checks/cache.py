"""decoding: a key/value cache, fed the keys and values of a decoding run, hands back what the reference's does.

An entry of kind ``cache`` builds ``KVCache(**init, dtype=..., device=...)`` on each side and plays the example's
``extra["steps"]`` on both (see ``spec/components/kv_cache.py``):

* ``("update", layer, t)``: ``cache[layer].update(k, v)`` with ``t`` new positions, ``k`` and ``v`` of shape
  (batch_size, n_kv_head, t, head_dim) drawn from the example's seed (the same numbers on both sides);
* ``("update_shapes", layer, k_shape, v_shape)``: the same with keys and values of the given shapes (error cases);
* ``("overflow", layer, t)``: an update with ``t`` new positions that go past ``max_len``, which must raise a
  ``ValueError`` and leave the layer as it was (a caller catches it, crops the context and starts again);
* ``("reset",)``: ``cache.reset()``.

After every update the returned keys and values are compared exactly (dtype, device, shape and every element: a
cache copies, it computes nothing), and after every step the length of each layer, ``len(cache)``, and
``cache.length`` whenever every layer holds as many positions (between forward passes, where a model reads it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from conformance.checks.base import CheckFailed, Context, check
from conformance.materialize import dtype_of
from spec.entry import Example


def _shown(example: Example) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in {**example.init, "dtype": example.dtype}.items())


def _direct(fn: Callable[..., Any], *args: Any, what: str = "", **kwargs: Any) -> Any:
    return fn(*args, **kwargs)


def _step_text(step: tuple[Any, ...]) -> str:
    if step[0] == "reset":
        return "cache.reset()"
    if step[0] == "update_shapes":
        return f"cache[{step[1]}].update(k, v) with k of shape {step[2]} and v of shape {step[3]}"
    text = f"cache[{step[1]}].update(k, v) with {step[2]} new position{'s' if step[2] != 1 else ''}"
    return text + (", past max_len" if step[0] == "overflow" else "")


def _draw(shape: tuple[int, ...], dtype: torch.dtype, gen: torch.Generator, device: torch.device) -> torch.Tensor:
    # drawn in float64 on the CPU and rounded once, as every example's tensors are
    return torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype).to(device)


def _copied(value: Any) -> Any:
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


@dataclass
class _Shown:
    """What one step showed on one side."""

    text: str
    returned: tuple[Any, ...] | None  # an update's (keys, values), copied
    raised: str | None  # an overflow's exception class and what it inherits from, or "nothing"
    lengths: tuple[int, ...]  # every layer's
    count: int  # len(cache)
    length: int | None  # cache.length, read when every layer holds as many positions


def _raised(update: Callable[..., Any], k: torch.Tensor, v: torch.Tensor) -> str:
    try:
        update(k, v)
    except Exception as exc:
        return " < ".join(c.__name__ for c in type(exc).__mro__[:-2])  # up to Exception
    return "nothing"


def run_side(ctx: Context, example: Example, iut: bool, direct: bool = False) -> list[_Shown]:
    """Play the example's steps on one side's cache and record what each showed. With ``direct`` the calls are
    made as they are, so that an error case sees what they raise."""
    call = _direct if direct else (ctx.iut if iut else ctx.ref)
    cls = ctx.iut_component() if iut else ctx.ref_component()
    init = dict(example.init)
    what = f"KVCache({_shown(example)})"
    cache = call(cls, **init, dtype=dtype_of(example.dtype), device=ctx.device, what=what)
    n_layer, batch, heads, head_dim = (init[k] for k in ("n_layer", "batch_size", "n_kv_head", "head_dim"))
    gen = torch.Generator().manual_seed(example.seed)
    input_dtype = dtype_of(example.extra.get("input_dtype", example.dtype))
    shown: list[_Shown] = []
    steps = example.extra["steps"]
    for i, step in enumerate(steps):
        text = _step_text(step)
        at = f"{what}, step {i + 1} of {len(steps)}"
        returned = raised = None
        if step[0] == "reset":
            call(cache.reset, what=f"{at}, {text}")
        else:
            kind, layer, *sizes = step
            k_shape, v_shape = sizes if kind == "update_shapes" else ((batch, heads, sizes[0], head_dim),) * 2
            k, v = _draw(k_shape, input_dtype, gen, ctx.device), _draw(v_shape, input_dtype, gen, ctx.device)
            slot = call(lambda c=cache, i=layer: c[i], what=f"{at}, cache[{layer}]")
            if kind == "overflow":
                raised = _raised(slot.update, k, v)
            else:
                result = call(slot.update, k, v, what=f"{at}, {text}")
                # copied now: a cache may return views of its storage, which a reset lets later updates overwrite
                returned = call(lambda r=result: tuple(_copied(t) for t in r), what=f"{at}, the result of {text}")
        lengths = tuple(int(call(lambda j=j: cache[j].length, what=f"{at}, cache[{j}].length")) for j in range(n_layer))
        count = int(call(len, cache, what=f"len({what})"))
        length = int(call(lambda: cache.length, what=f"{what}.length")) if len(set(lengths)) == 1 else None
        shown.append(_Shown(text, returned, raised, lengths, count, length))
    return shown


def _tensor_difference(got: Any, want: torch.Tensor, what: str) -> str | None:
    if not isinstance(got, torch.Tensor):
        return f"{what} are a {type(got).__name__}, not a tensor"
    for attribute in ("dtype", "device"):
        if getattr(got, attribute) != getattr(want, attribute):
            return f"{what} have {attribute} {getattr(got, attribute)}; the reference's have {getattr(want, attribute)}"
    if got.shape != want.shape:
        return f"{what} have shape {tuple(got.shape)}; the reference's have {tuple(want.shape)}"
    if not torch.equal(got, want):
        where = tuple(int(i) for i in (got != want).nonzero()[0].tolist())
        return (
            f"{what} differ at {where}: {got[where].item()!r} where the reference has {want[where].item()!r} "
            f"(position {where[2]} of {want.shape[2]})"
        )
    return None


def _compare(ctx: Context, example: Example, got: list[_Shown], want: list[_Shown]) -> None:
    call = f"KVCache({_shown(example)})"
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        at = f"{call}, step {i + 1} of {len(want)}, {w.text}"
        if w.returned is not None and g.returned is not None:
            if len(g.returned) != 2:
                raise CheckFailed(f"{at}: returned {len(g.returned)} items; expected (keys, values)")
            for name, a, b in zip(("the keys returned", "the values returned"), g.returned, w.returned, strict=True):
                if (diff := _tensor_difference(a, b, name)) is not None:
                    raise CheckFailed(f"{at}: {diff}")
        if w.raised is not None and "ValueError" not in (g.raised or "").split(" < "):
            raise CheckFailed(f"{at}: raised {g.raised}; expected a ValueError (the layer would hold too many)")
        if g.lengths != w.lengths:
            after = " (an update that fails must leave the layer as it was)" if w.raised else ""
            raise CheckFailed(
                f"{at}: the layers' lengths are {list(g.lengths)}; the reference's {list(w.lengths)}{after}"
            )
        if g.count != w.count:
            raise CheckFailed(f"{at}: len(cache) is {g.count}; the reference's is {w.count}")
        if w.length is not None and g.length != w.length:
            raise CheckFailed(f"{at}: cache.length is {g.length} with every layer at {w.length}")


@check("decoding", examples=lambda entry: entry.examples if entry.kind == "cache" else None)
def decoding(ctx: Context, example: Example | None) -> None:
    """Every update returns the reference's keys and values, exactly; lengths follow the reference's."""
    assert example is not None
    want = run_side(ctx, example, iut=False)
    got = run_side(ctx, example, iut=True)
    _compare(ctx, example, got, want)
