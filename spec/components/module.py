"""nn.Module and nn.Parameter: registration, traversal, state_dict, modes, gradients. Page: spec/pages/module.md.

These entries are scenarios, not value examples. A scenario is a plain function ``scenario(nn) -> observations``:
it receives a namespace holding the implementation's ``Module`` and ``Parameter`` (``extra["uses"]``, looked up
under ``extra["namespace"]``), builds small modules by subclassing ``nn.Module`` exactly as user code does, exercises
them, and returns a list of ``(label, value)`` observations: names, shapes, flags, tensors, the name of the
exception an operation raised. The ``semantics`` check runs every scenario once with torch's ``nn`` and once with
the implementation's and compares the observations one by one.

Only ``Module`` and ``Parameter`` come from the implementation; tensors, autograd and everything else are torch's.
Tensors are built deterministically (``torch.arange``, ``torch.ones``) so that both runs see the same values.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Callable, Iterable
from typing import Any

import torch

from spec.entry import Entry

Observations = list[tuple[str, Any]]
Scenario = Callable[[Any], Observations]


def raised(fn: Callable[[], Any]) -> str:
    """The name of the built-in exception class ``fn()`` raises (the nearest built-in base), or ``"no error"``.

    A subclass such as ``class StateDictError(RuntimeError)`` reads as ``"RuntimeError"``, so an implementation may
    raise its own exception types as long as they derive from the one torch raises.
    """
    try:
        fn()
    except Exception as exc:
        return next(k.__name__ for k in type(exc).__mro__ if getattr(builtins, k.__name__, None) is k)
    return "no error"


def error_mentions(fn: Callable[[], Any], *words: str) -> bool:
    """Whether ``fn()`` raises with every one of ``words`` in its message (a missing or unexpected key, say)."""
    try:
        fn()
    except Exception as exc:
        return all(w in str(exc) for w in words)
    return False


def snapshot(value: Any) -> Any:
    """A copy of ``value`` that later in-place changes cannot reach: tensors are detached and cloned."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (list, tuple)):
        return type(value)(snapshot(v) for v in value)
    if isinstance(value, dict):
        return {k: snapshot(v) for k, v in value.items()}
    return value


class Observer:
    """Collects a scenario's observations, each a snapshot taken when it is made."""

    def __init__(self) -> None:
        self.items: Observations = []

    def __call__(self, label: str, value: Any) -> None:
        self.items.append((label, snapshot(value)))


def _names(items: Iterable[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in items]


def _layout(items: Iterable[tuple[str, torch.Tensor]]) -> list[tuple[str, tuple[int, ...], str, bool]]:
    return [(name, tuple(t.shape), str(t.dtype), t.requires_grad) for name, t in items]


def _models(nn: Any) -> tuple[type, type, type]:
    """Three small module classes: a linear layer, a block (parameter, buffers, child) and a two-block model."""

    class Affine(nn.Module):  # y = x W^T + b, with W (3, 2) and b (3,)
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.arange(6.0).reshape(3, 2) / 10)
            self.bias = nn.Parameter(torch.arange(3.0) / 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 2) -> (B, 3)
            return x @ self.weight.t() + self.bias

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mask", torch.tril(torch.ones(3, 3)))  # registered first, saved after params
            self.proj = Affine()
            self.register_buffer("cache", torch.zeros(3), persistent=False)
            self.scale = nn.Parameter(torch.ones(3))
            self.tag = "block"

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 2) -> (B, 3)
            return (self.proj(x) @ self.mask) * self.scale

    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.h0 = Block()
            self.register_buffer("steps", torch.tensor(0))  # an integer buffer
            self.h1 = Block()
            self.gain = nn.Parameter(torch.full((1,), 2.0))

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 2) -> (B, 3)
            return (self.h0(x) + self.h1(x)) * self.gain

    return Affine, Block, Model


# Scenarios --------------------------------------------------------------------------------------------------------


