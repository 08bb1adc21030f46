"""The component namespace a GPT is built from.

Every building block the model, the training loop and the sampler use is looked up here by its torch-style path,
through the same resolver the conformance harness uses (:class:`nnresolve.Implementation`). ``default`` names the
implementation for everything (``"impl"``, ``"torch"``, or any package laid out like torch); single components can be
sent elsewhere by their short name (``LayerNorm = "torch"``, ``Linear = "mylib.layers:Dense"``). In a config file:

.. code-block:: toml

    [components]
    default = "impl"
    LayerNorm = "torch"

The model's own base class is the ``Module`` component, so a GPT built from ``"torch"`` is a real
``torch.nn.Module`` and one built from ``"impl"`` is an ``impl.nn.Module``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from nnresolve import Implementation

__all__ = ["COMPONENTS", "ComponentModule", "Components"]

#: Short name -> torch-style path of every component the GPT and its training loop take from the namespace.
COMPONENTS: dict[str, str] = {
    "Module": "nn.Module",
    "ModuleList": "nn.ModuleList",
    "Linear": "nn.Linear",
    "Embedding": "nn.Embedding",
    "LayerNorm": "nn.LayerNorm",
    "RMSNorm": "nn.RMSNorm",
    "RotaryEmbedding": "nn.RotaryEmbedding",
    "Dropout": "nn.Dropout",
    "GELU": "nn.GELU",
    "SiLU": "nn.SiLU",
    "scaled_dot_product_attention": "nn.functional.scaled_dot_product_attention",
    "softmax": "nn.functional.softmax",
    "cross_entropy": "nn.functional.cross_entropy",
    "normal_": "nn.init.normal_",
    "zeros_": "nn.init.zeros_",
    "AdamW": "optim.AdamW",
    "clip_grad_norm_": "nn.utils.clip_grad_norm_",
}
_BY_PATH = {path: name for name, path in COMPONENTS.items()}


class Components:
    """Resolves each component of :data:`COMPONENTS` to the object that serves it.

    Components are attributes: ``nn = Components("torch"); nn.Linear(4, 8)``. Lookup is lazy and cached, so an
    implementation that lacks a component fails only when that component is used, with an error naming it.

    Args:
        default: importable module path of the implementation that serves every component not overridden.
        overrides: short name (``"LayerNorm"``) or full path (``"nn.LayerNorm"``) -> implementation name
            (``"torch"``) or object path (``"mylib.layers:Dense"``).

    Example::

        >>> nn = Components("impl", {"LayerNorm": "torch"})
        >>> nn.source("LayerNorm"), nn.source("Linear")
        ('torch', 'impl')
    """

    def __init__(self, default: str = "impl", overrides: Mapping[str, str] | None = None) -> None:
        overrides = dict(overrides or {})
        unknown = sorted(k for k in overrides if k not in COMPONENTS and k not in _BY_PATH)
        if unknown:
            raise ValueError(f"unknown component(s) {unknown}; known components: {sorted(COMPONENTS)}")
        bad = {k: v for k, v in overrides.items() if not isinstance(v, str) or not v}
        if bad:
            raise ValueError(f"component overrides must be non-empty strings like 'torch' or 'mylib:Obj', got {bad}")
        if not isinstance(default, str) or not default:
            raise ValueError(f"default implementation must be a module name like 'impl' or 'torch', got {default!r}")
        # Normalise to short names so that table() and source() agree however a key was spelled.
        self.overrides = {_BY_PATH.get(k, k): v for k, v in overrides.items()}
        self.default = default
        self._impl = Implementation(default, {COMPONENTS[k]: v for k, v in self.overrides.items()})

    @classmethod
    def from_config(cls, table: Mapping[str, str]) -> Components:
        """Build from a ``[components]`` table: ``default`` plus per-component overrides."""
        table = dict(table)
        default = table.pop("default", "impl")
        return cls(default, table)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in COMPONENTS:
            raise AttributeError(f"{type(self).__name__} has no component {name!r}; known: {sorted(COMPONENTS)}")
        return self._impl.get(COMPONENTS[name])

    def source(self, name: str) -> str:
        """Which implementation (or object path) serves the component ``name``."""
        return self.overrides.get(name, self.default)

    def table(self) -> str:
        """A printable table of every component, its path, and the implementation that serves it."""
        rows = [("component", "path", "served by")]
        rows += [(n, p, self.source(n) + (" (override)" if n in self.overrides else "")) for n, p in COMPONENTS.items()]
        w0, w1 = (max(len(r[i]) for r in rows) for i in range(2))
        return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows)

    def __repr__(self) -> str:
        extra = f", overrides={self.overrides}" if self.overrides else ""
        return f"Components({self.default!r}{extra})"


# mypy sees the mixin as deriving from Any, so Module methods (parameters(), train(), ...) type-check on it.
_ModuleBase: Any = object


class ComponentModule(_ModuleBase):
    """A class whose ``nn.Module`` base comes from the :class:`Components` passed to its constructor.

    ``class Block(ComponentModule)`` is written once; ``Block(config, nn)`` instantiates a subclass of both ``Block``
    and ``nn.Module`` (created on first use, then cached), so the same model code yields a real ``torch.nn.Module``
    or an ``impl.nn.Module``. The constructor receives the :class:`Components` positionally or as a keyword;
    without one, ``Components()`` (everything from ``impl``) chooses the base.
    """

    _module_base: ClassVar[Any] = None
    _concrete: ClassVar[dict[tuple[type, type], type]] = {}

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls._module_base is not None:  # already a concrete class (e.g. copy.deepcopy)
            return cls._module_base.__new__(cls)
        comps = next((a for a in (*args, *kwargs.values()) if isinstance(a, Components)), None)
        base = (comps or Components()).Module
        key = (cls, base)
        if key not in ComponentModule._concrete:
            attrs = {"_module_base": base, "__module__": cls.__module__, "__qualname__": cls.__qualname__}
            ComponentModule._concrete[key] = type(cls.__name__, (cls, base), attrs)
        return base.__new__(ComponentModule._concrete[key])

    def __setattr__(self, name: str, value: Any) -> None:
        modules = self.__dict__.get("_modules")
        if modules is not None and _is_foreign_module(value, type(self)._module_base):
            # torch.nn.Module registers only its own kind of child and would keep, say, an impl LayerNorm as a plain
            # attribute whose parameters nobody trains. Put it in the registry that every traversal walks
            # (parameters(), state_dict(), load_state_dict(), train(), to()); that needs only torch's module layout.
            self.__dict__.pop(name, None)
            modules[name] = value
        else:
            super().__setattr__(name, value)


def _is_foreign_module(value: Any, base: type) -> bool:
    """A module of another implementation than ``base``: torch's module layout, but not a ``base`` instance."""
    layout = ("_parameters", "_buffers", "_modules", "state_dict", "_load_from_state_dict", "forward")
    return not isinstance(value, base | type) and all(hasattr(value, a) for a in layout)
