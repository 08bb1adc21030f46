"""The examples on the spec pages hold for torch, for impl, and for any implementation given with ``--impl``."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import spec
from conformance.examples import page_blocks, pages_with_examples, run_examples
from nnresolve import Implementation
from tests.planted.torchlike import planted


@pytest.mark.parametrize("page", pages_with_examples())
def test_spec_page_examples(conformance_impl: Implementation, page: str, request: pytest.FixtureRequest) -> None:
    outcome = run_examples(conformance_impl, page)
    if outcome.status == "missing" and not request.config.getoption("--conformance-strict"):
        pytest.skip(outcome.message)
    assert outcome.status == "passed", outcome.message


def test_the_pages_that_show_a_component_in_use_are_found(repo_root: Path) -> None:
    pages = pages_with_examples()
    assert {"linear", "layer_norm", "gelu", "softmax", "cross_entropy", "adamw", "module"} <= set(pages)
    line, block = page_blocks("linear")[0]
    assert block.startswith(">>> m = nn.Linear(20, 30)\n")
    assert (repo_root / "spec/pages/linear.md").read_text().splitlines()[line] == ">>> m = nn.Linear(20, 30)"


def test_every_page_of_a_component_shows_it_in_use() -> None:
    # "Adding a component" asks for an example on the page; the pages no entry names (distributed) may go without
    lacking = sorted({entry.page for entry in spec.entries()} - set(pages_with_examples()))
    assert lacking == [], f"spec pages without a >>> example: {lacking}"


def test_a_wrong_output_fails_naming_the_page_line_and_both_values() -> None:
    outcome = run_examples(Implementation("tests.planted.bug_gelu_tanh_constant"), "gelu")
    assert outcome.status == "failed"
    assert 'File "spec/pages/gelu.md", line 78, in gelu (with tests.planted.bug_gelu_tanh_constant)' in outcome.message
    assert "nn.functional.gelu(x, approximate='tanh')\nExpected:\n    tensor([-0.1004,  0.0000,  0.8412])\nGot:" in (
        outcome.message
    )


def test_a_component_the_implementation_lacks_makes_the_page_missing() -> None:
    outcome = run_examples(planted({"nn.Linear": torch.nn.Linear}), "gelu")
    assert (outcome.status, outcome.message) == (
        "missing",
        "spec/pages/gelu.md uses nn.GELU: SimpleNamespace has no nn.GELU: SimpleNamespace.nn.GELU does not exist",
    )
    linear_only = planted({"nn.Linear": torch.nn.Linear, "nn.functional.linear": torch.nn.functional.linear})
    assert run_examples(linear_only, "linear").status == "passed"


def test_overrides_serve_the_examples() -> None:
    # a map file's override reaches the page: torch with impl's gelu fails nothing, and with the planted one fails
    assert run_examples(Implementation("torch", {"gelu": "impl"}), "gelu").status == "passed"
    broken = Implementation("torch", {"gelu": "tests.planted.bug_gelu_tanh_constant"})
    assert run_examples(broken, "gelu").status == "failed"


def test_examples_leave_the_random_state_and_the_working_directory_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    assert run_examples(Implementation("torch"), "adamw").status == "passed"  # it saves opt.pt
    assert torch.rand(3).equal(expected)
    assert list(tmp_path.iterdir()) == []


def test_a_page_without_examples_is_an_error() -> None:
    with pytest.raises(
        ValueError, match=r"spec/pages/distributed.md shows no examples; pages that do: \['adam', 'adamw'"
    ):
        run_examples(Implementation("torch"), "distributed")


def test_the_examples_of_a_component_torch_lacks_hold_for_the_spec_reference() -> None:
    from spec.reference.rotary import RotaryEmbedding

    assert run_examples(Implementation("torch"), "rotary").status == "missing"
    assert run_examples(planted({"nn.RotaryEmbedding": RotaryEmbedding}), "rotary").status == "passed"
    with pytest.raises(ValueError, match=r"no spec page named 'lineer'; the pages: \['adam', 'adamw', "):
        run_examples(Implementation("torch"), "lineer")


# Planted bugs that a page's examples alone show (the suite catches all 97): a page edit that weakens its example
# fails here.
CAUGHT_BY_EXAMPLES = {
    "bug_adam_decoupled_decay": "adam",
    "bug_adamw_amsgrad_ignored": "adamw",
    "bug_adamw_coupled_l2": "adamw",
    "bug_adamw_maximize_ignored": "adamw",
    "bug_adamw_no_bias_correction": "adamw",
    "bug_batch_sampler_len_ignores_drop_last": "data",
    "bug_cross_entropy_ignore_mean": "cross_entropy",
    "bug_clip_grad_norm_scales_up": "clip_grad_norm",
    "bug_dataloader_drop_last_ignored": "data",
    "bug_dataloader_no_base_seed": "data",
    "bug_default_collate_floats_as_float32": "data",
    "bug_distributed_sampler_no_padding": "data",
    "bug_dropout_no_rescale": "dropout",
    "bug_embedding_padding_grad": "embedding",
    "bug_fake_quantize_grad_unmasked": "fake_quantize",
    "bug_fake_quantize_keeps_zero_point": "fake_quantize",
    "bug_fake_quantize_rounds_half_away": "fake_quantize",
    "bug_gelu_approximate_ignored": "gelu",
    "bug_gelu_tanh_constant": "gelu",
    "bug_gqa_tiled_heads": "gqa",
    "bug_init_kaiming_fan_out": "init",
    "bug_init_normal_std": "init",
    "bug_kv_cache_reset_first_layer": "kv_cache",
    "bug_kv_cache_returns_whole_buffer": "kv_cache",
    "bug_kv_cache_shared_position": "kv_cache",
    "bug_kv_cache_wraps_around": "kv_cache",
    "bug_layernorm_eps_default": "layer_norm",
    "bug_layernorm_unbiased_var": "layer_norm",
    "bug_linear_bias_grad_mean": "linear",
    "bug_linear_bias_twice": "linear",
    "bug_linear_init_relu_gain": "linear",
    "bug_linear_no_bias_by_default": "linear",
    "bug_log_softmax_of_softmax": "softmax",
    "bug_lr_cosine_flat_after_t_max": "lr_scheduler",
    "bug_lr_lambda_resume_restarts": "lr_scheduler",
    "bug_lr_linear_closed_form": "lr_scheduler",
    "bug_lr_sequential_steps_at_milestone": "lr_scheduler",
    "bug_module_repr_extra_repr_own_line": "module",
    "bug_module_saves_nonpersistent_buffer": "module",
    "bug_moduledict_sorted_keys": "containers",
    "bug_modulelist_slice_is_a_list": "containers",
    "bug_module_train_not_recursive": "module",
    "bug_parameter_no_grad_by_default": "init",
    "bug_random_split_rounds_fractions": "data",
    "bug_sgd_dampens_first_step": "sgd",
    "bug_sgd_nesterov_ignored": "sgd",
    "bug_sgd_state_without_momentum": "sgd",
    "bug_silu_grad_drops_term": "silu",
    "bug_silu_inplace_ignored": "silu",
    "bug_silu_overflows_to_nan": "silu",
    "bug_softmax_dtype_ignored": "softmax",
    "bug_sequential_del_leaves_gaps": "containers",
    "bug_softmax_last_dim": "softmax",
    "bug_weighted_sampler_replacement_ignored": "data",
}


@pytest.mark.parametrize(("bug", "page"), CAUGHT_BY_EXAMPLES.items())
def test_the_examples_show_a_planted_bug(bug: str, page: str) -> None:
    outcome = run_examples(Implementation(f"tests.planted.{bug}"), page)
    assert outcome.status == "failed", f"spec/pages/{page}.md's examples pass with {bug}"
