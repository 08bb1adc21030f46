"""``python -m conformance.distributed``: torch's and impl's DistributedDataParallel pass; planted bugs are caught.

Every run spawns two gloo processes on the CPU (about 5 s); each planted bug runs only the checks that must catch it.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import tests.planted
from conformance.distributed import main
from conformance.distributed_checks import DISTRIBUTED_CHECKS, check_distributed

DDP_BUGS = sorted(m.name for m in pkgutil.iter_modules(tests.planted.__path__) if m.name.startswith("ddp_bug_"))


@pytest.mark.parametrize("implementation", ["torch", "impl"])
def test_torch_and_impl_pass_every_check(implementation: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([implementation, "--strict"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"passed      {name}" for name in DISTRIBUTED_CHECKS] + ["PASSED"]


def test_every_check_has_a_planted_bug() -> None:
    caught_by = {c for name in DDP_BUGS for c in importlib.import_module(f"tests.planted.{name}").CATCHES}
    assert caught_by == set(DISTRIBUTED_CHECKS)


@pytest.mark.parametrize("name", DDP_BUGS, ids=[n.removeprefix("ddp_bug_") for n in DDP_BUGS])
def test_planted_ddp_bug_is_caught(name: str) -> None:
    module = importlib.import_module(f"tests.planted.{name}")
    assert module.__doc__, f"{name} must say what is wrong"
    results = check_distributed(f"tests.planted.{name}", checks=list(module.CATCHES), timeout=5)
    failed = [r for r in results if r.status == "failed"]
    assert failed, f"{name} passed {[r.check for r in results]}"
    assert all(r.message.startswith(("rank ", "every rank: ")) for r in failed), failed


def test_a_rank_stuck_in_a_collective_fails_by_the_timeout_and_the_rest_is_not_run() -> None:
    checks = ["gradient_mean", "state_dict"]
    stuck, after = check_distributed("tests.planted.ddp_bug_reduces_on_rank_zero", checks=checks, timeout=3)
    assert stuck.status == "failed" and "Timed out" in stuck.message, stuck
    assert after.status == "failed" and "not run on rank" in after.message and "gradient_mean" in after.message


def test_a_map_file_serves_the_wrapper_from_elsewhere(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    map_file = tmp_path / "map.toml"
    target = "tests.planted.ddp_bug_sums_gradients:DistributedDataParallel"
    map_file.write_text(f'[components]\nDistributedDataParallel = "{target}"\n')
    assert main(["impl", "--map", str(map_file), "--check", "gradient_mean"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("failed      gradient_mean: rank 0: fc1.weight.grad after one backward") and "FAILED" in out


def test_bad_arguments_are_errors_in_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tests.planted.partial_linear"]) == 1
    assert "missing: tests.planted.partial_linear has no nn." in capsys.readouterr().err
    assert main(["no_such_module_xyz"]) == 2
    assert "error: importing no_such_module_xyz raised ModuleNotFoundError" in capsys.readouterr().err
    assert main(["impl", "--world-size", "1"]) == 2
    assert "world_size must be at least 2" in capsys.readouterr().err
    assert main(["impl", "--timeout", "0"]) == 2
    assert "timeout must be a positive number" in capsys.readouterr().err
    assert main(["impl", "--map", "no/such/map.toml"]) == 2
    assert "is not a file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["impl", "--check", "no_such_check"])
    with pytest.raises(ValueError, match="unknown distributed checks"):
        check_distributed("impl", checks=["no_such_check"])
