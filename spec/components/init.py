"""nn.init: fill a tensor in place from a distribution, or with a constant. The page is spec/pages/init.md.

Each function is one entry of kind ``init``. An example is a call: ``args[0]`` is the tensor to fill (a ``T``
filled with normal noise, so that a function which writes nothing is caught), the rest are the function's
arguments, some passed by position, some by keyword, some left to torch's defaults. Fan-based initializers get
2-D and higher shapes whose fans differ by a factor of 1.5 or more, so that swapping ``fan_in`` and ``fan_out``
changes the scale by at least 22%.

``extra["support"]``, where present, maps an example to the closed interval every filled value must lie in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

from spec.entry import Entry, ErrorCase, Example, T
from spec.strategies import float_dtypes, seeds

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
_NONLINEARITIES = (*_LINEAR_FNS, "sigmoid", "tanh", "relu", "leaky_relu", "selu")

_MISSING = object()


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (torch's table; see the page)."""
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}; expected one of {_NONLINEARITIES}")


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of ``shape`` = (out, in, *receptive field)."""
    if len(shape) < 2:
        raise ValueError(f"fans need a tensor of at least 2 dimensions, got shape {tuple(shape)}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def bound_arguments(example: Example, signature: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """Every argument after the tensor, by name: positional, keyword, or the default from ``signature``."""
    values = dict(zip((name for name, _ in signature), example.args[1:], strict=False))
    values.update(example.kwargs)
    return {name: values.get(name, default) for name, default in signature}


def _shape_of(example: Example) -> tuple[int, ...]:
    target = example.args[0]
    assert isinstance(target, T)
    return target.shape


# Shapes ---------------------------------------------------------------------------------------------------------


@st.composite
def fan_shapes(draw: st.DrawFn) -> tuple[int, ...]:
    """(out, in, *receptive): 2-D to 4-D, fans differing by a factor of at least 1.5, 256+ elements."""
    small = draw(st.integers(16, 48))
    large = draw(st.integers(math.ceil(small * 1.5), 3 * small))
    out_f, in_f = (small, large) if draw(st.booleans()) else (large, small)
    receptive = draw(st.lists(st.integers(1, 3), max_size=2))
    return (out_f, in_f, *receptive)


#: Shapes for distribution-based initializers that accept any shape: 1-D (1024+ elements) or fan shapes.
sample_shapes = st.one_of(st.integers(1024, 8192).map(lambda n: (n,)), fan_shapes())
#: Shapes for constant fills: anything, including scalars and empty tensors.
any_shapes = st.lists(st.integers(0, 8), max_size=3).map(tuple)


# Examples -------------------------------------------------------------------------------------------------------


def _call(
    draw: st.DrawFn, shape: tuple[int, ...], signature: Sequence[tuple[str, Any]], values: dict[str, Any]
) -> Example:
    """An example calling ``fn(tensor, ...)`` with ``values``: a leading run by position, the rest by keyword.

    A name absent from ``values`` is left to the default; only arguments before the first absent one can be passed
    by position.
    """
    names = [name for name, _ in signature]
    prefix = 0
    while prefix < len(names) and names[prefix] in values:
        prefix += 1
    n_positional = draw(st.integers(0, prefix))
    positional = tuple(values[name] for name in names[:n_positional])
    keywords = {name: values[name] for name in names[n_positional:] if name in values}
    return Example(
        args=(T(shape, grad=draw(st.booleans())), *positional),
        kwargs=keywords,
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


def _some(draw: st.DrawFn, values: dict[str, Any], required: Sequence[str] = ()) -> dict[str, Any]:
    """Drop some of ``values`` so that torch's defaults are exercised too (``required`` ones always stay)."""
    return {k: v for k, v in values.items() if k in required or draw(st.booleans())}


