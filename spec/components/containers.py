"""nn.ModuleList, nn.ModuleDict, nn.Sequential: the containers a GPT keeps its blocks in. Page: containers.md.

Scenarios, as for ``nn.Module`` (see ``spec/components/module.py``): each receives a namespace with the
implementation's ``Module``, ``Parameter`` and the container under test, builds small modules by subclassing
``nn.Module``, edits a container as user code does, and returns observations: child names, types, parameter names,
state_dict keys, outputs, ``repr`` and the built-in exception an operation raises. The ``semantics`` check compares
them with torch's run, one by one.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch

from spec.components.module import Observations, Observer, _models, _names, raised
from spec.entry import Entry


def _kinds(container: Any) -> list[tuple[str, str]]:
    """(name, class name) of each child, in order: what a container holds, whatever its internals."""
    return [(name, type(child).__name__) for name, child in container.named_children()]


# ModuleList --------------------------------------------------------------------------------------------------------


def modulelist_indexing(nn: Any) -> Observations:
    """A ModuleList registers its modules as "0", "1", ...; negative indices count from the end; a slice is a
    ModuleList of the same modules."""
    affine_cls, block_cls, _ = _models(nn)
    items = [affine_cls(), block_cls(), affine_cls()]
    lst = nn.ModuleList(items)
    see = Observer()
    see("children", _kinds(lst))
    see("len", len(lst))
    see("iteration gives the modules, in order", [m is item for m, item in zip(lst, items, strict=True)])
    see("lst[-1] is lst[2]", lst[-1] is lst[2])
    see("lst[1] is the module given", lst[1] is items[1])
    see("named_parameters", _names(lst.named_parameters()))
    sliced = lst[1:]
    see("a slice is a ModuleList", (type(sliced).__name__, isinstance(sliced, nn.ModuleList)))
    see("a slice holds the same modules", [m is item for m, item in zip(sliced, items[1:], strict=True)])
    see("a slice is renumbered", _kinds(sliced))
    see("empty", (len(nn.ModuleList()), _kinds(nn.ModuleList())))
    return see.items


def modulelist_editing(nn: Any) -> Observations:
    """append, extend, insert, +=, +, item assignment, del and pop keep the children numbered 0 .. n-1."""
    affine_cls, block_cls, _ = _models(nn)
    lst = nn.ModuleList([affine_cls()])
    see = Observer()
    see("append returns the list", lst.append(block_cls()) is lst)
    see("extend returns the list", lst.extend([affine_cls(), block_cls()]) is lst)
    see("after append and extend", _kinds(lst))
    lst.insert(1, block_cls())
    see("after insert(1, ...)", _kinds(lst))
    lst.insert(len(lst), affine_cls())  # at the end (torch's ModuleList.insert mishandles negative indices)
    see("after insert(len, ...)", _kinds(lst))
    lst += [affine_cls()]
    see("after +=", _kinds(lst))
    lst[0] = block_cls()
    see("after lst[0] = ...", _kinds(lst))
    del lst[2]
    see("after del lst[2]", _kinds(lst))
    see("pop(-2) returns", type(lst.pop(-2)).__name__)
    see("after pop(-2)", _kinds(lst))
    del lst[0:2]
    see("after del lst[0:2]", _kinds(lst))
    joined = lst + nn.ModuleList([block_cls()])
    see("+ gives a new ModuleList", (type(joined).__name__, len(joined), len(lst)))
    see("named_parameters", _names(lst.named_parameters()))
    return see.items


def modulelist_in_a_model(nn: Any) -> Observations:
    """Blocks in a ModuleList take part in state_dict, parameters, train/eval and to(dtype) like any child."""
    affine_cls, block_cls, _ = _models(nn)

    class Stack(nn.Module):  # nanoGPT's transformer.h
        def __init__(self) -> None:
            super().__init__()
            self.h = nn.ModuleList([block_cls() for _ in range(2)])
            self.head = affine_cls()

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 2) -> (B, 3)
            for block in self.h:
                x = block(x)[:, :2]
            return self.head(x)

    model = Stack()
    see = Observer()
    see("state_dict keys", list(model.state_dict()))
    see("named_modules", _names(model.named_modules()))
    see("output", model(torch.arange(4.0).reshape(2, 2)))
    model.eval()
    see("eval reaches the blocks", [m.training for m in model.h])
    model.to(torch.float64)
    see("to(float64) reaches the blocks", [str(p.dtype) for p in model.h.parameters()])
    return see.items


def modulelist_errors(nn: Any) -> Observations:
    """Out-of-range indices, non-modules and calling the list itself raise as torch's do."""
    affine_cls, _, _ = _models(nn)
    lst = nn.ModuleList([affine_cls(), affine_cls()])
    see = Observer()
    see("index out of range", raised(lambda: lst[2]))
    see("negative index out of range", raised(lambda: lst[-3]))
    see("a string index", raised(lambda: lst["a"]))
    see("append a tensor", raised(lambda: lst.append(torch.ones(1))))
    see("extend with a non-iterable", raised(lambda: lst.extend(3)))
    see("a tensor in the constructor", raised(lambda: nn.ModuleList([torch.ones(1)])))
    see("calling the list", raised(lambda: lst(torch.ones(1, 2))))
    see("nothing was added", _kinds(lst))
    return see.items


