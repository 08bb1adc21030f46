"""The module-side checks (parameters, state_dict, weights loading, parameter gradients, modes) on made-up modules.

The reference is :class:`Scale`, a tiny module defined here; each implementation under test is a variant of it
with one thing changed, so every message of the parameters, state_dict and backward checks is provoked on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import hypothesis
import pytest
import torch
from hypothesis import strategies as st

from conformance import run_check
from conformance.runner import Outcome
from nnresolve import Implementation
from spec import Entry, ErrorCase, Example, T


class Scale(torch.nn.Module):
    """y = x * weight + bias, with a persistent buffer ``count`` and a non-persistent one, ``cache``."""

    def __init__(self, n: int, bias: bool = True) -> None:
        super().__init__()
        if n <= 0:
            raise ValueError(f"n must be positive, got {n}")
        self.weight = torch.nn.Parameter(torch.randn(n))
        self.bias = torch.nn.Parameter(torch.randn(n)) if bias else None
        self.register_buffer("count", torch.zeros(n))
        self.register_buffer("cache", torch.zeros(1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x * self.weight
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"{len(self.weight)}, bias={self.bias is not None}"


def _examples() -> st.SearchStrategy[Example]:
    return st.builds(
        lambda n, rows, bias, dtype, train: Example(
            init={"n": n, "bias": bias}, args=(T((rows, n), grad=True),), dtype=dtype, train=train
        ),
        st.integers(1, 6),
        st.integers(1, 3),
        st.just(True),
        st.sampled_from(["float32", "float64"]),
        st.booleans(),
    )


ENTRY = Entry(
    name="Scale",
    path="nn.Scale",
    kind="module",
    page="scale",
    checks=("forward", "backward", "parameters", "state_dict", "repr", "dtype", "errors"),
    examples=_examples(),
    reference=Scale,
    errors=(
        ErrorCase("n = 0", Example(init={"n": 0}, args=(T((2,)),)), raises=("ValueError",)),
        ErrorCase("wrong input length", Example(init={"n": 3}, args=(T((4,)),), dtype="float64", train=False)),
    ),
)


def run(cls: type, check: str, settings: hypothesis.settings) -> Outcome:
    impl = Implementation(SimpleNamespace(__name__="variant", nn=SimpleNamespace(Scale=cls)))
    return run_check(impl, ENTRY, check, settings)


class Copy(Scale):
    pass


class ReprWithoutBias(Scale):
    def extra_repr(self) -> str:
        return str(len(self.weight))


class ReprWithoutName(Scale):
    def __repr__(self) -> str:
        return f"scale of {len(self.weight)}"


class RenamedWeight(Scale):
    def __init__(self, n: int, bias: bool = True) -> None:
        super().__init__(n, bias)
        self.w = self.weight
        del self.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.w + self.bias  # type: ignore[operator]


class WideWeight(Scale):
    def __init__(self, n: int, bias: bool = True) -> None:
        super().__init__(n, bias)
        self.weight = torch.nn.Parameter(torch.randn(1, n))


class DoubleCount(Scale):
    def __init__(self, n: int, bias: bool = True) -> None:
        super().__init__(n, bias)
        self.count = torch.zeros(n, dtype=torch.float64)


class FrozenWeight(Scale):
    def __init__(self, n: int, bias: bool = True) -> None:
        super().__init__(n, bias)
        self.weight.requires_grad_(False)


class NoCount(Scale):
    def __init__(self, n: int, bias: bool = True) -> None:
        super().__init__(n, bias)
        del self.count


class BiasAsBuffer(Scale):
    """bias is a buffer, not a parameter: the state_dict is the same, but bias gets no gradient."""

    def __init__(self, n: int, bias: bool = True) -> None:
        super().__init__(n, bias)
        b = self.bias.detach()  # type: ignore[union-attr]
        del self.bias
        self.register_buffer("bias", b)
        # Keep torch's state_dict order: weight, bias, count.
        self._buffers = {"bias": self._buffers.pop("bias"), **self._buffers}


class DetachedWeight(Scale):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight.detach() + self.bias  # type: ignore[operator]


class LoadsNothing(Scale):
    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        return torch.nn.modules.module._IncompatibleKeys(["weight"], ["extra"])


class ExtraKey(Scale):
    def state_dict(self, *args: Any, **kwargs: Any) -> Any:
        return {**super().state_dict(*args, **kwargs), "extra": torch.zeros(1)}

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        return super().load_state_dict({k: v for k, v in state_dict.items() if k != "extra"}, strict, assign)


class RejectsWeights(Scale):
    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any:
        raise KeyError("cannot load")


class TrainingShift(Scale):
    """Adds 1 in training mode: right exactly when the harness calls eval() for eval examples."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) + (1.0 if self.training else 0.0)