_UNIFORM_SIG = (("a", 0.0), ("b", 1.0))
_NORMAL_SIG = (("mean", 0.0), ("std", 1.0))
_CONSTANT_SIG = (("val", _MISSING),)
_XAVIER_SIG = (("gain", 1.0),)
_KAIMING_SIG = (("a", 0), ("mode", "fan_in"), ("nonlinearity", "leaky_relu"))
_TRUNC_SIG = (("mean", 0.0), ("std", 1.0), ("a", -2.0), ("b", 2.0))

_gains = st.one_of(st.sampled_from([1.0, math.sqrt(2.0), 5.0 / 3, 0.5, 0.02]), st.floats(0.1, 4.0))


@st.composite
def _uniform_examples(draw: st.DrawFn) -> Example:
    a = draw(st.floats(-3.0, 3.0))
    b = a + draw(st.sampled_from([0.01, 1.0, 2.0]) | st.floats(0.01, 6.0))
    values = _some(draw, {"a": a, "b": b})
    args = bound_arguments(Example(args=(None,), kwargs=values), _UNIFORM_SIG)
    if not args["a"] < args["b"]:
        values = {"a": a, "b": b}  # one bound alone crossed the other's default
    return _call(draw, draw(sample_shapes), _UNIFORM_SIG, values)


@st.composite
def _normal_examples(draw: st.DrawFn) -> Example:
    values = {"mean": draw(st.floats(-3.0, 3.0)), "std": draw(st.sampled_from([0.02, 1.0]) | st.floats(0.01, 4.0))}
    return _call(draw, draw(sample_shapes), _NORMAL_SIG, _some(draw, values))


@st.composite
def _constant_examples(draw: st.DrawFn) -> Example:
    val = draw(st.sampled_from([0.0, 1.0, -2.5, 0.1]) | st.floats(-1e3, 1e3))
    return _call(draw, draw(any_shapes), _CONSTANT_SIG, {"val": val})


@st.composite
def _fill_examples(draw: st.DrawFn) -> Example:
    return _call(draw, draw(any_shapes), (), {})


@st.composite
def _xavier_examples(draw: st.DrawFn) -> Example:
    return _call(draw, draw(fan_shapes()), _XAVIER_SIG, _some(draw, {"gain": draw(_gains)}))


@st.composite
def _kaiming_examples(draw: st.DrawFn) -> Example:
    values = {
        "a": draw(st.sampled_from([0, math.sqrt(5.0), 0.01, 0.2]) | st.floats(0.0, 5.0)),
        "mode": draw(st.sampled_from(["fan_in", "fan_out"])),
        "nonlinearity": draw(st.sampled_from(_NONLINEARITIES)),
    }
    return _call(draw, draw(fan_shapes()), _KAIMING_SIG, _some(draw, values))


def _reasonable_truncation(mean: float, std: float, a: float, b: float) -> bool:
    """A well-posed [a, b] that torch samples quickly.

    The mean lies within 1 std of [a, b]; and either [a, b] holds more than 30% of the mass (torch redraws from the
    normal) or it is at most 4 std wide (torch's uniform proposal is then accepted often enough).
    """
    mass = 0.5 * (math.erf((b - mean) / (std * math.sqrt(2))) - math.erf((a - mean) / (std * math.sqrt(2))))
    return a < b and a - std <= mean <= b + std and (mass > 0.3 or b - a <= 4 * std)


@st.composite
def _trunc_normal_examples(draw: st.DrawFn) -> Example:
    mean = draw(st.floats(-2.0, 2.0))
    std = draw(st.sampled_from([0.02, 1.0]) | st.floats(0.02, 2.0))
    # Bounds in standard deviations from the mean: wide, narrow, one-sided; the mean never more than 1 std
    # outside [a, b] (torch warns beyond 2).
    lo_z = draw(st.floats(-3.0, 1.0))
    hi_z = draw(st.floats(max(lo_z + 0.3, -1.0), 4.0))
    values = _some(draw, {"mean": mean, "std": std, "a": mean + lo_z * std, "b": mean + hi_z * std})
    if not _reasonable_truncation(**bound_arguments(Example(args=(None,), kwargs=values), _TRUNC_SIG)):
        # Dropping some values left torch's defaults for the others in a bad combination: pass them all.
        values = {"mean": mean, "std": std, "a": mean + lo_z * std, "b": mean + hi_z * std}
    return _call(draw, draw(sample_shapes), _TRUNC_SIG, values)


