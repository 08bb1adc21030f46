"""random_mask: a dropout-like component drops at rate p, scales what it keeps by 1/(1-p), and masks its gradient alike.

Random masks cannot be compared element by element with the reference (the two draw different numbers), so this
check compares by distribution, with a stated false-alarm rate, plus the exact rules every mask must obey:

* off means identity: with p = 0, and (where the component has a switch) in eval mode / ``training=False`` with
  p = 0.5, the output equals the reference's output with p = 0;
* p = 1 gives zeros, and zero gradients;
* with 0 < p < 1 every output element is either exactly 0 (dropped) or the p = 0 output times 1/(1-p), within the
  entry's tolerance (kept); nothing else;
* the number dropped is Binomial(n, p): a two-sided z-test for each p in ``ps``;
* two calls draw fresh masks: the fraction of elements on which two masks agree is Binomial(n, p**2 + (1-p)**2);
* the gradient is masked like the output: for an elementwise argument, grad = upstream * out / out_{p=0}; for an
  argument the output is linear in (for a fixed mask), sum(grad * arg) = sum(upstream * out).

The z-tests share a false-alarm rate of FALSE_ALARM per run of the check (Bonferroni: each test uses
FALSE_ALARM / number of tests). ``torch.manual_seed(ctx.stat_seed)`` seeds torch's generator for the run (and the
generator's state is restored afterwards), so under the derandomized CI profile an implementation that draws from
torch's generator gives the same masks every run.

What the check needs to know comes from ``entry.extra["random_mask"]``, a mapping with keys:

``p``
    Name of the drop probability: a constructor argument of a module entry (Dropout: ``"p"``), a keyword of the
    call for a function entry (dropout: ``"p"``; scaled_dot_product_attention: ``"dropout_p"``).
``training``
    Function entries only: the keyword that switches dropout off when False (dropout: ``"training"``). Leave it
    out when the function has none (scaled_dot_product_attention); then only p = 0 turns dropout off. Module
    entries are switched with ``.train()`` / ``.eval()``.
``example``
    An :class:`~spec.entry.Example` holding the call (``args``/``kwargs``, and ``init`` for a module); p and the
    switch are added by the check. Its first output should have about 1e5 elements, every one nonzero when p = 0,
    and each must depend on exactly one mask element (out = out_{p=0} * mask / (1-p)). For attention that means
    zero queries (uniform weights) and identity values, so that each output element is one attention weight.
``elementwise``
    Optional: the argument (position in ``args``, or keyword) that the output scales elementwise, whose gradient
    must be upstream * out / out_{p=0} (dropout: ``0``).
``linear``
    Optional: the argument in which the output is linear for a fixed mask (attention: the values); checked by
    sum(grad * arg) = sum(upstream * out). Defaults to ``elementwise``.
``ps``
    Optional: the drop probabilities of the statistical tests; default ``DEFAULT_PS``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import torch

from conformance.checks.base import CheckFailed, Context, ReferenceFailed, check
from conformance.checks.calls import build_module, load_weights
from conformance.materialize import Materialized, flatten_tensors, tensors_needing_grad
from spec.entry import Example

#: The probability that a correct implementation fails one run of this check.
FALSE_ALARM = 1e-6
DEFAULT_PS: tuple[float, ...] = (0.1, 0.5, 0.8)


def z_critical(tests: int, false_alarm: float = FALSE_ALARM) -> float:
    """The |z| beyond which one of ``tests`` two-sided z-tests fails, for a total false-alarm rate ``false_alarm``."""
    return NormalDist().inv_cdf(1.0 - false_alarm / tests / 2.0)


def binomial_z(count: int, n: int, rate: float) -> float:
    """How many standard deviations ``count`` lies from the mean of Binomial(n, rate)."""
    return (count - n * rate) / math.sqrt(n * rate * (1.0 - rate))


@dataclass
class _Call:
    out: torch.Tensor
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class _Driver:
    """Calls the component on either side with a given p and on/off state, from one materialized example."""

    def __init__(self, ctx: Context, spec: Mapping[str, Any]) -> None:
        example = spec.get("example")
        if not isinstance(example, Example) or "p" not in spec:
            raise ReferenceFailed(
                f"spec entry {ctx.entry.name}: extra['random_mask'] needs 'p' (argument name) and 'example' "
                f"(an Example); got keys {sorted(spec)}"
            )
        self.ctx = ctx
        self.example: Example = example
        self.p_name: str = spec["p"]
        self.switch: str | None = spec.get("training")
        self.module = ctx.entry.kind == "module"
        self.mat = Materialized(example, ctx.device)
        self.ref_module: Any = None

    @property
    def has_switch(self) -> bool:
        return self.module or self.switch is not None

    def call(self, p: float, training: bool, iut: bool = True) -> _Call:
        ctx = self.ctx
        side = ctx.iut if iut else ctx.ref
        init, args, kwargs = self.mat.copy()
        if self.module:
            module = build_module(ctx, self.example, {**init, self.p_name: p}, iut)
            if self.ref_module is None and not iut:
                self.ref_module = module
            if iut:
                ref = self.ref_module if self.ref_module is not None else self._reference_module(init)
                ctx.iut(load_weights, ctx, ref.state_dict(), module, what=f"{ctx.component}.load_state_dict")
            side(module.train, training, what=f"{type(module).__name__}.train({training})")
            out = side(module, *args, **kwargs)
        else:
            kwargs[self.p_name] = p
            if self.switch is not None:
                kwargs[self.switch] = training
            elif not training:
                raise ReferenceFailed(f"spec entry {ctx.entry.name}: no 'training' switch to turn dropout off")
            fn = ctx.iut_component() if iut else ctx.ref_component()
            out = side(fn, *args, **kwargs)
        tensors = flatten_tensors(out)
        if not tensors:
            raise CheckFailed(f"{ctx.component} returned {type(out).__name__}, not a tensor")
        return _Call(tensors[0], args, kwargs)

    def _reference_module(self, init: dict[str, Any]) -> Any:
        self.ref_module = build_module(self.ctx, self.example, {**init, self.p_name: 0.0}, iut=False)
        return self.ref_module

    def argument(self, call: _Call, key: int | str) -> torch.Tensor:
        value = call.args[key] if isinstance(key, int) else call.kwargs[key]
        if not isinstance(value, torch.Tensor) or not value.requires_grad:
            raise ReferenceFailed(f"spec entry {self.ctx.entry.name}: argument {key!r} is not a tensor needing grad")
        return value


def _backward(ctx: Context, call: _Call, upstream: torch.Tensor) -> bool:
    """Backpropagate ``upstream`` through the IUT's output; False if the output has no graph."""
    if not call.out.requires_grad:
        return False
    ctx.iut(torch.autograd.backward, [call.out], [upstream], what=f"{ctx.component} backward")
    return True


