"""optim.Adam: Adam with L2 weight decay (or decoupled, as AdamW). The page is spec/pages/adam.md.

An example is a short training run, as for AdamW (``spec/components/adamw.py``), with Adam's hyperparameters:
AdamW's, whose ``weight_decay`` here defaults to 0 and is added to the gradient, and ``decoupled_weight_decay``.
"""

from __future__ import annotations

from hypothesis import strategies as st

from spec.components.adamw import ADAM_ERRORS, GROUP_KEYS, HYPER, amsgrad_run
from spec.entry import Entry
from spec.strategies import optimizer_runs

ENTRIES = [
    Entry(
        name="Adam",
        path="optim.Adam",
        kind="optimizer",
        page="adam",
        checks=("trajectory", "resume", "errors"),
        examples=optimizer_runs({**HYPER, "decoupled_weight_decay": st.booleans()}, amsgrad_run),
        errors=ADAM_ERRORS,
        extra={"group_keys": (*GROUP_KEYS, "decoupled_weight_decay")},
    ),
]
