"""optim.lr_scheduler: LambdaLR, LinearLR, CosineAnnealingLR, SequentialLR. The page is spec/pages/lr_scheduler.md.

An example is a schedule run: ``init`` holds the constructor's keyword arguments other than the optimizer (any of
them may be left to torch's default); ``extra`` holds what cannot be a plain argument, and the run:

* ``lrs``: the initial learning rate of each param group (one to three groups, one parameter each).
* ``steps``: how many times ``optimizer.step()`` then ``scheduler.step()`` are called.
* ``scale_at``: None, or ``(k, factor)``: before step k + 1, every group's ``lr`` is multiplied by ``factor`` by
  hand. torch's chainable schedules (LinearLR, CosineAnnealingLR) carry such a change on; LambdaLR overwrites it.
* ``lr_lambda`` (LambdaLR): the name of a factor function of :data:`FACTORS`, or a list of names, one per group.
* ``schedulers`` (SequentialLR): ``[(name, kwargs), ...]``, each built on the same optimizer by the same
  implementation, in order, before SequentialLR itself; a LambdaLR among them names its factor in
  ``kwargs["lr_lambda"]``.
* ``resume_at``: after how many steps the ``resume`` check saves the schedule's state and starts a new one from it.
* ``optimizer`` (error cases only): ``"not an optimizer"`` passes a list instead; ``"another"`` builds the
  ``other`` sub-schedule (an index) on a second optimizer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from spec.entry import Entry, ErrorCase, Example, Tolerance
from spec.strategies import seeds


def constant(epoch: int) -> float:
    return 1.0


def exponential(epoch: int) -> float:
    return 0.95**epoch


def step_decay(epoch: int) -> float:
    return 0.5 ** (epoch // 10)


def warmup(epoch: int) -> float:
    return min(1.0, (epoch + 1) / 10)


def warmup_cosine(epoch: int) -> float:
    """nanoGPT's schedule as a factor: 10 steps of warmup from 0, a cosine to 0.1 at step 50, then flat."""
    if epoch < 10:
        return epoch / 10
    if epoch > 50:
        return 0.1
    return 0.1 + 0.45 * (1.0 + math.cos(math.pi * (epoch - 10) / 40))


def inverse_sqrt(epoch: int) -> float:
    return 1.0 / math.sqrt(max(epoch, 1))


#: The factor functions a LambdaLR example may name (plain functions, so a state_dict saves them as None).
FACTORS: dict[str, Callable[[int], float]] = {
    f.__name__: f for f in (constant, exponential, step_decay, warmup, warmup_cosine, inverse_sqrt)
}

_lrs = st.sampled_from([1e-3, 6e-4, 0.1, 1.0]) | st.floats(1e-5, 1.0)
_factor_names = st.sampled_from(sorted(FACTORS))


