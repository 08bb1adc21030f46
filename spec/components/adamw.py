"""optim.AdamW: Adam with decoupled weight decay. The page is spec/pages/adamw.md.

An example is a short training run with made-up gradients. ``init`` holds the hyperparameters passed to the
constructor (any of them may be left to torch's default); ``extra`` holds the run:

* ``shapes``: the parameters' shapes (0-D to 2-D); their initial values come from the example's seed.
* ``groups``: None to pass the parameters as one list (or, with ``params_as="generator"``, as a generator), else
  parameter groups ``[{"params": [indices], **overrides}, ...]``.
* ``grads``: for each step, for each parameter, the scale of its gradient (a standard normal tensor times the
  scale, scales spanning 1e-6..1e3 so that steps differ by orders of magnitude) or None to leave ``.grad`` as it is
  (None after ``zero_grad()``, zeros after ``zero_grad(set_to_none=False)``, else the previous step's gradient).
* ``zero_grad``: for each step, what to call before the gradients are set: None (nothing), ``"default"``
  (``zero_grad()``), True or False (``zero_grad(set_to_none=...)``).
* ``resume_at``: after how many steps the ``resume`` check saves and reloads the optimizer's state.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from spec.entry import Entry, ErrorCase, Example, T
from spec.strategies import optimizer_runs

#: The hyperparameters every param group of the state_dict carries, as in torch.
GROUP_KEYS = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")

_lrs = st.sampled_from([1e-3, 0.1, 6e-4, 0.0]) | st.floats(1e-5, 0.1)
_beta1 = st.sampled_from([0.9, 0.0, 0.5]) | st.floats(0.0, 0.99)
_beta2 = st.sampled_from([0.999, 0.95, 0.99, 0.0, 0.9999]) | st.floats(0.5, 0.9999)
_betas = st.tuples(_beta1, _beta2)
_epss = st.sampled_from([1e-8, 1e-6, 1e-3, 1e-2]) | st.floats(1e-10, 1e-2)
_weight_decays = st.sampled_from([0.01, 0.0, 0.1]) | st.floats(0.0, 0.1)

#: Adam's and AdamW's hyperparameters, each drawn or left to the default.
HYPER: dict[str, st.SearchStrategy[Any]] = {
    "lr": _lrs,
    "betas": _betas,
    "eps": _epss,
    "weight_decay": _weight_decays,
    "amsgrad": st.booleans(),
    "maximize": st.booleans(),
}


def amsgrad_run(draw: st.DrawFn, init: dict[str, Any], shapes: list[tuple[int, ...]], steps: int) -> Any:
    """In a quarter of the runs, shrinking gradients with amsgrad on: the running max of v then differs from v,
    which random scales rarely arrange within a dozen examples."""
    if draw(st.integers(0, 3)) != 0:
        return None
    init["amsgrad"] = True
    return [[10.0 ** (2 - 2 * step) for _ in shapes] for step in range(steps)]


def bad(why: str, raises: str, *args: Any, **kwargs: Any) -> ErrorCase:
    """An optimizer constructed with ``args`` (default: one parameter) and ``kwargs`` must raise ``raises``."""
    return ErrorCase(why, Example(args=args or ([T((3,), grad=True)],), kwargs=kwargs), (raises,))


#: The bad arguments of every optimizer: no parameters, or a tensor where an iterable of them belongs.
PARAMS_ERRORS = (
    bad("empty parameter list", "ValueError", []),
    bad("a tensor instead of an iterable of tensors", "TypeError", T((3,), grad=True)),
)
#: Adam's and AdamW's bad hyperparameters.
ADAM_ERRORS = (
    bad("negative learning rate", "ValueError", lr=-1e-3),
    bad("negative eps", "ValueError", eps=-1e-8),
    bad("beta1 = 1", "ValueError", betas=(1.0, 0.999)),
    bad("beta2 = 1", "ValueError", betas=(0.9, 1.0)),
    bad("negative beta1", "ValueError", betas=(-0.1, 0.999)),
    bad("negative weight decay", "ValueError", weight_decay=-0.01),
    *PARAMS_ERRORS,
)


ENTRIES = [
    Entry(
        name="AdamW",
        path="optim.AdamW",
        kind="optimizer",
        page="adamw",
        checks=("trajectory", "resume", "errors"),
        examples=optimizer_runs(HYPER, amsgrad_run),
        errors=ADAM_ERRORS,
        extra={"group_keys": GROUP_KEYS},
    ),
]
