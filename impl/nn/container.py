"""Containers: ``Sequential``, ``ModuleList`` and ``ModuleDict``, registering the modules they hold."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections import abc as container_abcs
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain, islice
from typing import Any, TypeVar, overload

from impl.nn.module import Module, _is_module

__all__ = ["ModuleDict", "ModuleList", "Sequential"]

_V = TypeVar("_V")
_S = TypeVar("_S", bound="Sequential")
_L = TypeVar("_L", bound="ModuleList")


def _addindent(s_: str, num_spaces: int) -> str:
    # ModuleList's repr indents every continuation line, blank or not (unlike Module's).
    s = s_.split("\n")
    if len(s) == 1:
        return s_
    first = s.pop(0)
    return first + "\n" + "\n".join((num_spaces * " ") + line for line in s)


class Sequential(Module):
    r"""A chain of modules: ``forward`` feeds the input to the first and each output to the next.

    Modules are named ``"0"``, ``"1"``, ... in the order given, or by the keys of a single ``OrderedDict``
    argument. Indexing with an int returns a module; with a slice, a new ``Sequential``.

    .. math::
        \text{Sequential}(f_0, \dots, f_{n-1})(x) = f_{n-1}(\cdots f_1(f_0(x)))

    Args:
        *args (Module): the modules, or one ``OrderedDict[str, Module]``.

    Shape:
        - Input: whatever the first module takes.
        - Output: whatever the last module returns (the input itself when empty).

    Example::

        >>> from impl.nn import GELU, Linear
        >>> mlp = Sequential(Linear(8, 32), GELU(), Linear(32, 8))
        >>> mlp(torch.randn(4, 8)).shape
        torch.Size([4, 8])
    """

    _modules: dict[str, Module]  # type: ignore[assignment]

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _get_item_by_idx(self, iterator: Iterable[_V], idx: int) -> _V:
        size = len(self)
        idx = operator.index(idx)
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range")
        idx %= size
        return next(islice(iterator, idx, None))

    @overload
    def __getitem__(self: _S, idx: slice) -> _S: ...

    @overload
    def __getitem__(self, idx: int) -> Module: ...

    def __getitem__(self, idx: int | slice) -> Module:
        if isinstance(idx, slice):
            return self.__class__(OrderedDict(list(self._modules.items())[idx]))
        return self._get_item_by_idx(self._modules.values(), idx)

    def __setitem__(self, idx: int, module: Module) -> None:
        key: str = self._get_item_by_idx(self._modules.keys(), idx)
        setattr(self, key, module)

    def __delitem__(self, idx: int | slice) -> None:
        if isinstance(idx, slice):
            for key in list(self._modules.keys())[idx]:
                delattr(self, key)
        else:
            delattr(self, self._get_item_by_idx(self._modules.keys(), idx))
        # Renumber so that names stay "0".."n-1".
        str_indices = [str(i) for i in range(len(self._modules))]
        self._modules = OrderedDict(zip(str_indices, self._modules.values(), strict=True))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)!s} is given.")
        ret = Sequential()
        for layer in chain(self, other):
            ret.append(layer)
        return ret

    def __iadd__(self: _S, other: Sequential) -> _S:
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)!s} is given.")
        offset = len(self)
        for i, module in enumerate(other):
            self.add_module(str(i + offset), module)
        return self

    def __mul__(self, other: int) -> Sequential:
        if not isinstance(other, int):
            raise TypeError(f"unsupported operand type(s) for *: {type(self)} and {type(other)}")
        if other <= 0:
            raise ValueError(f"Non-positive multiplication factor {other} for {type(self)}")
        combined = Sequential()
        offset = 0
        for _ in range(other):
            for module in self:
                combined.add_module(str(offset), module)
                offset += 1
        return combined

    def __rmul__(self, other: int) -> Sequential:
        return self.__mul__(other)

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]

    def pop(self, key: int) -> Module:
        r"""Remove the module at index ``key`` and return it."""
        v = self[key]
        del self[key]
        return v

    def forward(self, input: Any) -> Any:
        for module in self:
            input = module(input)
        return input

    def append(self: _S, module: Module) -> _S:
        r"""Append ``module`` at the end. Returns self."""
        self.add_module(str(len(self)), module)
        return self

    def insert(self: _S, index: int, module: Module) -> _S:
        r"""Insert ``module`` before position ``index`` (negative counts from the end). Returns self."""
        if not _is_module(module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not (-n <= index <= n):
            raise IndexError(f"Index out of range: {index}")
        if index < 0:
            index += n
        for i in range(n, index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module
        return self

    def extend(self: _S, sequential: Iterable[Module]) -> _S:
        r"""Append every module of ``sequential``. Returns self."""
        for layer in sequential:
            self.append(layer)
        return self


class ModuleList(Module):
    r"""A list of modules, each registered (so its parameters are seen by ``parameters()``, ``to()``, ...).

    Supports ``len``, iteration, indexing (int or slice, negative too), ``append``, ``extend``, ``insert``,
    ``pop``, ``+`` and ``+=``. It has no ``forward``: iterate over it in the owner's ``forward``.

    Args:
        modules (iterable, optional): modules to add.

    Example::

        >>> from impl.nn import Linear
        >>> blocks = ModuleList([Linear(8, 8) for _ in range(4)])
        >>> x = torch.randn(2, 8)
        >>> for block in blocks:
        ...     x = x + block(x)
        >>> len(blocks), x.shape
        (4, torch.Size([2, 8]))
    """

    _modules: dict[str, Module]  # type: ignore[assignment]

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self += modules

    def _get_abs_string_index(self, idx: int) -> str:
        idx = operator.index(idx)
        if not (-len(self) <= idx < len(self)):
            raise IndexError(f"index {idx} is out of range")
        if idx < 0:
            idx += len(self)
        return str(idx)

    @overload
    def __getitem__(self: _L, idx: slice) -> _L: ...

    @overload
    def __getitem__(self, idx: int) -> Module: ...

    def __getitem__(self, idx: int | slice) -> Module:
        if isinstance(idx, slice):
            return self.__class__(list(self._modules.values())[idx])
        return self._modules[self._get_abs_string_index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, self._get_abs_string_index(idx), module)

    def __delitem__(self, idx: int | slice) -> None:
        if isinstance(idx, slice):
            for k in range(len(self._modules))[idx]:
                delattr(self, str(k))
        else:
            delattr(self, self._get_abs_string_index(idx))
        # Renumber so that names stay "0".."n-1".
        str_indices = [str(i) for i in range(len(self._modules))]
        self._modules = OrderedDict(zip(str_indices, self._modules.values(), strict=True))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self: _L, modules: Iterable[Module]) -> _L:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        combined = ModuleList()
        for i, module in enumerate(chain(self, other)):
            combined.add_module(str(i), module)
        return combined

    def __repr__(self) -> str:
        # Runs of identical entries are folded: "(0-11): 12 x Block(...)".
        list_of_reprs = [repr(item) for item in self]
        if len(list_of_reprs) == 0:
            return self._get_name() + "()"
        start_end_indices = [[0, 0]]
        repeated_blocks = [list_of_reprs[0]]
        for i, r in enumerate(list_of_reprs[1:], 1):
            if r == repeated_blocks[-1]:
                start_end_indices[-1][1] += 1
                continue
            start_end_indices.append([i, i])
            repeated_blocks.append(r)
        lines = []
        for (start_id, end_id), b in zip(start_end_indices, repeated_blocks, strict=True):
            local_repr = f"({start_id}): {b}"
            if start_id != end_id:
                n = end_id - start_id + 1
                local_repr = f"({start_id}-{end_id}): {n} x {b}"
            lines.append(_addindent(local_repr, 2))
        return self._get_name() + "(" + "\n  " + "\n  ".join(lines) + "\n" + ")"

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]

    def insert(self, index: int, module: Module) -> None:
        r"""Insert ``module`` before position ``index``."""
        for i in range(len(self._modules), index, -1):
            self._modules[str(i)] = self._modules[str(i - 1)]
        self._modules[str(index)] = module

    def append(self: _L, module: Module) -> _L:
        r"""Append ``module`` at the end. Returns self."""
        self.add_module(str(len(self)), module)
        return self

    def pop(self, key: int) -> Module:
        r"""Remove the module at index ``key`` and return it."""
        v = self[key]
        del self[key]
        return v

    def extend(self: _L, modules: Iterable[Module]) -> _L:
        r"""Append the modules of an iterable. Returns self."""
        if not isinstance(modules, container_abcs.Iterable):
            raise TypeError("ModuleList.extend should be called with an iterable, but got " + type(modules).__name__)
        offset = len(self)
        for i, module in enumerate(modules):
            self.add_module(str(offset + i), module)
        return self


class ModuleDict(Module):
    r"""An ordered dictionary of modules, each registered under its key.

    Keeps insertion order (and, in :meth:`update`, the order of an ``OrderedDict``, ``dict``, ``ModuleDict`` or
    sequence of pairs). Supports ``[]``, ``in``, ``len``, iteration over keys, ``keys``/``values``/``items``,
    ``pop``, ``clear`` and ``update``. It has no ``forward``.

    Args:
        modules (iterable, optional): a mapping ``{name: module}`` or an iterable of ``(name, module)`` pairs.

    Example::

        >>> from impl.nn import Embedding, LayerNorm
        >>> transformer = ModuleDict({"wte": Embedding(65, 32), "ln_f": LayerNorm(32)})
        >>> list(transformer.keys())
        ['wte', 'ln_f']
    """

    _modules: dict[str, Module]  # type: ignore[assignment]

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        r"""Remove all entries."""
        self._modules.clear()

    def pop(self, key: str) -> Module:
        r"""Remove ``key`` and return its module."""
        v = self[key]
        del self[key]
        return v

    def keys(self) -> container_abcs.KeysView[str]:
        r"""The keys, in order."""
        return self._modules.keys()

    def items(self) -> container_abcs.ItemsView[str, Module]:
        r"""The ``(key, module)`` pairs, in order."""
        return self._modules.items()

    def values(self) -> container_abcs.ValuesView[Module]:
        r"""The modules, in order."""
        return self._modules.values()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        r"""Add or overwrite entries from a mapping or an iterable of ``(key, module)`` pairs."""
        if not isinstance(modules, container_abcs.Iterable):
            raise TypeError(
                "ModuleDict.update should be called with an iterable of key/value pairs, but got "
                + type(modules).__name__
            )
        if isinstance(modules, (OrderedDict, ModuleDict, container_abcs.Mapping)):
            for key, module in modules.items():
                self[key] = module
        else:
            for j, m in enumerate(modules):
                if not isinstance(m, container_abcs.Iterable):
                    raise TypeError(
                        f"ModuleDict update sequence element #{j} should be Iterable; is" + type(m).__name__
                    )
                pair: list[Any] = list(m)
                if len(pair) != 2:
                    raise ValueError(f"ModuleDict update sequence element #{j} has length {len(pair)}; 2 is required")
                self[pair[0]] = pair[1]
