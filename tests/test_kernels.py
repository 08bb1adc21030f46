"""The native kernels (impl.kernels): they build here, and both paths, native and tensor-op, pass the suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import torch

import impl.kernels as kernels
from impl.nn import functional as F


@pytest.mark.skipif(shutil.which(os.environ.get("CC") or "cc") is None, reason="no C compiler on this machine")
def test_kernels_build_and_load() -> None:
    assert kernels.native() is not None, kernels.status()


def test_usable_refuses_what_the_kernels_cannot_take() -> None:
    x = torch.randn(4, 8)
    if kernels.native() is None:
        pytest.skip(kernels.status())
    assert kernels.usable(x) is not None
    assert kernels.usable(x.double()) is None
    assert kernels.usable(x.t()) is None
    assert kernels.usable(x, None) is not None


@pytest.mark.parametrize("fn", ["layer_norm", "softmax", "log_softmax", "cross_entropy", "gelu"])
def test_native_matches_the_tensor_op_formulas(fn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if kernels.native() is None:
        pytest.skip(kernels.status())
    gen = torch.Generator().manual_seed(0)
    x = (torch.randn(37, 65, generator=gen) * 3).requires_grad_()
    target = torch.randint(0, 65, (37,), generator=gen)
    target[3] = -100
    calls = {
        "layer_norm": lambda: F.layer_norm(x, (65,)),
        "softmax": lambda: F.softmax(x, -1),
        "log_softmax": lambda: F.log_softmax(x, -1),
        "cross_entropy": lambda: F.cross_entropy(x, target),
        "gelu": lambda: F.gelu(x),
    }
    out = calls[fn]()
    (grad,) = torch.autograd.grad(out.sum(), x)
    ref = getattr(torch.nn.functional, fn)(x, target) if fn == "cross_entropy" else None
    if ref is not None:
        torch.testing.assert_close(out, ref)
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("impl.nn.functional") and hasattr(module, "usable"):
            monkeypatch.setattr(module, "usable", lambda *t: None)
    out_t = calls[fn]()
    (grad_t,) = torch.autograd.grad(out_t.sum(), x)
    torch.testing.assert_close(out, out_t)
    torch.testing.assert_close(grad, grad_t)


@pytest.mark.slow
def test_tensor_op_path_passes_the_suite() -> None:
    env = dict(os.environ, NNSPEC_KERNELS="0")
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "impl", "--strict", "-k", "norm or softmax or gelu or entropy"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