def _optional(draw: st.DrawFn, strategies: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """Some of the keyword arguments, each drawn or left to the default."""
    return {name: draw(strategy) for name, strategy in strategies.items() if draw(st.booleans())}


def _linear_kwargs(draw: st.DrawFn) -> dict[str, Any]:
    return _optional(
        draw,
        {
            "start_factor": st.sampled_from([1e-3, 0.1, 0.5, 1.0]) | st.floats(1e-3, 1.0),
            "end_factor": st.sampled_from([1.0, 0.0, 0.5]) | st.floats(0.0, 1.0),
            "total_iters": st.integers(1, 30),
        },
    )


def _cosine_kwargs(draw: st.DrawFn) -> dict[str, Any]:
    # T_max is required; up to 60 steps run past it, where torch's cosine climbs back up (it does not stay flat).
    return {
        "T_max": draw(st.integers(1, 30)),
        **_optional(draw, {"eta_min": st.sampled_from([0.0, 1e-5, 1e-4]) | st.floats(0.0, 1e-3)}),
    }


def _run(draw: st.DrawFn, max_steps: int = 60) -> dict[str, Any]:
    steps = draw(st.integers(0, max_steps))
    scale_at = None
    if steps and draw(st.integers(0, 3)) == 0:
        scale_at = (draw(st.integers(0, steps - 1)), draw(st.sampled_from([0.5, 0.1, 2.0])))
    return {
        "lrs": draw(st.lists(_lrs, min_size=1, max_size=3)),
        "steps": steps,
        "scale_at": scale_at,
        "resume_at": draw(st.integers(0, steps)),
    }


@st.composite
def _lambda_examples(draw: st.DrawFn) -> Example:
    run = _run(draw)
    one = draw(st.booleans())
    lr_lambda: Any = draw(_factor_names) if one else [draw(_factor_names) for _ in run["lrs"]]
    return Example(dtype="float64", seed=draw(seeds), extra={**run, "lr_lambda": lr_lambda})


@st.composite
def _linear_examples(draw: st.DrawFn) -> Example:
    return Example(init=_linear_kwargs(draw), dtype="float64", seed=draw(seeds), extra=_run(draw))


@st.composite
def _cosine_examples(draw: st.DrawFn) -> Example:
    return Example(init=_cosine_kwargs(draw), dtype="float64", seed=draw(seeds), extra=_run(draw))


def _schedule(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(["LinearLR", "CosineAnnealingLR", "LambdaLR"]))
    if name == "LinearLR":
        return name, _linear_kwargs(draw)
    if name == "CosineAnnealingLR":
        return name, _cosine_kwargs(draw)
    return name, {"lr_lambda": draw(_factor_names)}


@st.composite
def _sequential_examples(draw: st.DrawFn) -> Example:
    if draw(st.booleans()):
        # The GPT schedule: a linear warmup, then a cosine from the milestone on.
        total = draw(st.integers(1, 20))
        warm = {"start_factor": draw(st.sampled_from([1e-3, 0.1, 0.5])), "total_iters": total}
        if draw(st.booleans()):
            warm["end_factor"] = draw(st.sampled_from([1.0, 0.5]))
        schedulers = [("LinearLR", warm), ("CosineAnnealingLR", _cosine_kwargs(draw))]
        milestones = [draw(st.sampled_from([total, total, total + 3, max(1, total - 2)]))]
    else:
        schedulers = [_schedule(draw) for _ in range(draw(st.integers(1, 3)))]
        milestones = sorted(
            draw(st.sets(st.integers(1, 40), min_size=len(schedulers) - 1, max_size=len(schedulers) - 1))
        )
    return Example(
        init={"milestones": milestones},
        dtype="float64",
        seed=draw(seeds),
        extra={**_run(draw), "schedulers": schedulers},
    )


def _bad(why: str, raises: str | tuple[str, ...], init: dict[str, Any] | None = None, **extra: Any) -> ErrorCase:
    run = {"lrs": [1e-3], "steps": 0, "scale_at": None, "resume_at": 0}
    accepted = (raises,) if isinstance(raises, str) else raises
    return ErrorCase(why, Example(init=init or {}, dtype="float64", extra={**run, **extra}), accepted)


# Learning rates run from 1e-5 to 1: float64's default atol (1e-7) would pass a schedule 1% off at lr 1e-5.
_TOLERANCE = Tolerance(
    {"float64": (1e-7, 1e-12)},
    "float64's rtol with an atol of 1e-12 instead of 1e-7: learning rates of 1e-5 must be right to 1e-7 relative too",
)


def _entry(name: str, examples: st.SearchStrategy[Example], errors: tuple[ErrorCase, ...]) -> Entry:
    return Entry(
        name=name,
        path=f"optim.lr_scheduler.{name}",
        kind="scheduler",
        page="lr_scheduler",
        checks=("trajectory", "resume", "errors"),
        examples=examples,
        errors=errors,
        tolerance=_TOLERANCE,
        extra={"factors": FACTORS},
    )


_NOT_AN_OPTIMIZER = "a list instead of an optimizer"

ENTRIES = [
    _entry(
        "LambdaLR",
        _lambda_examples(),
        (
            # torch's LambdaLR reads optimizer.param_groups before its base class checks the type.
            _bad(
                _NOT_AN_OPTIMIZER, ("TypeError", "AttributeError"), optimizer="not an optimizer", lr_lambda="constant"
            ),
            _bad("two lr_lambdas for one param group", "ValueError", lr_lambda=["constant", "warmup"]),
        ),
    ),
    _entry(
        "LinearLR",
        _linear_examples(),
        (
            _bad(_NOT_AN_OPTIMIZER, "TypeError", optimizer="not an optimizer"),
            _bad("start_factor = 0", "ValueError", {"start_factor": 0.0}),
            _bad("start_factor above 1", "ValueError", {"start_factor": 1.5}),
            _bad("negative end_factor", "ValueError", {"end_factor": -0.1}),
            _bad("end_factor above 1", "ValueError", {"end_factor": 1.5}),
        ),
    ),
    _entry(
        "CosineAnnealingLR",
        _cosine_examples(),
        (_bad(_NOT_AN_OPTIMIZER, "TypeError", {"T_max": 10}, optimizer="not an optimizer"),),
    ),
    _entry(
        "SequentialLR",
        _sequential_examples(),
        (
            _bad("no schedulers", "ValueError", {"milestones": []}, schedulers=[]),
            _bad(
                "two schedulers and two milestones",
                "ValueError",
                {"milestones": [5, 10]},
                schedulers=[("LinearLR", {}), ("CosineAnnealingLR", {"T_max": 10})],
            ),
            _bad(
                "a scheduler of another optimizer",
                "ValueError",
                {"milestones": [5]},
                schedulers=[("LinearLR", {}), ("CosineAnnealingLR", {"T_max": 10})],
                optimizer="another",
                other=1,
            ),
        ),
    ),
]
