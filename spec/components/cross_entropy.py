"""CrossEntropyLoss and cross_entropy: -log softmax(x)[target], reduced. The page is spec/pages/cross_entropy.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from spec.entry import CALL_CHECKS, Entry, ErrorCase, Example, T
from spec.strategies import features, float_dtypes, seeds


@dataclass(frozen=True)
class _Case:
    """One drawn loss call: input, target and the options shared by the module and the function."""

    input: T
    target: T
    options: dict[str, Any]


def _shape(draw: st.DrawFn, classes: int) -> tuple[int, ...]:
    """(C), (N, C) with N in 0..8, or (N, C, d1[, d2]) with small N and d (0 included where torch allows it)."""
    layout = draw(st.sampled_from(["unbatched", "batched", "spatial"]))
    if layout == "unbatched":
        return (classes,)
    if layout == "batched":
        return (draw(st.integers(0, 8)), classes)
    spatial = draw(st.lists(st.integers(0, 4), min_size=1, max_size=2))
    return (draw(st.integers(0, 4)), classes, *spatial)


@st.composite
def _cases(draw: st.DrawFn, scale: float = 1.0) -> _Case:
    classes = draw(features)
    shape = _shape(draw, classes)
    class_dim = 0 if len(shape) == 1 else 1
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        # Class probabilities over the class dimension; ignore_index is not allowed with them.
        target = T(shape, fill="probs", dim=class_dim)
    else:
        target = T(shape[:class_dim] + shape[class_dim + 1 :], fill="index", low=0, high=classes, dtype="int64")
        if draw(st.booleans()):
            # A class that occurs among the targets, so that some (with C = 1: all) targets are ignored.
            options["ignore_index"] = draw(st.integers(0, classes - 1))
    if draw(st.booleans()):
        options["weight"] = T((classes,), fill="uniform", low=0.2, high=2.0)
    reduction = draw(st.sampled_from([None, "none", "mean", "sum"]))
    if reduction is not None:
        options["reduction"] = reduction
    smoothing = draw(st.sampled_from([None, 0.0, 0.1, 1.0, "any"]))
    if smoothing is not None:
        options["label_smoothing"] = draw(st.floats(0.0, 1.0)) if smoothing == "any" else smoothing
    return _Case(T(shape, scale=scale, grad=True), target, options)


@st.composite
def _module_examples(draw: st.DrawFn) -> Example:
    case = draw(_cases(scale=2.0))
    return Example(init=case.options, args=(case.input, case.target), dtype=draw(float_dtypes), seed=draw(seeds))


@st.composite
def _function_examples(draw: st.DrawFn) -> Example:
    case = draw(_cases(scale=2.0))
    return Example(args=(case.input, case.target), kwargs=case.options, dtype=draw(float_dtypes), seed=draw(seeds))


def _grad_scale(draw: st.DrawFn) -> dict[str, float]:
    return {"grad_scale": draw(st.sampled_from([1e-20, 1.0, 1e15]))}


@st.composite
def _module_stability(draw: st.DrawFn) -> Example:
    """Logits of magnitude 1e4 (exp overflows unless the maximum is subtracted) and extreme upstream gradients."""
    case = draw(_cases(scale=1e4))
    return Example(init=case.options, args=(case.input, case.target), seed=draw(seeds), extra=_grad_scale(draw))


@st.composite
def _function_stability(draw: st.DrawFn) -> Example:
    case = draw(_cases(scale=1e4))
    return Example(args=(case.input, case.target), kwargs=case.options, seed=draw(seeds), extra=_grad_scale(draw))


def _logits(*shape: int) -> T:
    return T(shape)


def _classes(*shape: int, high: int = 3, low: int = 0) -> T:
    return T(shape, fill="index", low=low, high=high, dtype="int64")


#: (why, input, target, options): the same bad calls for the module (options to the constructor) and the function.
_BAD: tuple[tuple[str, T, T, dict[str, Any]], ...] = (
    ("reduction is not 'none', 'mean' or 'sum'", _logits(4, 3), _classes(4), {"reduction": "average"}),
    ("a target class equal to C", _logits(4, 3), _classes(4, low=3, high=4), {}),
    ("a negative target class other than ignore_index", _logits(4, 3), _classes(4, low=-1, high=0), {}),
    ("target batch size differs from the input's", _logits(4, 3), _classes(3), {}),
    ("target spatial size differs from the input's", _logits(2, 3, 5), _classes(2, 4), {}),
    ("floating-point target of the class-index shape", _logits(4, 3), T((4,), fill="uniform", high=3.0), {}),
    ("probability target whose class count differs", _logits(4, 3), T((4, 4), fill="probs"), {}),
    ("probability target with ignore_index", _logits(4, 3), T((4, 3), fill="probs"), {"ignore_index": 1}),
    ("class weight of length other than C", _logits(4, 3), _classes(4), {"weight": T((4,), fill="ones")}),
    ("label_smoothing above 1", _logits(4, 3), _classes(4), {"label_smoothing": 1.5}),
)


ENTRIES = [
    Entry(
        name="CrossEntropyLoss",
        path="nn.CrossEntropyLoss",
        kind="module",
        page="cross_entropy",
        checks=(*CALL_CHECKS, "parameters", "state_dict", "repr", "dtype", "stability", "errors"),
        examples=_module_examples(),
        stability=_module_stability(),
        errors=tuple(ErrorCase(why, Example(init=opts, args=(x, t))) for why, x, t, opts in _BAD),
    ),
    Entry(
        name="cross_entropy",
        path="nn.functional.cross_entropy",
        kind="function",
        page="cross_entropy",
        checks=(*CALL_CHECKS, "dtype", "stability", "errors"),
        examples=_function_examples(),
        stability=_function_stability(),
        errors=tuple(ErrorCase(why, Example(args=(x, t), kwargs=opts)) for why, x, t, opts in _BAD),
    ),
]
