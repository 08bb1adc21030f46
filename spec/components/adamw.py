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
from spec.strategies import float_dtypes, seeds

#: The hyperparameters every param group of the state_dict carries, as in torch.
GROUP_KEYS = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize")

_lrs = st.sampled_from([1e-3, 0.1, 6e-4, 0.0]) | st.floats(1e-5, 0.1)
_beta1 = st.sampled_from([0.9, 0.0, 0.5]) | st.floats(0.0, 0.99)
_beta2 = st.sampled_from([0.999, 0.95, 0.99, 0.0, 0.9999]) | st.floats(0.5, 0.9999)
_betas = st.tuples(_beta1, _beta2)
_epss = st.sampled_from([1e-8, 1e-6, 1e-3, 1e-2]) | st.floats(1e-10, 1e-2)
_weight_decays = st.sampled_from([0.01, 0.0, 0.1]) | st.floats(0.0, 0.1)

_HYPER: dict[str, st.SearchStrategy[Any]] = {
    "lr": _lrs,
    "betas": _betas,
    "eps": _epss,
    "weight_decay": _weight_decays,
    "amsgrad": st.booleans(),
    "maximize": st.booleans(),
}

_shapes = st.lists(st.integers(1, 8), max_size=2).map(tuple)
_grad_scales = st.floats(-6.0, 3.0).map(lambda e: 10.0**e)


def _hyperparameters(draw: st.DrawFn) -> dict[str, Any]:
    return {name: draw(strategy) for name, strategy in _HYPER.items() if draw(st.booleans())}


@st.composite
def _examples(draw: st.DrawFn) -> Example:
    n_params = draw(st.integers(1, 4))
    shapes = [draw(_shapes) for _ in range(n_params)]
    groups = None
    params_as = "list"
    if n_params > 1 and draw(st.booleans()):
        labels = [draw(st.integers(0, 2)) for _ in range(n_params)]
        groups = [
            {"params": [i for i, lb in enumerate(labels) if lb == g], **_hyperparameters(draw)}
            for g in sorted(set(labels))
        ]
    elif draw(st.booleans()):
        params_as = "generator"
    steps = draw(st.integers(1, 10))
    grads = [[draw(st.none() | _grad_scales | _grad_scales) for _ in shapes] for _ in range(steps)]
    zero_grad = [draw(st.sampled_from([None, None, "default", True, False])) for _ in range(steps)]
    init = _hyperparameters(draw)
    if draw(st.integers(0, 3)) == 0:
        # Shrinking gradients with amsgrad on: the running max of v then differs from v, which random scales
        # rarely arrange within a dozen examples.
        init["amsgrad"] = True
        grads = [[10.0 ** (2 - 2 * step) for _ in shapes] for step in range(steps)]
    return Example(
        init=init,
        dtype=draw(float_dtypes),
        seed=draw(seeds),
        extra={
            "shapes": shapes,
            "groups": groups,
            "params_as": params_as,
            "grads": grads,
            "zero_grad": zero_grad,
            "resume_at": draw(st.integers(0, steps)),
        },
    )


def _bad(why: str, raises: str, *args: Any, **kwargs: Any) -> ErrorCase:
    return ErrorCase(why, Example(args=args or ([T((3,), grad=True)],), kwargs=kwargs), (raises,))


ENTRIES = [
    Entry(
        name="AdamW",
        path="optim.AdamW",
        kind="optimizer",
        page="adamw",
        checks=("trajectory", "resume", "errors"),
        examples=_examples(),
        errors=(
            _bad("negative learning rate", "ValueError", lr=-1e-3),
            _bad("negative eps", "ValueError", eps=-1e-8),
            _bad("beta1 = 1", "ValueError", betas=(1.0, 0.999)),
            _bad("beta2 = 1", "ValueError", betas=(0.9, 1.0)),
            _bad("negative beta1", "ValueError", betas=(-0.1, 0.999)),
            _bad("negative weight decay", "ValueError", weight_decay=-0.01),
            _bad("empty parameter list", "ValueError", []),
            _bad("a tensor instead of an iterable of tensors", "TypeError", T((3,), grad=True)),
        ),
        extra={"group_keys": GROUP_KEYS},
    ),
]
