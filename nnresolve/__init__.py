"""Find the components of an implementation by their torch-style path.

An implementation is named by an importable module (``"torch"``, ``"impl"``, ``"mylib"``). A component is named by
its path inside that module, laid out as torch lays it out: ``"nn.Linear"``, ``"nn.functional.layer_norm"``,
``"optim.AdamW"``. Lookup walks attributes and imports a submodule only where the attribute is absent, so a plain
namespace object works as well as a package.

Overrides send single components elsewhere. A key is a full path (``"nn.functional.linear"``) or the last part
of one (``"Linear"``); a value is another implementation (``"torch"``) or an object (``"mylib.layers:Dense"``).
The same overrides come from a map file (TOML, a ``[components]`` table) for the conformance harness, and from
the ``[components]`` section of a GPT config, where ``default`` names the implementation for everything else.

This package knows neither the spec nor any implementation: the harness and the GPT both build on it.
"""

from __future__ import annotations

import importlib
import tomllib
import traceback
import types
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = [
    "Implementation",
    "MissingComponent",
    "describe_exception",
    "import_object",
    "load_map_file",
    "usable_device",
]


class MissingComponent(LookupError):
    """The implementation has no object at the requested path."""

    def __init__(self, implementation: str, path: str, reason: str) -> None:
        super().__init__(f"{implementation} has no {path}: {reason}")
        self.implementation = implementation
        self.path = path
        self.reason = reason


def usable_device(name: str | torch.device) -> torch.device:
    """The ``torch.device`` that ``name`` names, checked to be present here; ValueError saying why otherwise."""
    import torch

    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {name!r}: expected cpu, cuda, cuda:1, ... (a torch device)") from None
    if device.type in ("cpu", "meta"):
        return device
    backend = getattr(torch, device.type, None)
    if backend is None or not getattr(backend, "is_available", lambda: False)():
        raise ValueError(f"device {str(device)!r} asked for, but torch.{device.type}.is_available() is False here")
    count = backend.device_count() if hasattr(backend, "device_count") else 1
    if device.index is not None and device.index >= count:
        raise ValueError(f"device {str(device)!r} asked for, but only {count} {device.type} device(s) are visible")
    return device


def describe_exception(exc: BaseException) -> str:
    """``"NameError: name 'x' is not defined (at nn/linear.py:12, in forward)"``: the exception and the place it was
    raised, for a message that stands in for a traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    # SystemExit(0) would read "SystemExit: 0"; say that it is sys.exit, which code under test must not call
    text = (
        f"SystemExit({exc.code!r}), as sys.exit raises"
        if isinstance(exc, SystemExit)
        else f"{type(exc).__name__}: {exc}"
    )
    if not frames or isinstance(exc, SyntaxError):  # a SyntaxError names its file and line already
        return text
    frame = frames[-1]
    return f"{text} (at {'/'.join(Path(frame.filename).parts[-2:])}:{frame.lineno}, in {frame.name})"


def import_object(spec: str) -> Any:
    """Import ``"package.module:attr.sub"`` (an object) or ``"package.module"`` (a module)."""
    module_name, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part)
    return obj


def _walk(root: Any, root_name: str, path: str) -> Any:
    obj = root
    dotted = root_name
    for part in path.split("."):
        dotted = f"{dotted}.{part}"
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        if not isinstance(obj, types.ModuleType):
            raise MissingComponent(root_name, path, f"{dotted} does not exist")
        try:
            obj = importlib.import_module(dotted)
        except ModuleNotFoundError as exc:
            if exc.name is not None and dotted.startswith(exc.name):
                raise MissingComponent(root_name, path, f"{dotted} does not exist") from None
            raise
    return obj


class Implementation:
    """An implementation under test: a root module plus per-component overrides.

    Args:
        root: importable module path of the implementation, or an already imported module / namespace object.
        overrides: component path or short name -> implementation name or ``"module:attr"`` object path.
    """

    def __init__(self, root: str | Any, overrides: Mapping[str, str] | None = None) -> None:
        if isinstance(root, str):
            self.name = root
            self.root = import_object(root) if ":" in root else importlib.import_module(root)
        else:
            self.name = getattr(root, "__name__", type(root).__name__)
            self.root = root
        self.overrides = dict(overrides or {})
        self._cache: dict[str, Any] = {}

    def __repr__(self) -> str:
        extra = f", overrides={self.overrides}" if self.overrides else ""
        return f"Implementation({self.name!r}{extra})"

    def source(self, path: str) -> str:
        """Where ``path`` comes from: the implementation name, or the override that serves it."""
        override = self._override(path)
        return override if override is not None else self.name

    def qualname(self, path: str) -> str:
        """The dotted name of the object that serves ``path``: ``mylib.nn.functional.softmax``, or with the
        override ``"mylib.ops:softmax"`` the name ``mylib.ops.softmax``."""
        override = self._override(path)
        if override is None:
            return f"{self.name}.{path}"
        return override.replace(":", ".") if ":" in override else f"{override}.{path}"

    def _override(self, path: str) -> str | None:
        if path in self.overrides:
            return self.overrides[path]
        return self.overrides.get(path.rsplit(".", 1)[-1])

    def has(self, path: str) -> bool:
        try:
            self.get(path)
        except MissingComponent:
            return False
        return True

    def get(self, path: str) -> Any:
        """The object at ``path`` (for example ``"nn.functional.linear"``); raises :class:`MissingComponent`."""
        if path not in self._cache:
            self._cache[path] = self._lookup(path)
        return self._cache[path]

    def _lookup(self, path: str) -> Any:
        override = self._override(path)
        if override is None:
            return _walk(self.root, self.name, path)
        if ":" in override:
            try:
                return import_object(override)
            except (ImportError, AttributeError) as exc:
                raise MissingComponent(self.name, path, f"override {override!r} failed: {exc}") from None
        return Implementation(override).get(path)


def load_map_file(path: str | Path) -> dict[str, str]:
    """Read a map file: a TOML ``[components]`` table of component -> implementation or object path."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"map file {str(p)!r} is not a file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"map file {path}: not valid TOML: {exc}") from None
    table = data.get("components", data)
    bad = {k: v for k, v in table.items() if not isinstance(v, str)}
    if bad:
        raise ValueError(f"map file {path}: values must be strings like 'mylib.layers:Dense', got {bad}")
    return dict(table)