def attribute_registration(nn: Any) -> Observations:
    """Assigning a Parameter or a Module registers it; plain tensors and other values stay plain attributes."""
    affine_cls, _, _ = _models(nn)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = affine_cls()
            self.gain = nn.Parameter(torch.full((1,), 2.0))
            self.plain = torch.ones(2)  # not registered
            self.note = "text"
            self.second = affine_cls()

    net = Net()
    see = Observer()
    see("named_parameters", _layout(net.named_parameters()))
    see("parameters() in the same order", [tuple(p.shape) for p in net.parameters()])
    see("named_children", _names(net.named_children()))
    see("gain is a Parameter", isinstance(net.gain, nn.Parameter))
    see("gain is a Tensor", isinstance(net.gain, torch.Tensor))
    see("plain tensor attribute", net.plain)
    see("plain tensor is not a Parameter", isinstance(net.plain, nn.Parameter))
    see("plain tensor is not a buffer", _names(net.named_buffers()))
    see("other attribute", net.note)
    see("missing attribute raises", raised(lambda: net.missing))
    see("hasattr of a missing attribute", hasattr(net, "missing"))
    net.register_parameter("extra", nn.Parameter(torch.zeros(4)))
    net.add_module("third", affine_cls())
    see("after register_parameter and add_module", _names(net.named_parameters()))
    see("attribute access to a registered parameter", net.extra)
    del net.gain
    see("after del gain", _names(net.named_parameters()))
    see("hasattr after del", hasattr(net, "gain"))
    net.second.bias = None
    see("after assigning None to a parameter", _names(net.named_parameters()))
    see("state_dict after assigning None", list(net.state_dict()))
    see("reassigning a parameter", raised(lambda: setattr(net.first, "weight", nn.Parameter(torch.ones(1)))))
    see("the new parameter is registered", _layout(net.first.named_parameters()))
    see("a plain tensor onto a parameter name", raised(lambda: setattr(net.first, "bias", torch.ones(3))))
    see("a module replaces a plain attribute", raised(lambda: setattr(net, "note", affine_cls())))
    see("children after that", _names(net.named_children()))
    return see.items


def registration_errors(nn: Any) -> Observations:
    """Bad names and bad values for register_parameter, register_buffer and add_module raise."""
    affine_cls, _, _ = _models(nn)
    m = affine_cls()
    see = Observer()
    see("parameter name with a dot", raised(lambda: m.register_parameter("a.b", nn.Parameter(torch.ones(1)))))
    see("parameter name empty", raised(lambda: m.register_parameter("", nn.Parameter(torch.ones(1)))))
    see("register_parameter of a plain tensor", raised(lambda: m.register_parameter("p", torch.ones(1))))  # type: ignore[arg-type]
    see("buffer name with a dot", raised(lambda: m.register_buffer("a.b", torch.ones(1))))
    see("buffer name taken by a parameter", raised(lambda: m.register_buffer("weight", torch.ones(1))))
    see("buffer that is not a tensor", raised(lambda: m.register_buffer("b", 3)))  # type: ignore[arg-type]
    see("module name with a dot", raised(lambda: m.add_module("a.b", affine_cls())))
    see("nothing was registered", (_names(m.named_parameters()), _names(m.named_buffers())))
    return see.items


def traversal(nn: Any) -> Observations:
    """named_parameters/buffers/modules/children: names, order, prefixes, recurse=False, shared modules once."""
    affine_cls, _, model_cls = _models(nn)
    m = model_cls()
    shared = affine_cls()
    m.left = shared
    m.right = shared  # one module under two names
    see = Observer()
    see("named_modules", _names(m.named_modules()))
    see("modules() count", len(list(m.modules())))
    see("named_children", _names(m.named_children()))
    see("children() count", len(list(m.children())))
    see("named_parameters", _names(m.named_parameters()))
    see("named_parameters(prefix='model')", _names(m.named_parameters(prefix="model")))
    see("named_parameters(recurse=False)", _names(m.named_parameters(recurse=False)))
    see("parameters(recurse=False) count", len(list(m.parameters(recurse=False))))
    see("named_buffers", _layout(m.named_buffers()))
    see("named_buffers(recurse=False)", _names(m.named_buffers(recurse=False)))
    see("buffers() count", len(list(m.buffers())))
    see("named_modules of a child", _names(m.h1.named_modules()))
    return see.items


