"""Native kernels: LayerNorm, softmax, log_softmax, cross_entropy and GELU in C, for float32 tensors on the CPU.

A tensor op is a pass over memory and a trip through Python and torch's dispatcher; torch runs each of these
operators as one fused kernel, where their formulas in tensor ops take four to a dozen. ``kernels.c`` holds the
same formulas (the derivations are in ``impl/nn/functional`` and on the spec pages) as loops that make one or two
passes, which is what it takes to match torch's speed. The tensor-op formulas remain the reference and serve every
other case: other dtypes and devices, strided tensors, tensor subclasses, transforms, and machines without a C
compiler.

The source is compiled on first use with the system's C compiler (``$CC``, else ``cc``) into a cache directory
(``$NNSPEC_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/nnspec`` or ``~/.cache/nnspec``), keyed by the source, the flags,
the compiler and the CPU, and written atomically (a temporary file, then a rename). ``NNSPEC_KERNELS=0`` turns the
kernels off. :func:`status` says which of the two serves.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["Library", "native", "pointer", "status", "usable"]

_SOURCE = Path(__file__).with_name("kernels.c")
# Tried in order: the first that compiles and loads serves; the second does without OpenMP and CPU-specific
# instructions (another compiler, another architecture).
_FLAG_SETS = (
    ("-O3", "-march=native", "-fopenmp", "-fno-math-errno", "-lm"),
    ("-O3", "-fopenmp-simd", "-fno-math-errno", "-lm"),
)

_P = ctypes.c_void_p
_I64 = ctypes.c_int64
_INT = ctypes.c_int
_FLOAT = ctypes.c_float
_SIGNATURES: dict[str, tuple[object, list[object]]] = {
    "nnspec_layer_norm_fwd": (None, [_P, _P, _P, _P, _P, _P, _I64, _I64, _FLOAT, _INT]),
    "nnspec_layer_norm_bwd": (_INT, [_P, _P, _P, _P, _P, _P, _P, _P, _I64, _I64, _INT]),
    "nnspec_softmax_fwd": (None, [_P, _P, _I64, _I64, _INT, _INT]),
    "nnspec_softmax_bwd": (None, [_P, _P, _P, _I64, _I64, _INT, _INT]),
    "nnspec_cross_entropy_fwd": (_I64, [_P, _P, _P, _P, _P, _P, _I64, _I64, _I64, _INT, _P, _INT]),
    "nnspec_cross_entropy_bwd": (None, [_P, _P, _P, _P, _I64, _P, _I64, _I64, _I64, _FLOAT, _INT]),
    "nnspec_gelu_fwd": (None, [_P, _P, _P, _I64, _INT, _INT]),
}


class Library:
    """The compiled kernels, or the reason there are none."""

    def __init__(self, lib: ctypes.CDLL | None, detail: str) -> None:
        self.lib = lib
        self.detail = detail
        if lib is not None:
            for name, (restype, argtypes) in _SIGNATURES.items():
                fn = getattr(lib, name)
                fn.restype = restype
                fn.argtypes = argtypes


def _cache_dir() -> Path:
    explicit = os.environ.get("NNSPEC_KERNEL_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nnspec"


def _cpu_signature() -> str:
    """What ``-march=native`` depends on: a library built for one CPU may not run on another sharing the cache."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return line
    except OSError:
        pass
    return platform.processor()


def _compile(cc: str, flags: tuple[str, ...], source: bytes, directory: Path) -> Path:
    """The shared object for ``flags``, built into ``directory`` unless a build is already there."""
    compiler = Path(cc).resolve()
    key = hashlib.sha256(
        b"\0".join(
            [
                source,
                " ".join(flags).encode(),
                str(compiler).encode(),
                str(compiler.stat().st_mtime_ns).encode(),
                platform.machine().encode(),
                _cpu_signature().encode(),
            ]
        )
    ).hexdigest()[:20]
    target = directory / f"kernels-{key}.so"
    if target.exists():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".kernels-", suffix=".so", dir=directory)
    os.close(fd)
    try:
        cmd = [cc, "-shared", "-fPIC", "-x", "c", "-", "-o", tmp, *flags]
        done = subprocess.run(cmd, input=source, capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"])
        os.replace(tmp, target)  # atomic: a concurrent process sees the old state or the whole library
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


@cache
def _load() -> Library:
    if os.environ.get("NNSPEC_KERNELS", "1").strip().lower() in ("0", "false", "no", "off"):
        return Library(None, "turned off by NNSPEC_KERNELS")
    cc = shutil.which(os.environ.get("CC") or "cc")
    if cc is None:
        return Library(None, "no C compiler found ($CC or cc)")
    source = _SOURCE.read_bytes()
    directories = [_cache_dir(), Path(tempfile.gettempdir()) / f"nnspec-kernels-{os.getuid()}"]
    errors = []
    for flags in _FLAG_SETS:
        for directory in directories:
            try:
                path = _compile(cc, flags, source, directory)
                return Library(ctypes.CDLL(str(path)), f"native kernels from {path}")
            except (OSError, RuntimeError, subprocess.SubprocessError) as e:
                errors.append(f"{' '.join(flags)} in {directory}: {e}")
    return Library(None, "the C kernels did not build: " + "; ".join(errors))


def native() -> ctypes.CDLL | None:
    """The loaded kernels, or None when they are off or could not be built."""
    return _load().lib


def status() -> str:
    """Which implementation serves the float32 CPU operators, and why."""
    return _load().detail


def pointer(t: Tensor | None) -> int | None:
    """A tensor's data address for a kernel, or NULL for an absent one."""
    return None if t is None else t.data_ptr()


_DISABLED_DISPATCH = Tensor.__torch_dispatch__


def usable(*tensors: Tensor | None) -> ctypes.CDLL | None:
    """The kernels, when every given tensor is a plain dense contiguous float32 CPU tensor (``None`` entries are
    skipped) and no transform or compiler is tracing; else None, and the caller takes the tensor-op path."""
    lib = _load().lib
    if lib is None or torch._C._are_functorch_transforms_active() or torch.compiler.is_compiling():
        return None
    for t in tensors:
        if t is None:
            continue
        if (
            t.dtype != torch.float32
            or t.device.type != "cpu"
            or t.layout != torch.strided
            or not t.is_contiguous()
            or type(t).__torch_dispatch__ is not _DISABLED_DISPATCH  # fake, functional and wrapper tensors
        ):
            return None
    return lib
