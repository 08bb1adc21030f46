"""The batches check of ``utils.data`` components: what it compares and how its messages read.

The planted bugs (``tests/planted/bug_dataloader_*`` and the others of ``utils.data``) show that it catches wrong
loaders; these tests pin down the details: a random draw too few is a failure even when the batches are right, a
message names the batch and both sides' values, and a component the implementation lacks is unsupported.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import torch
import torch.utils.data

import spec
from conformance import profiles
from conformance.checks import registry
from conformance.checks.base import CheckFailed, Context, Unsupported
from conformance.checks.data import Rows, difference, sample
from nnresolve import Implementation
from spec.entry import Example
from tests.planted.torchlike import planted

TORCH = Implementation("torch")
SETTINGS = hypothesis.settings(profiles.get("ci"), max_examples=6)


def run_example(impl: Implementation, entry: str, example: Example, check: str = "batches") -> None:
    ctx = Context(spec.get(entry), impl, TORCH, SETTINGS)
    registry()[check].body(ctx, example)


def loader_example(**extra: Any) -> Example:
    return Example(init={"batch_size": 2}, seed=3, extra={"n": 5, "item": "pair", "epochs": 2, **extra})


def test_torch_passes_its_own_runs() -> None:
    run_example(TORCH, "DataLoader", loader_example(generator=7))
    run_example(TORCH, "DataLoader", Example(init={"batch_size": 3}, extra={"n": 7, "item": "iterable", "epochs": 1}))


def test_a_loader_with_the_right_batches_but_one_draw_too_few_fails_on_the_random_state() -> None:
    bug = Implementation("tests.planted.bug_dataloader_no_base_seed")
    with pytest.raises(CheckFailed, match="after epoch 1 of 2 the global random state differs from torch's") as info:
        run_example(bug, "DataLoader", loader_example())  # no shuffle: the batches are torch's
    assert "each iter(loader) first draws a base seed" in str(info.value)


def test_a_wrong_batch_is_named_with_both_sides_values() -> None:
    class Reversed(torch.utils.data.DataLoader):  # type: ignore[type-arg]
        def __iter__(self) -> Any:
            return iter(list(super().__iter__())[::-1])

    impl = planted({"utils.data.DataLoader": Reversed})
    with pytest.raises(CheckFailed) as info:
        run_example(impl, "DataLoader", loader_example())
    assert "in epoch 1 of 2: batch 0[0] is tensor([[4.0, 4.0, 4.0]], dtype=torch.float32); torch's is " in str(
        info.value
    )


def test_a_missing_len_and_a_missing_base_class_are_reported() -> None:
    class NoLen(torch.utils.data.DataLoader):  # type: ignore[type-arg]
        def __len__(self) -> int:
            raise TypeError("no len")

    with pytest.raises(CheckFailed, match=r"len\(DataLoader\(.*\)\) raised TypeError: no len"):
        run_example(planted({"utils.data.DataLoader": NoLen}), "DataLoader", loader_example())
    lacking = planted({"utils.data.DataLoader": torch.utils.data.DataLoader})  # and no IterableDataset
    with pytest.raises(Unsupported, match=r"needs utils\.data\.IterableDataset"):
        run_example(
            lacking, "DataLoader", Example(init={"batch_size": 2}, extra={"n": 3, "item": "iterable"} | {"epochs": 1})
        )


def test_difference_names_types_keys_lengths_and_values() -> None:
    t = torch.tensor([1, 2])
    assert difference([t, {"a": 1}], [t, {"a": 1}], "batch 0") is None
    assert difference(t.double(), t, "b") == (
        "b is tensor([1.0, 2.0], dtype=torch.float64); torch's is tensor([1, 2], dtype=torch.int64)"
    )
    assert difference((t,), [t], "b") == "b is tuple (tensor([1, 2]),); torch's is list [tensor([1, 2])]"
    assert difference({"b": 1, "a": 2}, {"a": 2, "b": 1}, "b") == "b has the keys ['b', 'a']; torch's has ['a', 'b']"
    assert difference([1, 2], [1, 2, 3], "b").startswith("b has 2 items; torch's has 3")  # type: ignore[union-attr]
    assert difference({"w": [1, 5]}, {"w": [1, 4]}, "b") == "b['w'][1] is int 5; torch's is int 4"


def test_samples_name_their_index_and_the_dataset_refuses_past_its_end() -> None:
    rows = Rows(3, "tensor")
    assert torch.equal(rows[2], torch.tensor([2, 2.5])) and torch.equal(rows[-1], rows[2])
    with pytest.raises(IndexError, match="sample 3 of a dataset of 3"):
        rows[3]
    assert sample("record", 1)["pair"][1] == 1
    with pytest.raises(ValueError, match="no sample kind 'tensors'"):
        sample("tensors", 0)


def test_a_run_leaves_the_callers_random_state_alone() -> None:
    torch.manual_seed(11)
    before = torch.get_rng_state()
    run_example(TORCH, "RandomSampler", Example(seed=1, extra={"n": 9, "generator": None, "epochs": 2}))
    assert torch.equal(torch.get_rng_state(), before)