def weight_tying(nn: Any) -> Observations:
    """One Parameter held by two modules: listed once by parameters(), saved under both names, loaded into both."""
    affine_cls, _, _ = _models(nn)

    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = affine_cls()
            self.head = affine_cls()
            self.head.weight = self.embed.weight

    m = Tied()
    see = Observer()
    see("named_parameters", _names(m.named_parameters()))
    see("parameters() count", len(list(m.parameters())))
    see("state_dict keys", list(m.state_dict()))
    see("same object", m.head.weight is m.embed.weight)
    state = {k: v + 1 for k, v in m.state_dict().items()}
    m.load_state_dict(state)
    see("still the same object after load_state_dict", m.head.weight is m.embed.weight)
    see("loaded value", m.head.weight)
    x = torch.ones(1, 2)
    (m.embed(x).sum() + m.head(x).sum()).backward()
    see("gradient sums both uses", m.embed.weight.grad)
    return see.items


def state_dict_layout(nn: Any) -> Observations:
    """Keys: parameters then persistent buffers of each module, then its children, dotted; detached values."""
    _, _, model_cls = _models(nn)
    m = model_cls()
    state = m.state_dict()
    everything = {**dict(m.named_parameters()), **dict(m.named_buffers())}
    see = Observer()
    see("keys", list(state))
    see("shapes and dtypes", [(tuple(v.shape), str(v.dtype)) for v in state.values()])
    see("values require grad", [v.requires_grad for v in state.values()])
    see("values are Parameters", [isinstance(v, nn.Parameter) for v in state.values()])
    see("values equal the module's", [torch.equal(v, everything[k]) for k, v in state.items()])
    see("a child's state_dict", list(m.h0.state_dict()))
    see("non-persistent buffer left out", "h0.cache" in state)
    see("values share storage with the parameters", state["gain"].data_ptr() == m.gain.data_ptr())
    return see.items


