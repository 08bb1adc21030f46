"""The schedule checks report what a learning-rate schedule gets wrong in a line that says what and when, use the
implementation's own optimizer (torch's when it has none), and treat a missing inner schedule as unsupported."""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import torch

import spec
from conformance import run_check
from conformance.runner import Outcome
from tests.planted.torchlike import planted

LR = torch.optim.lr_scheduler


def _run(components: dict[str, Any], component: str, check: str, settings: hypothesis.settings) -> Outcome:
    return run_check(planted(components), spec.get(component), check, settings)


class _CountsFromOne:
    """LambdaLR's rates, with last_epoch counted from 1."""

    def __init__(self, optimizer: Any, lr_lambda: Any) -> None:
        self.inner = LR.LambdaLR(optimizer, lr_lambda)

    @property
    def last_epoch(self) -> int:
        return self.inner.last_epoch + 1

    def step(self) -> None:
        self.inner.step()

    def get_last_lr(self) -> list[float]:
        return self.inner.get_last_lr()


class _LastLrAsNone(LR.CosineAnnealingLR):
    def get_last_lr(self) -> Any:  # type: ignore[override]
        return None


class _StateHoldsTheOptimizer(LR.LambdaLR):
    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "optimizer": self.optimizer}


class _StateDropsTheEpoch(LR.CosineAnnealingLR):
    def state_dict(self) -> dict[str, Any]:
        return {k: v for k, v in super().state_dict().items() if k != "last_epoch"}


class _RaisesTheWrongError(LR.LinearLR):
    def __init__(self, optimizer: Any, start_factor: float = 1 / 3, **kwargs: Any) -> None:
        if not 0 < start_factor <= 1:
            raise RuntimeError("bad start_factor")
        super().__init__(optimizer, start_factor, **kwargs)


@pytest.mark.parametrize(
    ("cls", "component", "check", "message"),
    [
        (_CountsFromOne, "LambdaLR", "trajectory", "after construction: last_epoch of the implementation is 1; "),
        (_LastLrAsNone, "CosineAnnealingLR", "trajectory", "get_last_lr() is None; torch's is a list of floats"),
        (_StateHoldsTheOptimizer, "LambdaLR", "resume", "does not survive torch.save/torch.load(weights_only=True)"),
        (_StateDropsTheEpoch, "CosineAnnealingLR", "resume", "state_dict()['last_epoch'] is 'missing'; torch's is"),
        (_RaisesTheWrongError, "LinearLR", "errors", "raised RuntimeError: bad start_factor; expected one of"),
    ],
    ids=["last-epoch", "get-last-lr", "state-not-a-checkpoint", "state-without-epoch", "wrong-exception"],
)
def test_a_broken_schedule_fails_naming_what(
    cls: type, component: str, check: str, message: str, ci_settings_unshrunk: hypothesis.settings
) -> None:
    outcome = _run({f"optim.lr_scheduler.{component}": cls}, component, check, ci_settings_unshrunk)
    assert outcome.status == "failed", outcome
    assert message in outcome.message


def test_the_implementations_own_optimizer_drives_its_schedule(ci_settings: hypothesis.settings) -> None:
    seen: list[str] = []

    class Recording(torch.optim.AdamW):
        def step(self, closure: Any = None) -> Any:  # type: ignore[override]
            seen.append("step")
            return super().step(closure)

    outcome = _run(
        {"optim.AdamW": Recording, "optim.lr_scheduler.LinearLR": LR.LinearLR}, "LinearLR", "trajectory", ci_settings
    )
    assert outcome.status == "passed", outcome
    assert seen, "the implementation's AdamW was not used"
    # Without an AdamW of its own, torch's serves.
    assert _run({"optim.lr_scheduler.LinearLR": LR.LinearLR}, "LinearLR", "trajectory", ci_settings).status == "passed"


def test_a_missing_inner_schedule_is_unsupported(ci_settings: hypothesis.settings) -> None:
    outcome = _run({"optim.lr_scheduler.SequentialLR": LR.SequentialLR}, "SequentialLR", "trajectory", ci_settings)
    assert outcome.status == "unsupported", outcome
    assert "needs optim.lr_scheduler." in outcome.message