def modulelist_repr(nn: Any) -> Observations:
    """repr folds a run of identical modules into one line, "(0-2): 3 x Affine()", as torch prints a GPT's blocks."""
    affine_cls, block_cls, _ = _models(nn)
    see = Observer()
    see("repr", repr(nn.ModuleList([affine_cls(), affine_cls(), affine_cls(), block_cls(), affine_cls()])))
    see("empty repr", repr(nn.ModuleList()))
    return see.items


# ModuleDict --------------------------------------------------------------------------------------------------------


def moduledict_editing(nn: Any) -> Observations:
    """A ModuleDict keeps insertion order through item assignment, update (from a dict, a ModuleDict, an
    OrderedDict or pairs), pop, del and clear."""
    affine_cls, block_cls, _ = _models(nn)
    d = nn.ModuleDict({"wte": affine_cls(), "drop": block_cls()})
    see = Observer()
    see("children", _kinds(d))
    d["ln_f"] = affine_cls()
    d.update([("h", block_cls()), ["wte", block_cls()]])  # an existing key keeps its place
    see("after update with pairs", _kinds(d))
    d.update(nn.ModuleDict({"b": affine_cls(), "a": affine_cls()}))
    d.update(OrderedDict([("z", block_cls())]))
    d.update({"y": affine_cls()})
    see("after update with mappings", _kinds(d))
    see("keys", list(d.keys()))
    see("iteration gives the keys", list(d))
    see("items", [(k, type(v).__name__) for k, v in d.items()])
    see("values", [type(v).__name__ for v in d.values()])
    see("contains", ("h" in d, "nope" in d))
    see("pop returns", type(d.pop("drop")).__name__)
    del d["z"]
    see("after pop and del", (list(d), len(d)))
    see("d['h'] is d.h", d["h"] is d.h)
    see("named_parameters", _names(d.named_parameters()))
    see("repr", repr(d))
    d.clear()
    see("after clear", (list(d), len(d), _names(d.named_parameters())))
    return see.items


def moduledict_errors(nn: Any) -> Observations:
    """Missing keys, bad updates and non-string keys raise as torch's do."""
    affine_cls, _, _ = _models(nn)
    d = nn.ModuleDict({"a": affine_cls()})
    see = Observer()
    see("a missing key", raised(lambda: d["nope"]))
    see("pop of a missing key", raised(lambda: d.pop("nope")))
    see("update with a number", raised(lambda: d.update(5)))
    see("update with a list of non-pairs", raised(lambda: d.update([5])))
    see("update with a triple", raised(lambda: d.update([("b", affine_cls(), 1)])))
    see("a key with a dot", raised(lambda: d.__setitem__("a.b", affine_cls())))
    see("a value that is not a module", raised(lambda: d.__setitem__("t", torch.ones(1))))
    see("nothing was added", list(d))
    return see.items


