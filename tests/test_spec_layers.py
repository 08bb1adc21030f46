"""The layer entries (Linear ... CrossEntropyLoss), their pages, and the random_mask check.

* every entry has a page with the required sections, and the page's backward formulas agree with torch's autograd;
* every strategy draws examples the reference accepts, within the documented domain;
* every error case makes torch raise;
* random_mask passes torch and catches planted dropout faults, each with the reason it names.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import spec
from conformance import profiles
from conformance.checks import registry
from conformance.checks.base import CheckFailed, Context, ReferenceFailed
from conformance.checks.calls import run_both
from conformance.checks.random_mask import DEFAULT_PS, binomial_z, z_critical
from conformance.materialize import Materialized
from conformance.runner import Outcome, run_check
from nnresolve import Implementation
from spec.components import cross_entropy, dropout, embedding, gelu, layer_norm, linear, softmax
from spec.entry import Entry, Example, T
from tests.planted.torchlike import planted

MODULES = (linear, embedding, layer_norm, dropout, gelu, softmax, cross_entropy)
ENTRIES: list[Entry] = [e for m in MODULES for e in m.ENTRIES]
NAMES = [e.name for e in ENTRIES]
SECTIONS = (
    "## Math",
    "## Signature",
    "## Parameters and state_dict",
    "## Shape",
    "## Backward",
    "## Edge cases",
    "## Errors",
    "## How it is checked",
    "## Example",
)
SETTINGS = hypothesis.settings(profiles.get("ci"), max_examples=8)
TORCH = Implementation("torch")
F = torch.nn.functional


def page_text(entry: Entry) -> str:
    with open(spec.page_path(entry), encoding="utf-8") as page:
        return page.read()


# Entries and pages ------------------------------------------------------------------------------------------------


def test_every_component_has_its_module_and_functional_entries() -> None:
    expected = {
        "Linear": "nn.Linear",
        "linear": "nn.functional.linear",
        "Embedding": "nn.Embedding",
        "embedding": "nn.functional.embedding",
        "LayerNorm": "nn.LayerNorm",
        "layer_norm": "nn.functional.layer_norm",
        "Dropout": "nn.Dropout",
        "dropout": "nn.functional.dropout",
        "GELU": "nn.GELU",
        "gelu": "nn.functional.gelu",
        "Softmax": "nn.Softmax",
        "softmax": "nn.functional.softmax",
        "log_softmax": "nn.functional.log_softmax",
        "CrossEntropyLoss": "nn.CrossEntropyLoss",
        "cross_entropy": "nn.functional.cross_entropy",
    }
    assert {e.name: e.path for e in ENTRIES} == expected
    for entry in ENTRIES:
        assert spec.get(entry.name) is entry, "spec.entries() must discover every entry"
        assert entry.kind == ("module" if entry.name[0].isupper() else "function")


@pytest.mark.parametrize("name", NAMES)
def test_page_has_the_required_sections(name: str) -> None:
    entry = spec.get(name)
    text = page_text(entry)
    title = text.splitlines()[0]
    assert title.startswith("# ") and name in title, f"{entry.page}.md's title {title!r} does not name {name}"
    missing = [s for s in SECTIONS if s not in text]
    assert not missing, f"spec/pages/{entry.page}.md lacks {missing}"
    order = [text.index(s) for s in SECTIONS]
    assert order == sorted(order), f"spec/pages/{entry.page}.md has its sections out of order"
    assert "Tolerance" in text
    # Every check the entry lists is described on the page.
    how = text[text.index("## How it is checked") : text.index("## Example")]
    for check in entry.checks:
        assert re.search(rf"\b{check}\b", how), f"spec/pages/{entry.page}.md does not say how {check} is checked"


@pytest.mark.parametrize("name", NAMES)
def test_a_looser_tolerance_is_explained_on_the_page(name: str) -> None:
    entry = spec.get(name)
    if entry.tolerance is None:
        assert "assert_close` defaults" in page_text(entry)
    else:
        assert entry.tolerance.why and entry.tolerance.why in page_text(entry)


@pytest.mark.parametrize("name", NAMES)
def test_module_entries_with_parameters_check_init_at_scale(name: str) -> None:
    entry = spec.get(name)
    if entry.kind != "module":
        assert "init" not in entry.checks
        return
    if entry.init_example is None:
        assert "init" not in entry.checks
        return
    assert "init" in entry.checks
    module = getattr(torch.nn, entry.path.removeprefix("nn."))(**entry.init_example.init)
    values = sum(p.numel() for p in module.parameters())
    assert values >= 90_000, f"{name}'s init_example has only {values} parameter values; ~1e5 are needed"


# Strategies ------------------------------------------------------------------------------------------------------


def strategies(entry: Entry) -> list[tuple[str, st.SearchStrategy[Example]]]:
    found = [("examples", entry.examples)] if entry.examples is not None else []
    if entry.stability is not None:
        found.append(("stability", entry.stability))
    return found


CASES = [pytest.param(e.name, kind, id=f"{e.name}-{kind}") for e in ENTRIES for kind, _ in strategies(e)]


def _sizes_in_range(example: Example) -> None:
    for value in (*example.args, *example.kwargs.values(), *example.init.values()):
        if isinstance(value, T):
            assert all(0 <= n <= 1024 for n in value.shape), f"{value!r} has a size outside 0..1024"
            assert math.prod(value.shape) <= 200_000


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_strategies_draw_examples_the_reference_accepts(name: str, kind: str) -> None:
    entry = spec.get(name)
    strategy = dict(strategies(entry))[kind]
    ctx = Context(entry, TORCH, TORCH, SETTINGS)

    @SETTINGS
    @given(strategy)
    def draws(example: Example) -> None:
        assert example.dtype in ("float32", "float64")
        _sizes_in_range(example)
        if kind == "stability":
            assert "grad_scale" in example.extra
        ref, _ = run_both(ctx, example)  # raises ReferenceFailed on an example torch rejects
        for out in ref.outputs:
            # Extreme inputs must not overflow; the one NaN the spec allows is a mean over no kept element.
            nan_mean = entry.page == "cross_entropy" and out.dim() == 0
            assert bool(out.isfinite().all()) or nan_mean, f"non-finite output for {example.describe()}"

    draws()


@pytest.mark.parametrize("name", ["Dropout", "dropout"])
def test_dropout_value_examples_are_deterministic(name: str) -> None:
    entry = spec.get(name)
    assert entry.examples is not None

    @SETTINGS
    @given(entry.examples)
    def same_twice(example: Example) -> None:
        outs = []
        for seed in (1, 2):
            torch.manual_seed(seed)
            _, args, kwargs = Materialized(example).copy()
            if entry.kind == "module":
                module = torch.nn.Dropout(**example.init).train(example.train)
                outs.append(module(*args))
            else:
                outs.append(F.dropout(*args, **kwargs))
        assert torch.equal(outs[0], outs[1])

    same_twice()


@pytest.mark.parametrize("name", ["LayerNorm", "layer_norm", "RMSNorm", "rms_norm"])
def test_norm_short_rows_get_a_large_eps(name: str) -> None:
    examples = spec.get(name).examples
    assert examples is not None

    @SETTINGS
    @given(examples)
    def short_rows(example: Example) -> None:
        # eps is a keyword of layer_norm and the fourth argument of rms_norm; None and absent are the default.
        if example.init:
            shape, eps = example.init["normalized_shape"], example.init.get("eps")
        else:
            shape = example.args[1]
            eps = example.args[3] if name == "rms_norm" else example.kwargs.get("eps")
        n = shape if isinstance(shape, int) else math.prod(shape)
        assert n >= layer_norm.SHORT_ROW or (eps is not None and eps >= 0.1)

    short_rows()


# Errors ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [e.name for e in ENTRIES if "errors" in e.checks])
def test_torch_raises_on_every_error_case(name: str) -> None:
    entry = spec.get(name)
    assert entry.errors, f"{name} lists the errors check but no error cases"
    outcome = run_check(TORCH, entry, "errors", SETTINGS)
    assert outcome.status == "passed", outcome.message


def test_errors_check_catches_a_lenient_dropout() -> None:
    def lenient(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
        return F.dropout(input, min(max(p, 0.0), 1.0), training)

    outcome = run_check(planted({"nn.functional.dropout": lenient}), spec.get("dropout"), "errors", SETTINGS)
    assert outcome.status == "failed" and "did not raise" in outcome.message


# The pages' backward formulas, in float64, against torch's autograd ---------------------------------------------


def autograd(fn: Callable[..., torch.Tensor], *inputs: torch.Tensor, **kwargs: Any) -> list[torch.Tensor]:
    leaves = [t.detach().clone().requires_grad_(t.is_floating_point()) for t in inputs]
    out = fn(*leaves, **kwargs)
    g = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(7))
    out.backward(g)
    grads = [leaf.grad for leaf in leaves if leaf.requires_grad]
    assert all(grad is not None for grad in grads)
    return [g, *(grad for grad in grads if grad is not None)]


def test_layer_norm_page_backward() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 3, 4, dtype=torch.float64, generator=gen) * 2 + 1
    w, b = torch.randn(3, 4, dtype=torch.float64, generator=gen), torch.randn(3, 4, dtype=torch.float64, generator=gen)
    eps = 1e-3
    g, dx, dw, db = autograd(lambda x, w, b: F.layer_norm(x, [3, 4], w, b, eps=eps), x, w, b)
    dims = (-2, -1)
    mu = x.mean(dims, keepdim=True)
    r = 1 / torch.sqrt(((x - mu) ** 2).mean(dims, keepdim=True) + eps)
    xhat = (x - mu) * r
    gh = g * w
    torch.testing.assert_close(dx, r * (gh - gh.mean(dims, keepdim=True) - xhat * (gh * xhat).mean(dims, keepdim=True)))
    torch.testing.assert_close(dw, (g * xhat).sum(0))
    torch.testing.assert_close(db, g.sum(0))


def test_softmax_and_gelu_page_backward() -> None:
    x = torch.randn(4, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 3
    g, dx = autograd(F.softmax, x, dim=0)
    s = torch.softmax(x, 0)
    torch.testing.assert_close(dx, s * (g - (g * s).sum(0, keepdim=True)))
    g, dx = autograd(F.log_softmax, x, dim=-1)
    torch.testing.assert_close(dx, g - torch.softmax(x, -1) * g.sum(-1, keepdim=True))

    g, dx = autograd(F.gelu, x)
    phi = torch.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    torch.testing.assert_close(dx, g * (cdf + x * phi))
    g, dx = autograd(F.gelu, x, approximate="tanh")
    c = math.sqrt(2 / math.pi)
    t = torch.tanh(c * (x + 0.044715 * x**3))
    torch.testing.assert_close(dx, g * (0.5 * (1 + t) + 0.5 * x * (1 - t**2) * c * (1 + 3 * 0.044715 * x**2)))


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_page_forward_and_backward(reduction: str, smoothing: float, weighted: bool) -> None:
    gen = torch.Generator().manual_seed(2)
    n, c = 6, 5
    x = torch.randn(n, c, 3, dtype=torch.float64, generator=gen) * 2
    w = torch.rand(c, dtype=torch.float64, generator=gen) + 0.2 if weighted else torch.ones(c, dtype=torch.float64)
    y = torch.randint(0, c, (n, 3), generator=gen)
    opts: dict[str, Any] = {"reduction": reduction, "label_smoothing": smoothing, "ignore_index": 2}
    if weighted:
        opts["weight"] = w
    s = torch.softmax(x, 1)
    logp = torch.log_softmax(x, 1)
    wb = w.view(1, c, 1)

    # Index targets, some ignored.
    keep = (y != 2).double()
    ysafe = torch.where(y == 2, 0, y)
    onehot = F.one_hot(ysafe, c).permute(0, 2, 1).double()  # (n, c, 3)
    w_y = w[ysafe] * keep
    loss = (1 - smoothing) * (-(logp * onehot).sum(1) * w_y) + smoothing / c * (-(logp * wb).sum(1) * keep)
    denom = w_y.sum()
    expected = {"none": loss, "sum": loss.sum(), "mean": loss.sum() / denom}[reduction]
    torch.testing.assert_close(F.cross_entropy(x, y, **opts), expected)
    g, dx = autograd(F.cross_entropy, x, y, **opts)
    ghat = {"none": g, "sum": g.expand(n, 3), "mean": (g / denom).expand(n, 3)}[reduction].unsqueeze(1)
    wsum = w.sum()
    formula = (
        ghat
        * keep.unsqueeze(1)
        * ((1 - smoothing) * w[ysafe].unsqueeze(1) * (s - onehot) + smoothing / c * (s * wsum - wb))
    )
    torch.testing.assert_close(dx, formula)

    # Probability targets.
    del opts["ignore_index"]
    t = torch.softmax(torch.randn(n, c, 3, dtype=torch.float64, generator=gen), 1)
    tp = (1 - smoothing) * t + smoothing / c
    loss = -(wb * tp * logp).sum(1)
    expected = {"none": loss, "sum": loss.sum(), "mean": loss.sum() / (n * 3)}[reduction]
    torch.testing.assert_close(F.cross_entropy(x, t, **opts), expected)
    g, dx = autograd(lambda x: F.cross_entropy(x, t, **opts), x)
    ghat = {"none": g, "sum": g.expand(n, 3), "mean": (g / (n * 3)).expand(n, 3)}[reduction].unsqueeze(1)
    torch.testing.assert_close(dx, ghat * (s * (wb * tp).sum(1, keepdim=True) - wb * tp))


def test_cross_entropy_all_ignored_is_nan_with_zero_gradient() -> None:
    x = torch.randn(4, 1, requires_grad=True)
    loss = F.cross_entropy(x, torch.zeros(4, dtype=torch.long), ignore_index=0)
    loss.backward()
    assert loss.isnan()
    assert x.grad is not None and torch.equal(x.grad, torch.zeros_like(x))


def test_embedding_page_backward() -> None:
    weight = torch.randn(6, 3, dtype=torch.float64)
    idx = torch.tensor([[0, 2, 2], [5, 2, 1]])
    for padding_idx, freq in ((None, False), (-1, False), (2, True)):
        g, dw = autograd(F.embedding, idx, weight, padding_idx=padding_idx, scale_grad_by_freq=freq)
        expected = torch.zeros_like(weight).index_add_(0, idx.reshape(-1), g.reshape(-1, 3))
        if freq:
            expected /= torch.bincount(idx.reshape(-1), minlength=6).clamp_min(1).unsqueeze(1)
        if padding_idx is not None:
            expected[padding_idx] = 0
        torch.testing.assert_close(dw, expected)


def test_embedding_max_norm_renormalises_in_place() -> None:
    weight = torch.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], dtype=torch.float64)
    out = F.embedding(torch.tensor([0, 0, 1]), weight, max_norm=1.0)
    scaled = torch.tensor([3.0, 4.0], dtype=torch.float64) / (5 + 1e-7)
    torch.testing.assert_close(weight[0], scaled)  # changed in place ...
    torch.testing.assert_close(weight[2], torch.tensor([6.0, 8.0], dtype=torch.float64))  # ... only where looked up
    torch.testing.assert_close(out[0], scaled)


def test_embedding_module_max_norm_is_compared_from_the_same_weights() -> None:
    class NoRenorm(torch.nn.Embedding):
        def forward(self, input: torch.Tensor) -> torch.Tensor:
            return F.embedding(input, self.weight, self.padding_idx)

    example = Example(
        init={"num_embeddings": 10, "embedding_dim": 16, "max_norm": 1.0},
        args=(T((5,), fill="index", low=0, high=10, dtype="int64"),),
    )
    entry = dataclasses.replace(spec.get("Embedding"), examples=st.just(example))
    outcome = run_check(planted({"nn.Embedding": NoRenorm}), entry, "forward", SETTINGS)
    assert outcome.status == "failed"


# random_mask -----------------------------------------------------------------------------------------------------


def mask_outcome(fn: Callable[..., torch.Tensor], entry: Entry | None = None) -> Outcome:
    entry = entry or spec.get("dropout")
    return run_check(planted({"nn.functional.dropout": fn}), entry, "random_mask", SETTINGS)


def masked(input: torch.Tensor, p: float, keep: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    return input * keep.to(input.dtype) * (1.0 / (1.0 - p) if scale is None else scale)


def unscaled(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
    if not training or p == 0:
        return input
    return input * 0 if p == 1 else masked(input, p, torch.rand(input.shape) >= p, scale=1.0)


def keeps_p(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
    if not training or p in (0, 1):
        return F.dropout(input, p, training)
    return masked(input, p, torch.rand(input.shape) < p)


def fixed_mask(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
    if not training or p in (0, 1):
        return F.dropout(input, p, training)
    gen = torch.Generator().manual_seed(1234)
    return masked(input, p, torch.rand(input.shape, generator=gen) >= p)


class _FreshMaskInBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, input: torch.Tensor, p: float) -> torch.Tensor:
        ctx.p = p
        return masked(input, p, torch.rand(input.shape) >= p)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        return masked(grad, ctx.p, torch.rand(grad.shape) >= ctx.p), None


def fresh_mask_in_backward(
    input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False
) -> torch.Tensor:
    if not training or p in (0, 1):
        return F.dropout(input, p, training)
    out: torch.Tensor = _FreshMaskInBackward.apply(input, p)
    return out


def ignores_training(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
    return F.dropout(input, p, True)


def nan_at_one(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
    if not training:
        return input
    keep = torch.rand(input.shape) >= p
    return input * keep.to(input.dtype) / torch.tensor(1.0 - p)


PLANTED = [
    (unscaled, "neither 0 nor the p = 0 output times"),
    (keeps_p, "elements were dropped"),
    (fixed_mask, "drawn afresh"),
    (fresh_mask_in_backward, "grad with p"),
    (ignores_training, "training=False"),
    (nan_at_one, "p = 1"),
]


def test_random_mask_passes_torch_and_its_false_alarm_budget_is_as_stated() -> None:
    for name in ("Dropout", "dropout"):
        outcome = run_check(TORCH, spec.get(name), "random_mask", SETTINGS)
        assert outcome.status == "passed", outcome.message
    assert z_critical(1, 0.05) == pytest.approx(1.959964, rel=1e-6)
    # Bonferroni over one z-test per p plus the fresh-mask test: 1e-6 in all.
    tests = len(DEFAULT_PS) + 1
    two_sided = math.erfc(z_critical(tests) / math.sqrt(2))
    assert tests * two_sided == pytest.approx(1e-6, rel=1e-6)
    assert binomial_z(50, 100, 0.5) == 0.0
    assert binomial_z(60, 100, 0.5) == pytest.approx(2.0)


@pytest.mark.parametrize(("fn", "why"), PLANTED, ids=[fn.__name__ for fn, _ in PLANTED])
def test_random_mask_catches(fn: Callable[..., torch.Tensor], why: str) -> None:
    outcome = mask_outcome(fn)
    assert outcome.status == "failed", f"{fn.__name__} passed random_mask"
    assert why in outcome.message, outcome.message


def test_random_mask_linear_identity_catches_a_fresh_backward_mask() -> None:
    entry = spec.get("dropout")
    settings = dict(entry.extra["random_mask"])
    del settings["elementwise"]
    settings["linear"] = 0
    linear_only = dataclasses.replace(entry, extra={"random_mask": settings})
    assert mask_outcome(F.dropout, linear_only).status == "passed"
    outcome = mask_outcome(fresh_mask_in_backward, linear_only)
    assert outcome.status == "failed" and "does not use the forward pass's mask" in outcome.message


def test_random_mask_catches_a_module_that_drops_in_eval_mode() -> None:
    class AlwaysTraining(torch.nn.Dropout):
        def forward(self, input: torch.Tensor) -> torch.Tensor:
            return F.dropout(input, self.p, True)

    outcome = run_check(planted({"nn.Dropout": AlwaysTraining}), spec.get("Dropout"), "random_mask", SETTINGS)
    assert outcome.status == "failed" and "eval mode" in outcome.message


def test_random_mask_without_its_extra_is_a_spec_error() -> None:
    entry = dataclasses.replace(spec.get("dropout"), extra={})
    outcome = run_check(TORCH, entry, "random_mask", SETTINGS)
    assert outcome.status == "failed" and "spec error" in outcome.message


def test_random_mask_is_deterministic_under_a_fixed_stat_seed() -> None:
    entry = spec.get("dropout")
    body = registry()["random_mask"].body
    state = torch.get_rng_state()
    drawn = []

    def recording(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
        out = F.dropout(input, p, training)
        drawn.append(out.detach().clone())
        return out

    for _ in range(2):
        body(Context(entry, planted({"nn.functional.dropout": recording}), TORCH, SETTINGS, stat_seed=0), None)
    half = len(drawn) // 2
    assert all(torch.equal(a, b) for a, b in zip(drawn[:half], drawn[half:], strict=True))
    assert torch.equal(torch.get_rng_state(), state), "random_mask must leave torch's generator as it found it"


def test_random_mask_reports_a_reference_that_rejects_its_example() -> None:
    entry = spec.get("dropout")
    bad = dict(entry.extra["random_mask"], example=Example(args=(T((4, 4), fill="zeros", grad=True),)))
    ctx = Context(dataclasses.replace(entry, extra={"random_mask": bad}), TORCH, TORCH, SETTINGS)
    with pytest.raises(ReferenceFailed, match="has zeros"):
        registry()["random_mask"].body(ctx, None)


def test_random_mask_failure_names_the_stray_element() -> None:
    def off_by_a_bit(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
        out = F.dropout(input, p, training)
        return out * 1.001 if training and 0 < p < 1 else out

    ctx = Context(spec.get("dropout"), planted({"nn.functional.dropout": off_by_a_bit}), TORCH, SETTINGS)
    with pytest.raises(CheckFailed, match=re.escape("1/(1-p) = 1.11111")):
        registry()["random_mask"].body(ctx, None)
