"""optim.SGD: gradient descent with momentum, dampening, Nesterov momentum and L2 decay. Page: spec/pages/sgd.md.

An example is a short training run, as for AdamW (``spec/components/adamw.py``), with SGD's hyperparameters. A
drawn ``nesterov=True`` comes with a momentum above 0 and no dampening, which the constructor requires.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from spec.components.adamw import PARAMS_ERRORS, bad
from spec.entry import Entry
from spec.strategies import optimizer_runs

#: The hyperparameters every param group of the state_dict carries, as in torch.
GROUP_KEYS = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize")

_momenta = st.sampled_from([0.9, 0.0, 0.5, 0.99]) | st.floats(0.0, 0.99)

_HYPER: dict[str, st.SearchStrategy[Any]] = {
    "lr": st.sampled_from([1e-3, 0.1, 0.01, 0.0]) | st.floats(1e-5, 0.5),
    "momentum": _momenta,
    "dampening": st.sampled_from([0.0, 0.1, 0.5]) | st.floats(0.0, 0.9),
    "weight_decay": st.sampled_from([0.0, 1e-4, 0.1]) | st.floats(0.0, 0.1),
    "nesterov": st.booleans(),
    "maximize": st.booleans(),
}


def _nesterov_needs_momentum(draw: st.DrawFn, drawn: dict[str, Any]) -> None:
    if drawn.get("nesterov"):
        drawn["momentum"] = draw(_momenta.filter(lambda m: m > 0))
        drawn["dampening"] = 0.0


ENTRIES = [
    Entry(
        name="SGD",
        path="optim.SGD",
        kind="optimizer",
        page="sgd",
        checks=("trajectory", "resume", "errors"),
        examples=optimizer_runs(_HYPER, fixup=_nesterov_needs_momentum),
        errors=(
            bad("negative learning rate", "ValueError", lr=-0.1),
            bad("negative momentum", "ValueError", momentum=-0.9),
            bad("negative weight decay", "ValueError", weight_decay=-1e-4),
            bad("nesterov without momentum", "ValueError", nesterov=True),
            bad("nesterov with dampening", "ValueError", momentum=0.9, dampening=0.1, nesterov=True),
            *PARAMS_ERRORS,
        ),
        extra={"group_keys": GROUP_KEYS},
    ),
]
