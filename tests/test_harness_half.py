"""The half check's verdicts: a wrong dtype, a lost graph or gradient in half precision, and a reference that has
no half-precision kernel. (Its accuracy criterion is exercised by the planted bugs and by the conformance runs.)"""

from __future__ import annotations

import dataclasses
from typing import Any

import hypothesis
import torch

import spec
from conformance import run_check
from nnresolve import Implementation
from tests.planted.torchlike import torch_like

HALF = (torch.float16, torch.bfloat16)


def _run(component: str, settings: hypothesis.settings, entry: spec.Entry | None = None, **functional: Any) -> Any:
    impl = Implementation(torch_like(functional=functional))
    return run_check(impl, entry or spec.get(component), "half", settings)


def test_a_half_result_in_another_dtype_fails_naming_the_dtype(ci_settings_unshrunk: hypothesis.settings) -> None:
    def gelu(input: torch.Tensor, approximate: str = "none") -> torch.Tensor:
        return torch.nn.functional.gelu(input.float(), approximate=approximate)  # never rounded back

    outcome = _run("gelu", ci_settings_unshrunk, gelu=gelu)
    assert outcome.status == "failed"
    assert "in bfloat16: output has dtype torch.float32" in outcome.message


def test_a_graph_lost_in_half_precision_fails(ci_settings_unshrunk: hypothesis.settings) -> None:
    def gelu(input: torch.Tensor, approximate: str = "none") -> torch.Tensor:
        out = torch.nn.functional.gelu(input, approximate=approximate)
        return out.detach() if input.dtype in HALF else out

    outcome = _run("gelu", ci_settings_unshrunk, gelu=gelu)
    assert outcome.status == "failed"
    assert "output 0 does not require grad, but the reference's does" in outcome.message


def test_a_gradient_lost_in_half_precision_fails(ci_settings_unshrunk: hypothesis.settings) -> None:
    def linear(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        return torch.nn.functional.linear(input, weight.detach() if weight.dtype in HALF else weight, bias)

    outcome = _run("linear", ci_settings_unshrunk, linear=linear)
    assert outcome.status == "failed"
    assert "grad of args[1] is None, the reference computes one" in outcome.message


def test_a_reference_without_half_kernels_skips_the_check(ci_settings_unshrunk: hypothesis.settings) -> None:
    def float_only_gelu(input: torch.Tensor, approximate: str = "none") -> torch.Tensor:
        if input.dtype in HALF:
            raise RuntimeError(f'"gelu" not implemented for {input.dtype}')
        return torch.nn.functional.gelu(input, approximate=approximate)

    entry = dataclasses.replace(spec.get("gelu"), reference=float_only_gelu)
    outcome = _run("gelu", ci_settings_unshrunk, entry)
    assert outcome.status == "skipped" and outcome.examples == 0  # every example skipped: none applied