def _leaf_grads(call: _Call) -> list[tuple[str, torch.Tensor | None]]:
    return [(name, leaf.grad) for name, leaf in tensors_needing_grad(call.args, call.kwargs).items()]


def _describe(index: int, shape: torch.Size) -> list[int]:
    return [int(i) for i in torch.unravel_index(torch.tensor(index), shape)] if len(shape) else []


@check("random_mask")
def random_mask(ctx: Context, example: Example | None) -> None:
    """Drop rate matches p (z-test), kept elements scale by 1/(1-p), gradients are masked alike, off means identity."""
    spec = ctx.entry.extra.get("random_mask")
    if not isinstance(spec, Mapping):
        raise ReferenceFailed(f"spec entry {ctx.entry.name} lists random_mask but has no extra['random_mask']")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(ctx.stat_seed)
        _run(ctx, spec)


def _run(ctx: Context, spec: Mapping[str, Any]) -> None:
    driver = _Driver(ctx, spec)
    dtype = driver.example.dtype
    ps = tuple(float(p) for p in spec.get("ps", DEFAULT_PS))
    z_max = z_critical(len(ps) + 1)
    elementwise = spec.get("elementwise")
    linear = spec.get("linear", elementwise)

    reference = driver.call(0.0, True, iut=False).out
    # Gradients are checked when the reference's output has a graph (some argument of the example needs grad).
    with_grad = reference.requires_grad
    base = reference.detach()
    if not bool((base != 0).all()):
        raise ReferenceFailed(f"spec entry {ctx.entry.name}: the p = 0 output of extra['random_mask'] has zeros")
    n = base.numel()
    gen = torch.Generator().manual_seed(ctx.stat_seed + 1)
    upstream = torch.randn(base.shape, generator=gen, dtype=torch.float64).to(base.device, base.dtype)

    # Off means identity: p = 0 while training, and any p when switched off.
    ctx.expect_close(driver.call(0.0, True).out, base, dtype, "output with p = 0")
    if driver.has_switch:
        off = "in eval mode" if driver.module else f"with {driver.switch}=False"
        ctx.expect_close(driver.call(0.5, False).out, base, dtype, f"output with p = 0.5 {off}")

    # p = 1 drops everything, and so the gradient of every input is zero.
    call = driver.call(1.0, True)
    ctx.expect_close(call.out, torch.zeros_like(base), dtype, "output with p = 1")
    # A constant zero output may come without a graph; then every gradient is zero (or None) anyway.
    if with_grad and _backward(ctx, call, upstream):
        for name, grad in _leaf_grads(call):
            if grad is not None:
                ctx.expect_close(grad, torch.zeros_like(grad), dtype, f"grad of {name} with p = 1")

    rtol, atol = ctx.tolerance(dtype)
    masks = []
    for p in ps:
        call = driver.call(p, True)
        out = call.out.detach()
        if out.shape != base.shape:
            raise CheckFailed(f"output with p = {p} has shape {tuple(out.shape)}, expected {tuple(base.shape)}")
        kept_value = base.double() / (1.0 - p)
        dropped = out == 0
        kept = (out.double() - kept_value).abs() <= atol + rtol * kept_value.abs()
        stray = ~(dropped | kept)
        if bool(stray.any()):
            i = int(stray.reshape(-1).nonzero()[0])
            raise CheckFailed(
                f"with p = {p}, {int(stray.sum())} of {n} output elements are neither 0 nor the p = 0 output times "
                f"1/(1-p) = {1.0 / (1.0 - p):.6g}; at index {_describe(i, base.shape)}: got "
                f"{float(out.reshape(-1)[i])!r}, p = 0 output {float(base.reshape(-1)[i])!r}"
            )
        count = int(dropped.sum())
        z = binomial_z(count, n, p)
        if abs(z) > z_max:
            raise CheckFailed(
                f"with p = {p}, {count} of {n} elements were dropped (rate {count / n:.4f}): z = {z:.2f} is beyond "
                f"±{z_max:.2f}, which a correct implementation exceeds with probability {FALSE_ALARM:g} per run"
            )
        masks.append((p, dropped))

        if not with_grad:
            continue
        if not _backward(ctx, call, upstream):
            raise CheckFailed(f"output with p = {p} does not require grad, but the reference's does")
        scale = out.double() / base.double()  # mask / (1-p): 0 or 1/(1-p)
        if elementwise is not None:
            grad = driver.argument(call, elementwise).grad
            if grad is None:
                raise CheckFailed(f"with p = {p}, the gradient of argument {elementwise!r} is None")
            ctx.expect_close(grad, (upstream.double() * scale).to(grad.dtype), dtype, f"grad with p = {p}")
        if linear is not None:
            _check_linear(ctx, driver.argument(call, linear), linear, upstream, out, p, dtype)

    # Fresh masks: two draws agree where both drop or both keep, at rate p^2 + (1-p)^2.
    p = 0.5 if 0.5 in ps else ps[0]
    first = next(mask for q, mask in masks if q == p)
    second = driver.call(p, True).out.detach() == 0
    agree = int((first == second).sum())
    rate = p * p + (1 - p) * (1 - p)
    z = binomial_z(agree, n, rate)
    if abs(z) > z_max:
        raise CheckFailed(
            f"two calls with p = {p} agree on {agree} of {n} mask elements (rate {agree / n:.4f}, expected {rate:.4f} "
            f"for independent masks): z = {z:.2f} is beyond ±{z_max:.2f}; is the mask drawn afresh on every call?"
        )


def _check_linear(
    ctx: Context, arg: torch.Tensor, key: int | str, upstream: torch.Tensor, out: torch.Tensor, p: float, dtype: str
) -> None:
    """Euler's identity for a function linear in ``arg``: sum(grad * arg) = sum(upstream * out), in float64."""
    grad = arg.grad
    if grad is None:
        raise CheckFailed(f"with p = {p}, the gradient of argument {key!r} is None")
    lhs = (grad.double() * arg.detach().double()).sum()
    rhs = (upstream.double() * out.double()).sum()
    # Each product carries one rounding of the working dtype; the sums themselves are float64.
    unit = torch.finfo(grad.dtype).eps
    bound = 4 * unit * float((upstream.double() * out.double()).abs().sum()) + ctx.tolerance(dtype)[1]
    if abs(float(lhs - rhs)) > bound:
        raise CheckFailed(
            f"with p = {p}, sum(grad * argument {key!r}) = {float(lhs):.6g} but sum(upstream * output) = "
            f"{float(rhs):.6g}: the gradient does not use the forward pass's mask"
        )
