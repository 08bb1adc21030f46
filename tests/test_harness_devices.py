"""conformance.devices: --device / $NNSPEC_DEVICE, which checks move, and the values being the same on every device."""

from __future__ import annotations

import pytest
import torch

from conformance import devices, run_check
from conformance.__main__ import main
from conformance.checks import registry
from conformance.materialize import Materialized, flatten_tensors
from conformance.runner import load_implementation, repro_snippet
from spec import CHECKS, Example, T, get

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_default_is_cpu_and_the_environment_can_change_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NNSPEC_DEVICE", raising=False)
    assert devices.resolve() == torch.device("cpu")
    monkeypatch.setenv("NNSPEC_DEVICE", "cpu:0")
    assert devices.resolve() == torch.device("cpu:0")
    # An explicit name wins over the environment.
    monkeypatch.setenv("NNSPEC_DEVICE", "no-such-device")
    assert devices.resolve("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device 'no-such-device'"):
        devices.resolve()


def test_meta_is_refused_it_holds_no_values() -> None:
    with pytest.raises(ValueError, match="device 'meta' holds no values"):
        devices.resolve("meta")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_absent_cuda_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"device 'cuda' asked for, but torch.cuda.is_available\(\) is False"):
        devices.resolve("cuda")


def test_numerical_checks_move_and_bookkeeping_stays_on_the_cpu() -> None:
    # Names only checks that exist (a typo would silently leave a check on the CPU).
    assert devices.ON_DEVICE.issubset(CHECKS) and devices.ON_DEVICE.issubset(registry())
    meta = torch.device("meta")
    numerical = ("forward", "backward", "no_grad", "strided", "half", "dtype", "stability", "random_mask")
    for name in (*numerical, "trajectory", "resume", "properties"):
        assert devices.for_check(name, meta) == meta
    # Error checks would hit CUDA's device-side asserts; init statistics and module bookkeeping are device-free.
    for name in ("errors", "init", "parameters", "state_dict", "semantics"):
        assert devices.for_check(name, meta) == devices.CPU


def test_materialized_values_are_drawn_on_the_cpu_then_moved() -> None:
    example = Example(args=(T((4, 5), grad=True), T((3,), fill="index", low=0, high=9, dtype="int64")), seed=3)
    on_meta = flatten_tensors(Materialized(example, "meta").copy()[1])
    on_cpu = flatten_tensors(Materialized(example).copy()[1])
    assert [t.device.type for t in on_meta] == ["meta", "meta"]
    assert [t.device.type for t in on_cpu] == ["cpu", "cpu"]
    assert on_meta[0].requires_grad and on_meta[0].is_leaf and not on_meta[1].requires_grad
    assert [t.shape for t in on_meta] == [t.shape for t in on_cpu]


def test_cli_rejects_an_unusable_device_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["torch", "-k", "gelu and forward", "--device", "meta"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: device 'meta' holds no values")


def test_cpu_run_says_nothing_of_devices_in_its_replay_snippet() -> None:
    impl = load_implementation("impl")
    entry = get("GELU")
    assert "device" not in repro_snippet(impl, entry, "forward", None)
    assert "device='cuda:0'" in repro_snippet(impl, entry, "forward", None, torch.device("cuda:0"))


@CUDA
@pytest.mark.parametrize("implementation", ["torch", "impl"])
@pytest.mark.parametrize("check", ["forward", "backward", "trajectory"])
def test_numerical_checks_pass_on_cuda(implementation: str, check: str) -> None:
    component = "AdamW" if check == "trajectory" else "LayerNorm"
    outcome = run_check(load_implementation(implementation), get(component), check, device="cuda")
    assert outcome.status == "passed", outcome.describe()
    assert outcome.examples > 0


@CUDA
def test_an_output_left_on_the_cpu_fails_on_cuda() -> None:
    outcome = run_check(
        load_implementation("tests.planted.device_output_on_cpu"), get("Linear"), "forward", device="cuda"
    )
    assert outcome.status == "failed"
    assert "on device cpu, the reference's is on cuda:0" in outcome.message