# Supports (closed intervals every value must lie in) ------------------------------------------------------------


def _uniform_support(example: Example) -> tuple[float, float]:
    args = bound_arguments(example, _UNIFORM_SIG)
    return args["a"], args["b"]


def _trunc_support(example: Example) -> tuple[float, float]:
    args = bound_arguments(example, _TRUNC_SIG)
    return args["a"], args["b"]


def _xavier_uniform_support(example: Example) -> tuple[float, float]:
    fan_in, fan_out = fans(_shape_of(example))
    bound = bound_arguments(example, _XAVIER_SIG)["gain"] * math.sqrt(6.0 / (fan_in + fan_out))
    return -bound, bound


def _kaiming_uniform_support(example: Example) -> tuple[float, float]:
    args = bound_arguments(example, _KAIMING_SIG)
    fan_in, fan_out = fans(_shape_of(example))
    fan = fan_in if args["mode"] == "fan_in" else fan_out
    bound = calculate_gain(args["nonlinearity"], args["a"]) * math.sqrt(3.0 / fan)
    return -bound, bound


# Bad input --------------------------------------------------------------------------------------------------------


def _fan_errors(extra: dict[str, Any] | None = None) -> tuple[ErrorCase, ...]:
    kw = extra or {}
    return (
        ErrorCase("1-D tensor: fans are undefined", Example(args=(T((5,)),), kwargs=kw), ("ValueError",)),
        ErrorCase("0-D tensor: fans are undefined", Example(args=(T(()),), kwargs=kw), ("ValueError",)),
    )


_KAIMING_ERRORS = (
    *_fan_errors(),
    ErrorCase(
        "mode is neither fan_in nor fan_out", Example(args=(T((4, 3)),), kwargs={"mode": "fan_avg"}), ("ValueError",)
    ),
    ErrorCase("unknown nonlinearity", Example(args=(T((4, 3)),), kwargs={"nonlinearity": "swish"}), ("ValueError",)),
)


def _entry(
    name: str,
    examples: st.SearchStrategy[Example],
    errors: tuple[ErrorCase, ...] = (),
    support: Callable[[Example], tuple[float, float]] | None = None,
) -> Entry:
    return Entry(
        name=name,
        path=f"nn.init.{name}",
        kind="init",
        page="init",
        checks=("init", "errors") if errors else ("init",),
        examples=examples,
        errors=errors,
        extra={"support": support} if support is not None else {},
    )


ENTRIES = [
    _entry(
        "uniform_",
        _uniform_examples(),
        (ErrorCase("a > b", Example(args=(T((4, 3)), 2.0, 1.0)), ("ValueError", "RuntimeError")),),
        _uniform_support,
    ),
    _entry(
        "normal_",
        _normal_examples(),
        (ErrorCase("negative std", Example(args=(T((4, 3)),), kwargs={"std": -1.0}), ("ValueError", "RuntimeError")),),
    ),
    _entry("zeros_", _fill_examples()),
    _entry("ones_", _fill_examples()),
    _entry("constant_", _constant_examples()),
    _entry("xavier_uniform_", _xavier_examples(), _fan_errors(), _xavier_uniform_support),
    _entry("xavier_normal_", _xavier_examples(), _fan_errors()),
    _entry("kaiming_uniform_", _kaiming_examples(), _KAIMING_ERRORS, _kaiming_uniform_support),
    _entry("kaiming_normal_", _kaiming_examples(), _KAIMING_ERRORS),
    _entry(
        "trunc_normal_",
        _trunc_normal_examples(),
        (
            ErrorCase(
                "a > b: empty interval",
                Example(args=(T((4, 3)),), kwargs={"a": 2.0, "b": 1.0}),
                ("ValueError", "RuntimeError"),
            ),
        ),
        _trunc_support,
    ),
]