def register_buffer(nn: Any) -> Observations:
    """Buffers: persistent or not, None, reassignment through the attribute, no gradient, not parameters."""

    class Stats(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("running", torch.zeros(2))
            self.register_buffer("scratch", torch.ones(2), persistent=False)
            self.register_buffer("absent", None)
            self.weight = nn.Parameter(torch.ones(2))

    m = Stats()
    see = Observer()
    see("named_buffers", _layout(m.named_buffers()))
    see("state_dict keys", list(m.state_dict()))
    see("parameters", _names(m.named_parameters()))
    see("attribute access", m.running)
    see("None buffer reads as None", m.absent is None)
    m.running = torch.full((2,), 5.0)
    see("assigning a tensor updates the buffer", dict(m.named_buffers())["running"])
    see("state_dict sees it", m.state_dict()["running"])
    see("assigning a non-tensor to a buffer", raised(lambda: setattr(m, "running", 3)))
    m.absent = torch.ones(1)
    see("assigning a tensor to a None buffer", list(m.state_dict()))
    m.register_buffer("scratch", torch.zeros(3), persistent=True)
    see("re-registered as persistent", list(m.state_dict()))
    return see.items


def load_state_dict_strict(nn: Any) -> Observations:
    """Loading copies values in place (same Parameter objects); strict=True raises on missing or unexpected keys."""
    _, _, model_cls = _models(nn)
    m = model_cls()
    before = {name: p for name, p in m.named_parameters()}
    state = {k: (v + 1).to(torch.float64) if v.is_floating_point() else v + 1 for k, v in m.state_dict().items()}
    result = m.load_state_dict(state)
    missing, unexpected = result
    see = Observer()
    see("result", (list(result.missing_keys), list(result.unexpected_keys)))
    see("result unpacks", (list(missing), list(unexpected)))
    see("values loaded", list(m.state_dict().values()))
    see("dtypes kept (float64 values cast to the module's dtype)", [str(v.dtype) for v in m.state_dict().values()])
    see("same Parameter objects", [p is before[name] for name, p in m.named_parameters()])
    see("still Parameters requiring grad", [(isinstance(p, nn.Parameter), p.requires_grad) for p in m.parameters()])
    see("non-persistent buffer untouched", m.h0.cache)
    fewer = {k: v for k, v in state.items() if k != "h0.proj.bias"}
    more = {**state, "h1.extra": torch.ones(1)}
    see("strict, missing key", raised(lambda: model_cls().load_state_dict(fewer)))
    see("its message names the key", error_mentions(lambda: model_cls().load_state_dict(fewer), "h0.proj.bias"))
    see("strict, unexpected key", raised(lambda: model_cls().load_state_dict(more, strict=True)))
    see("its message names the key", error_mentions(lambda: model_cls().load_state_dict(more), "h1.extra"))
    loose = model_cls()
    result = loose.load_state_dict({**fewer, "h1.extra": torch.ones(1)}, strict=False)
    see("strict=False reports", (sorted(result.missing_keys), sorted(result.unexpected_keys)))
    see("strict=False loads the rest", loose.h1.proj.weight)
    bad_shape = {**state, "h0.scale": torch.ones(4)}
    load_bad_shape = lambda: model_cls().load_state_dict(bad_shape, strict=False)  # noqa: E731
    see("shape mismatch raises even with strict=False", raised(load_bad_shape))
    see("its message names the key", error_mentions(load_bad_shape, "h0.scale"))
    return see.items


def train_eval(nn: Any) -> Observations:
    """training flags: True at construction; train()/eval() set every descendant and return the module."""
    _, _, model_cls = _models(nn)
    m = model_cls()

    def flags() -> list[tuple[str, bool]]:
        return [(name, mod.training) for name, mod in m.named_modules()]

    see = Observer()
    see("at construction", flags())
    see("eval() returns the module", m.eval() is m)
    see("after eval()", flags())
    see("train() returns the module", m.train() is m)
    see("after train()", flags())
    m.train(False)
    see("after train(False)", flags())
    m.h1.train()
    see("after h1.train(): only h1's subtree", flags())
    return see.items


def zero_grad(nn: Any) -> Observations:
    """zero_grad() sets gradients to None by default; set_to_none=False zeroes them in place."""
    _, _, model_cls = _models(nn)
    m = model_cls()
    m(torch.ones(4, 2)).sum().backward()
    see = Observer()
    see("gradients after backward", [p.grad for p in m.parameters()])
    m.zero_grad()
    see("after zero_grad()", [p.grad is None for p in m.parameters()])
    m(torch.ones(4, 2)).sum().backward()
    grads = [p.grad for p in m.parameters()]
    m.zero_grad(set_to_none=False)
    see("after zero_grad(set_to_none=False)", [p.grad for p in m.parameters()])
    see("zeroed in place", [p.grad is g for p, g in zip(m.parameters(), grads, strict=True)])
    m(torch.ones(4, 2)).sum().backward()
    see("accumulates from zero afterwards", [p.grad for p in m.parameters()])
    return see.items


def apply_order(nn: Any) -> Observations:
    """apply(fn) calls fn on every descendant, children before parents (post-order), and returns the module."""
    _, _, model_cls = _models(nn)
    m = model_cls()
    names = {id(mod): name for name, mod in m.named_modules()}
    seen: list[str] = []
    out = m.apply(lambda mod: seen.append(names[id(mod)]))

    def fill(mod: Any) -> None:
        with torch.no_grad():
            for p in mod.parameters(recurse=False):
                p.fill_(0.5)

    m.apply(fill)
    see = Observer()
    see("visit order", seen)
    see("returns the module", out is m)
    see("fn changed every parameter", [p for p in m.parameters()])
    return see.items


def to_dtype(nn: Any) -> Observations:
    """to(dtype) converts floating parameters and buffers in place (same objects), keeps integer buffers."""
    _, _, model_cls = _models(nn)
    m = model_cls()
    params = list(m.parameters())
    out = m.to(torch.float64)
    see = Observer()
    see("returns the module", out is m)
    see("parameters", _layout(m.named_parameters()))
    see("buffers (integer ones keep their dtype)", _layout(m.named_buffers()))
    see("same Parameter objects", [a is b for a, b in zip(m.parameters(), params, strict=True)])
    see("still Parameters", [isinstance(p, nn.Parameter) for p in m.parameters()])
    see("forward in float64", m(torch.ones(2, 2, dtype=torch.float64)))
    m.to(dtype=torch.float32)
    see("to(dtype=float32) by keyword", [str(t.dtype) for t in m.state_dict().values()])
    see("to('cpu') returns the module", m.to("cpu") is m)
    see("to(torch.device('cpu'))", m.to(torch.device("cpu")) is m)
    return see.items


def requires_grad_(nn: Any) -> Observations:
    """requires_grad_(flag) sets the flag on every parameter below the module and returns the module."""
    _, _, model_cls = _models(nn)
    m = model_cls()
    out = m.requires_grad_(False)
    see = Observer()
    see("returns the module", out is m)
    see("after requires_grad_(False)", [p.requires_grad for p in m.parameters()])
    see("buffers unaffected", [b.requires_grad for b in m.buffers()])
    m.h1.requires_grad_()
    see("after h1.requires_grad_()", [(n, p.requires_grad) for n, p in m.named_parameters()])
    return see.items


def call_runs_forward(nn: Any) -> Observations:
    """m(*args, **kwargs) runs forward with the same arguments; a module without forward raises when called."""

    class Shift(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.arange(3.0))

        def forward(self, x: torch.Tensor, *, shift: float = 0.0) -> tuple[torch.Tensor, float]:
            return x * self.weight + shift, shift

    class NoForward(nn.Module):
        pass

    m = Shift()
    x = torch.ones(2, 3)
    out, shift = m(x, shift=1.5)
    out.sum().backward()
    see = Observer()
    see("output", out)
    see("keyword argument reached forward", shift)
    see("same as forward()", torch.equal(m(x)[0], m.forward(x)[0]))
    see("output requires grad", out.requires_grad)
    see("gradient of the parameter", m.weight.grad)
    see("calling a module without forward", raised(lambda: NoForward()(x)))
    return see.items


def parameter_basics(nn: Any) -> Observations:
    """A Parameter is a leaf tensor requiring grad, sharing its data; operations on it give plain tensors."""
    data = torch.arange(6.0).reshape(2, 3)
    p = nn.Parameter(data)
    q = nn.Parameter(torch.ones(2, dtype=torch.float64), requires_grad=False)
    derived = p * 2
    see = Observer()
    see("is a Tensor", isinstance(p, torch.Tensor))
    see("is a Parameter", isinstance(p, nn.Parameter))
    see("values", p.detach())
    see("requires_grad by default", p.requires_grad)
    see("is a leaf", p.is_leaf)
    see("grad starts as None", p.grad is None)
    see("requires_grad=False", q.requires_grad)
    see("dtype kept", str(q.dtype))
    see("an operation's result is not a Parameter", isinstance(derived, nn.Parameter))
    see("an operation's result requires grad", derived.requires_grad)
    see("detach() is not a Parameter", isinstance(p.detach(), nn.Parameter))
    see("no data: an empty tensor", tuple(nn.Parameter().shape))
    see("from a non-leaf: a leaf", nn.Parameter(torch.ones(2, requires_grad=True) * 3).is_leaf)
    data.add_(1)
    see("shares storage with its data", p.detach())
    with torch.no_grad():
        p.mul_(2)
    see("in-place update under no_grad keeps the type", (isinstance(p, nn.Parameter), p.is_leaf))
    (p * p).sum().backward()
    see("gradient", p.grad)
    clone = copy.deepcopy(p)
    see("deepcopy", (isinstance(clone, nn.Parameter), clone.requires_grad, clone is p))
    see("deepcopy values", clone.detach())
    return see.items


def parameter_in_torch_ops(nn: Any) -> Observations:
    """Parameters work with torch's own functions and optimizers like any tensor requiring grad."""
    w = nn.Parameter(torch.arange(4.0).reshape(2, 2))
    x = torch.ones(3, 2)
    y = torch.nn.functional.linear(x, w)
    y.sum().backward()
    opt = torch.optim.SGD([w], lr=0.5)
    opt.step()
    see = Observer()
    see("linear output", y)
    see("gradient", w.grad)
    see("after an SGD step", w.detach())
    see("still a Parameter", isinstance(w, nn.Parameter))
    return see.items


def forward_hooks(nn: Any) -> Observations:
    """Forward pre-hooks and hooks: order, prepend, replacing inputs and outputs, with_kwargs, removal."""
    affine_cls, _, model_cls = _models(nn)
    m = model_cls()
    calls: list[str] = []
    see = Observer()
    x = torch.ones(2, 2)

    def pre(tag: str, result: Any = None) -> Any:
        def hook(module: Any, args: tuple[Any, ...]) -> Any:
            calls.append(f"pre {tag} {type(args).__name__}{len(args)}")
            return result

        return hook

    def post(tag: str, result: Any = None) -> Any:
        def hook(module: Any, args: tuple[Any, ...], output: Any) -> Any:
            calls.append(f"post {tag} sum={output.sum().item():g}")
            return result if result is None else result(output)

        return hook

    h_a = m.register_forward_pre_hook(pre("a"))
    m.register_forward_pre_hook(pre("b"), prepend=True)
    m.h0.register_forward_hook(post("child"))
    m.register_forward_hook(post("c"))
    h_d = m.register_forward_hook(post("d", lambda out: out * 10))
    m.register_forward_hook(post("e"))
    y = m(x)
    see("call order (prepend first; children run inside forward; later hooks see a replaced output)", calls)
    see("output replaced by a forward hook", y)
    see("handle.remove() result", h_d.remove())
    h_a.remove()
    h_a.remove()  # a second remove does nothing
    calls.clear()
    see("after removing two hooks", (m(x), calls))
    calls.clear()
    m.forward(x)
    see("forward() runs none of the module's own hooks", calls)

    lin = affine_cls()
    lin.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # not a tuple: wrapped as (value,)
    see("a pre-hook's single return value becomes the input", lin(x))
    lin2 = affine_cls()
    lin2.register_forward_pre_hook(lambda mod, args: (args[0] + 1,))
    see("a pre-hook's tuple becomes the inputs", lin2(x))

    class Scaled(nn.Module):
        def forward(self, x: torch.Tensor, *, scale: float = 1.0) -> torch.Tensor:
            return x * scale

    s = Scaled()
    seen_kwargs: list[Any] = []
    s.register_forward_pre_hook(lambda mod, args, kwargs: (args, {**kwargs, "scale": 3.0}), with_kwargs=True)
    s.register_forward_hook(lambda mod, args, kwargs, out: seen_kwargs.append(dict(kwargs)), with_kwargs=True)
    see("with_kwargs pre-hook rewrites keyword arguments", s(x, scale=2.0))
    see("with_kwargs forward hook sees them", seen_kwargs)
    bad = Scaled()
    bad.register_forward_pre_hook(lambda mod, args, kwargs: x, with_kwargs=True)
    see("with_kwargs pre-hook returning something else", raised(lambda: bad(x)))
    return see.items


def module_repr(nn: Any) -> Observations:
    """repr: the class name, extra_repr() inline when alone, else one line per item, children nested and indented."""
    affine_cls, _, model_cls = _models(nn)

    class Scale(nn.Module):
        def __init__(self, factor: float) -> None:
            super().__init__()
            self.factor = factor

        def extra_repr(self) -> str:
            return f"factor={self.factor}"

    class TwoLines(nn.Module):
        def extra_repr(self) -> str:
            return "first=1,\nsecond=2"

    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = Scale(0.5)
            self.inner = model_cls()
            self.note = TwoLines()

        def extra_repr(self) -> str:
            return "tied=True"

    see = Observer()
    see("no children, no extra_repr", repr(affine_cls()))
    see("extra_repr alone stays inline", repr(Scale(2.0)))
    see("multi-line extra_repr", repr(TwoLines()))
    see("nested children", repr(model_cls()))
    see("extra_repr and children", repr(Head()))
    see("str is repr", str(Head()) == repr(Head()))
    return see.items


def state_dict_options(nn: Any) -> Observations:
    """state_dict(prefix=..., keep_vars=True, destination=...): prefixed keys, the Parameters themselves, in place."""
    _, _, model_cls = _models(nn)
    m = model_cls()
    see = Observer()
    see("prefix", list(m.state_dict(prefix="model.")))
    kept = m.state_dict(keep_vars=True)
    params = dict(m.named_parameters())
    see("keep_vars=True gives the Parameters themselves", [kept[k] is p for k, p in params.items()])
    see("keep_vars=True values require grad", [v.requires_grad for v in kept.values()])
    see("buffers are the buffers themselves", kept["h0.mask"] is m.h0.mask)
    dest: dict[str, Any] = {"other": 1}
    out = m.h1.state_dict(destination=dest, prefix="h1.")
    see("destination is filled and returned", (out is dest, list(dest)))
    return see.items


def load_state_dict_assign(nn: Any) -> Observations:
    """load_state_dict(assign=True) keeps the given tensors as the new Parameters and buffers (requires_grad kept)."""
    _, _, model_cls = _models(nn)
    m = model_cls()
    m.h1.scale.requires_grad_(False)
    old = dict(m.named_parameters())
    state = {
        k: (v + 1).to(torch.float64) if v.is_floating_point() else v + 1 for k, v in model_cls().state_dict().items()
    }
    result = m.load_state_dict(state, assign=True)
    see = Observer()
    see("result", (list(result.missing_keys), list(result.unexpected_keys)))
    see("new Parameter objects", [p is old[n] for n, p in m.named_parameters()])
    see("still Parameters", [isinstance(p, nn.Parameter) for p in m.parameters()])
    see("dtypes are the checkpoint's", [str(t.dtype) for t in m.state_dict().values()])
    see("requires_grad kept from the module", [(n, p.requires_grad) for n, p in m.named_parameters()])
    see("values", [p.detach() for p in m.parameters()])
    see("a buffer is the given tensor", m.h0.mask is state["h0.mask"])
    see("shares memory with the checkpoint", m.gain.data_ptr() == state["gain"].data_ptr())
    m(torch.ones(1, 2, dtype=torch.float64)).sum().backward()
    see("gradients reach the new Parameters", [p.grad is not None for p in m.parameters()])
    return see.items


def submodule_lookup(nn: Any) -> Observations:
    """get_submodule / get_parameter / get_buffer by dotted path; bad paths raise AttributeError."""
    _, _, model_cls = _models(nn)
    m = model_cls()
    see = Observer()
    see("get_submodule", m.get_submodule("h0.proj") is m.h0.proj)
    see("get_submodule('') is the module", m.get_submodule("") is m)
    see("get_parameter", m.get_parameter("h1.proj.weight") is m.h1.proj.weight)
    see("get_buffer", m.get_buffer("h0.mask") is m.h0.mask)
    see("get_buffer of a non-persistent buffer", m.get_buffer("h0.cache") is m.h0.cache)
    see("missing submodule", raised(lambda: m.get_submodule("h0.nothing")))
    see("a parameter is not a submodule", raised(lambda: m.get_submodule("h0.scale")))
    see("missing parameter", raised(lambda: m.get_parameter("h0.proj.nothing")))
    see("a buffer is not a parameter", raised(lambda: m.get_parameter("h0.mask")))
    see("a plain attribute is not a buffer", raised(lambda: m.get_buffer("h0.tag")))
    see("its message names the path", error_mentions(lambda: m.get_submodule("h0.nothing"), "nothing"))
    return see.items


def extra_state(nn: Any) -> Observations:
    """get_extra_state / set_extra_state: saved under '<prefix>_extra_state', restored by load_state_dict."""

    class Counter(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.ones(2))
            self.calls = 0

        def get_extra_state(self) -> Any:
            return {"calls": self.calls}

        def set_extra_state(self, state: Any) -> None:
            self.calls = state["calls"]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.counter = Counter()

    net = Net()
    net.counter.calls = 7
    state = net.state_dict()
    fresh = Net()
    fresh.load_state_dict(state)
    see = Observer()
    see("keys", list(state))
    see("the extra state", state["counter._extra_state"])
    see("restored", fresh.counter.calls)
    missing = {k: v for k, v in state.items() if not k.endswith("_extra_state")}
    see("strict load without it", raised(lambda: Net().load_state_dict(missing)))
    see("strict=False reports it missing", list(Net().load_state_dict(missing, strict=False).missing_keys))
    return see.items


_NAMESPACE = {"namespace": "nn", "uses": ("Module", "Parameter")}

ENTRIES = [
    Entry(
        name="Module",
        path="nn.Module",
        kind="semantics",
        page="module",
        checks=("semantics",),
        extra={
            **_NAMESPACE,
            "scenarios": (
                attribute_registration,
                registration_errors,
                traversal,
                weight_tying,
                state_dict_layout,
                register_buffer,
                load_state_dict_strict,
                train_eval,
                zero_grad,
                apply_order,
                to_dtype,
                requires_grad_,
                call_runs_forward,
                forward_hooks,
                module_repr,
                state_dict_options,
                load_state_dict_assign,
                submodule_lookup,
                extra_state,
            ),
        },
    ),
    Entry(
        name="Parameter",
        path="nn.Parameter",
        kind="semantics",
        page="module",
        checks=("semantics",),
        extra={**_NAMESPACE, "scenarios": (parameter_basics, parameter_in_torch_ops)},
    ),
]