# Sequential --------------------------------------------------------------------------------------------------------


def sequential_forward(nn: Any) -> Observations:
    """Sequential calls its modules in order; a slice is a Sequential that runs those modules; with no modules it
    returns its input."""
    affine_cls, _, _ = _models(nn)

    class Square(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * x

    class Pick(nn.Module):  # (B, 3) -> (B, 2)
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x[:, :2]

    seq = nn.Sequential(affine_cls(), Square(), Pick(), affine_cls())
    x = torch.arange(6.0).reshape(3, 2) / 4
    see = Observer()
    see("children", _kinds(seq))
    see("output", seq(x))
    see("slice type", type(seq[0:2]).__name__)
    see("slice output", seq[0:2](x))
    see("seq[-1] is seq[3]", seq[-1] is seq[3])
    see("empty Sequential returns its input", nn.Sequential()(x) is x)
    named = nn.Sequential(OrderedDict([("proj", affine_cls()), ("act", Square())]))
    see("names from an OrderedDict", _kinds(named))
    see("named[1] is named.act", named[1] is named.act)
    see("state_dict keys", list(named.state_dict()))
    see("repr", repr(named))
    return see.items


def sequential_editing(nn: Any) -> Observations:
    """append, insert, extend, item assignment, del, pop, + and * on a Sequential."""
    affine_cls, block_cls, _ = _models(nn)
    seq = nn.Sequential(affine_cls(), block_cls())
    see = Observer()
    see("append returns the Sequential", seq.append(affine_cls()) is seq)
    seq.insert(0, block_cls())
    seq.insert(-1, block_cls())
    see("after insert", _kinds(seq))
    seq.extend([affine_cls()])
    seq[1] = block_cls()
    del seq[0]
    see("after extend, assignment and del", _kinds(seq))
    see("pop(1) returns", type(seq.pop(1)).__name__)
    see("after pop", _kinds(seq))
    both = seq + nn.Sequential(block_cls())
    see("+", (type(both).__name__, len(both), len(seq)))
    see("* 2", (type(seq * 2).__name__, len(seq * 2)))
    see("named_parameters", _names(seq.named_parameters()))
    return see.items


def sequential_errors(nn: Any) -> Observations:
    """Out-of-range indices and adding something that is not a Sequential raise as torch's do."""
    affine_cls, _, _ = _models(nn)
    seq = nn.Sequential(affine_cls(), affine_cls())
    see = Observer()
    see("index out of range", raised(lambda: seq[5]))
    see("insert out of range", raised(lambda: seq.insert(9, affine_cls())))
    see("+ a number", raised(lambda: seq + 1))
    see("* 0", raised(lambda: seq * 0))
    see("a tensor in the constructor", raised(lambda: nn.Sequential(torch.ones(1))))
    see("nothing was added", _kinds(seq))
    return see.items


def _entry(name: str, scenarios: tuple[Any, ...]) -> Entry:
    return Entry(
        name=name,
        path=f"nn.{name}",
        kind="semantics",
        page="containers",
        checks=("semantics",),
        extra={"namespace": "nn", "uses": ("Module", "Parameter", name), "scenarios": scenarios},
    )


ENTRIES = [
    _entry(
        "ModuleList",
        (modulelist_indexing, modulelist_editing, modulelist_in_a_model, modulelist_errors, modulelist_repr),
    ),
    _entry("ModuleDict", (moduledict_editing, moduledict_errors)),
    _entry("Sequential", (sequential_forward, sequential_editing, sequential_errors)),
]