class Float32Only(Scale):
    def to(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("float32 only")


class TypeErrorOnZero(Scale):
    def __init__(self, n: int, bias: bool = True) -> None:
        if n <= 0:
            raise TypeError("n")
        super().__init__(n, bias)


class Truncates(Scale):
    """Cuts a longer input down to n elements, but only in eval mode and in float64."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training and self.weight.dtype == torch.float64:
            x = x[..., : self.weight.shape[0]]
        return super().forward(x)


class AcceptsZero(Scale):
    def __init__(self, n: int, bias: bool = True) -> None:
        super().__init__(max(n, 1), bias)


@pytest.mark.parametrize("check", ENTRY.checks)
def test_a_faithful_copy_passes(check: str, ci_settings: hypothesis.settings) -> None:
    assert run(Copy, check, ci_settings).status == "passed"


@pytest.mark.parametrize(
    ("cls", "check", "message"),
    [
        (
            RenamedWeight,
            "parameters",
            "parameters are named ['bias', 'w'], torch's are ['weight', 'bias'] (missing ['weight'], unexpected ['w'])",
        ),
        (WideWeight, "parameters", "parameters: 'weight' has shape (1, "),
        (DoubleCount, "parameters", "buffers: 'count' has dtype torch.float64, torch's has torch.float32"),
        (FrozenWeight, "parameters", "parameter 'weight' does not require grad"),
        (
            NoCount,
            "parameters",
            "buffers are named ['cache'], torch's are ['count', 'cache'] (missing ['count'], unexpected [])",
        ),
        (
            NoCount,
            "state_dict",
            "state_dict keys are named ['weight', 'bias'], torch's are ['weight', 'bias', 'count']",
        ),
        (ReprWithoutBias, "repr", "repr() is 'ReprWithoutBias(1)'; torch's is 'Scale(1, bias=True)'"),
        (ReprWithoutName, "repr", "repr() is 'scale of 1'; it should start with the class name 'ReprWithoutName'"),
        (LoadsNothing, "state_dict", "load_state_dict(torch's) reports missing ['weight'], unexpected ['extra']"),
        (ExtraKey, "state_dict", "state_dict keys are named ['weight', 'bias', 'count', 'extra']"),
        (
            RenamedWeight,
            "forward",
            "variant.nn.Scale.load_state_dict(reference state_dict with keys ['weight', 'bias', 'count']) "
            "raised RuntimeError",
        ),
        (RejectsWeights, "forward", "raised KeyError: 'cannot load'"),
        (BiasAsBuffer, "backward", "has no parameter 'bias'; it has ['weight']"),
        (DetachedWeight, "backward", "grad of parameter 'weight' is None, the reference computes one"),
        (TrainingShift, "forward", "output: values differ"),
        (
            TypeErrorOnZero,
            "errors",
            "bad input (n = 0) raised TypeError: n; expected one of ['ValueError']",
        ),
        (AcceptsZero, "errors", "bad input (n = 0) did not raise"),
        (
            Truncates,
            "errors",
            "bad input (wrong input length) did not raise; init={'n': 3}, args=(T((4,)),), dtype=float64",
        ),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else None,
)
def test_a_variant_fails_with_a_message_naming_what_differs(
    cls: type, check: str, message: str, ci_settings_unshrunk: hypothesis.settings
) -> None:
    outcome = run(cls, check, ci_settings_unshrunk)
    assert outcome.status == "failed", outcome.describe()
    assert message in outcome.message, outcome.message


def test_eval_examples_put_the_module_in_eval_mode(ci_settings: hypothesis.settings) -> None:
    outcome = run(TrainingShift, "forward", ci_settings)
    # The shrunk example is a training one: the eval examples passed, so eval() was called.
    assert outcome.status == "failed" and "mode=eval" not in (outcome.example or "")
    evaluating = Entry(
        **{**ENTRY.__dict__, "examples": _examples().map(lambda e: Example(**{**e.__dict__, "train": False}))}
    )
    impl = Implementation(SimpleNamespace(__name__="variant", nn=SimpleNamespace(Scale=TrainingShift)))
    assert run_check(impl, evaluating, "forward", ci_settings).status == "passed"


def test_a_module_that_cannot_change_dtype_is_unsupported_in_float64(ci_settings: hypothesis.settings) -> None:
    outcome = run(Float32Only, "dtype", ci_settings)
    assert outcome.status == "unsupported"
    assert "float32 only" in outcome.message
