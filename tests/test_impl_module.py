"""``impl.nn`` Module, Parameter and containers, compared with torch.nn behaviour for behaviour."""

from __future__ import annotations

import copy
import io
import pickle
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

import pytest
import torch
import torch.nn as tnn

from impl.nn.container import ModuleDict, ModuleList, Sequential
from impl.nn.module import Module
from impl.nn.parameter import Parameter

INN = SimpleNamespace(
    Module=Module, Parameter=Parameter, ModuleList=ModuleList, ModuleDict=ModuleDict, Sequential=Sequential
)
NAMESPACES: dict[str, Any] = {"torch": tnn, "impl": INN}


def _define(nn: Any) -> SimpleNamespace:
    """The same small model family built on one namespace (torch.nn or ours)."""

    class Lin(nn.Module):
        def __init__(self, i: int, o: int, bias: bool = True) -> None:
            super().__init__()
            self.in_features, self.out_features = i, o
            self.weight = nn.Parameter(torch.randn(o, i))
            if bias:
                self.bias = nn.Parameter(torch.randn(o))
            else:
                self.register_parameter("bias", None)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = x @ self.weight.T
            return y if self.bias is None else y + self.bias

        def extra_repr(self) -> str:
            return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    class Act(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.tanh(x)

    class TwoLine(nn.Module):
        def extra_repr(self) -> str:
            return "first=1,\nsecond=2"

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = Lin(3, 4)
            self.register_buffer("mask", torch.ones(2), persistent=False)
            self.register_buffer("count", torch.zeros((), dtype=torch.long))
            self.act = Act()
            self.proj = Lin(4, 3, bias=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.proj(self.act(self.fc(x)))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = nn.Parameter(torch.ones(3))
            self.blocks = nn.ModuleList([Block() for _ in range(3)])
            self.heads = nn.ModuleDict({"a": Lin(3, 2), "b": nn.Sequential(Lin(3, 3), Act(), Lin(3, 1))})
            self.register_buffer("pos", torch.arange(4))
            self.register_buffer("unset", None)
            self.shared = self.blocks[0].fc  # the same module under a second name
            self.notes = TwoLine()
            self.empty = nn.Sequential()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            for block in self.blocks:
                x = block(x)
            return self.heads["a"](x * self.scale)

    return SimpleNamespace(Lin=Lin, Act=Act, Block=Block, Net=Net, TwoLine=TwoLine)


MODELS = {name: _define(nn) for name, nn in NAMESPACES.items()}


def _pair(cls_name: str = "Net", *args: Any, seed: int = 0) -> tuple[Any, Any]:
    """A torch-based and an impl-based instance built from the same random draws."""
    torch.manual_seed(seed)
    ref = getattr(MODELS["torch"], cls_name)(*args)
    torch.manual_seed(seed)
    ours = getattr(MODELS["impl"], cls_name)(*args)
    return ref, ours


def _raises_like(fn_ref: Any, fn_ours: Any) -> str:
    """Both callables raise the same exception type with the same message; returns the message."""
    with pytest.raises(Exception) as ref_info:
        fn_ref()
    with pytest.raises(type(ref_info.value)) as our_info:
        fn_ours()
    assert str(our_info.value) == str(ref_info.value)
    return str(our_info.value)


# --------------------------------------------------------------------------- Parameter


def test_parameter_is_a_tensor_sharing_storage() -> None:
    data = torch.randn(3, 2)
    p = Parameter(data)
    assert isinstance(p, torch.Tensor) and type(p) is Parameter
    assert p.requires_grad and p.is_leaf
    assert p.data_ptr() == data.data_ptr()
    assert not Parameter(data, requires_grad=False).requires_grad
    empty = Parameter()
    assert empty.shape == (0,) and empty.requires_grad
    # Operations give plain tensors, as torch's Parameter does.
    assert type(p * 2) is torch.Tensor and type(p.detach()) is torch.Tensor and type(p.data) is torch.Tensor


def test_parameter_keeps_requires_grad_under_no_grad() -> None:
    with torch.no_grad():
        p = Parameter(torch.ones(2))
    assert p.requires_grad


@pytest.mark.parametrize(
    "data, requires_grad",
    [
        (torch.tensor([[1.0, 2.5], [3.0, -4.0]]), True),
        (torch.arange(5), False),
        (torch.tensor([1.5], dtype=torch.float64), True),
        (torch.empty(0), True),
    ],
)
def test_parameter_repr_matches_torch(data: torch.Tensor, requires_grad: bool) -> None:
    assert repr(Parameter(data.clone(), requires_grad)) == repr(tnn.Parameter(data.clone(), requires_grad))


def test_parameter_deepcopy_and_pickle() -> None:
    p = Parameter(torch.randn(4, 3))
    q = copy.deepcopy(p)
    assert type(q) is Parameter and q.requires_grad
    assert torch.equal(q, p) and q.data_ptr() != p.data_ptr()
    frozen = Parameter(torch.randn(2), requires_grad=False)
    for original in (p, frozen):
        restored = pickle.loads(pickle.dumps(original))
        assert type(restored) is Parameter
        assert restored.requires_grad == original.requires_grad
        assert torch.equal(restored, original)
    buf = io.BytesIO()
    torch.save(p, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=False)
    assert type(loaded) is Parameter and torch.equal(loaded, p)


def test_parameter_works_with_torch_autograd_and_optim() -> None:
    p = Parameter(torch.tensor([1.0, -2.0]))
    (p * p).sum().backward()
    torch.testing.assert_close(p.grad, torch.tensor([2.0, -4.0]))
    opt = torch.optim.SGD([p], lr=0.5)
    opt.step()
    torch.testing.assert_close(p.detach(), torch.tensor([0.0, 0.0]))
    assert type(p) is Parameter


def test_parameter_interoperates_with_torch_parameter() -> None:
    ours = Parameter(torch.ones(2))
    theirs = tnn.Parameter(torch.ones(2))
    assert isinstance(ours, tnn.Parameter)
    assert isinstance(theirs, Parameter)
    assert not isinstance(torch.ones(2), Parameter)
    wrapped = Parameter(theirs)
    assert type(wrapped) is Parameter and wrapped.data_ptr() == theirs.data_ptr()
    # torch's layers accept our Parameter in their own slots (e.g. a tied embedding).
    lin = tnn.Linear(2, 5, bias=False)
    tied = Parameter(torch.randn(5, 2))
    lin.weight = tied
    assert lin.weight is tied and [n for n, _ in lin.named_parameters()] == ["weight"]


# --------------------------------------------------------------------------- registration


def test_setattr_registers_parameters_modules_and_buffers() -> None:
    _, net = _pair()
    assert set(net._parameters) == {"scale"}
    assert list(net._modules) == ["blocks", "heads", "shared", "notes", "empty"]
    assert list(net._buffers) == ["pos", "unset"]
    assert "scale" not in net.__dict__ and "blocks" not in net.__dict__
    assert net.blocks[1].mask is net.blocks[1]._buffers["mask"]
    net.plain = torch.ones(1)  # a plain tensor is an ordinary attribute
    assert "plain" in net.__dict__ and "plain" not in net._buffers


def test_assigning_none_keeps_the_slot_but_drops_it_from_state() -> None:
    for ns in ("torch", "impl"):
        lin = MODELS[ns].Lin(2, 3)
        lin.bias = None
        assert "bias" in lin._parameters and lin.bias is None
        assert [n for n, _ in lin.named_parameters()] == ["weight"]
        assert list(lin.state_dict()) == ["weight"]


def test_reassigning_a_buffer_keeps_its_persistence() -> None:
    _, net = _pair()
    block = net.blocks[0]
    block.mask = torch.zeros(5)
    block.count = torch.ones((), dtype=torch.long)
    assert "mask" not in block.state_dict() and "count" in block.state_dict()
    assert torch.equal(block.mask, torch.zeros(5))


def test_attribute_moves_between_kinds() -> None:
    _, net = _pair()
    net.pos = Parameter(torch.zeros(4))  # a buffer name re-assigned a Parameter becomes a parameter
    assert "pos" in net._parameters and "pos" not in net._buffers
    net.notes = Parameter(torch.zeros(1))
    assert "notes" in net._parameters and "notes" not in net._modules


def test_delattr_removes_registered_entries() -> None:
    ref, net = _pair()
    for m in (ref, net):
        del m.scale
        del m.pos
        del m.shared
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert list(net.state_dict()) == list(ref.state_dict())
    assert "scale" not in dict(net.named_parameters())
    with pytest.raises(AttributeError):
        del net.scale


@pytest.mark.parametrize(
    "action",
    [
        lambda m, nn: setattr(m, "scale", torch.ones(3)),
        lambda m, nn: setattr(m, "blocks", torch.ones(1)),
        lambda m, nn: setattr(m, "pos", "text"),
        lambda m, nn: m.register_parameter("a.b", nn.Parameter(torch.ones(1))),
        lambda m, nn: m.register_parameter("", nn.Parameter(torch.ones(1))),
        lambda m, nn: m.register_parameter("blocks", nn.Parameter(torch.ones(1))),
        lambda m, nn: m.register_parameter("w", torch.ones(1)),
        lambda m, nn: m.register_parameter(3, None),
        lambda m, nn: m.register_buffer("a.b", torch.ones(1)),
        lambda m, nn: m.register_buffer("", torch.ones(1)),
        lambda m, nn: m.register_buffer("scale", torch.ones(1)),
        lambda m, nn: m.register_buffer("b", [1.0]),
        lambda m, nn: m.add_module("x", torch.ones(1)),
        lambda m, nn: m.add_module("a.b", nn.Sequential()),
        lambda m, nn: m.add_module("", nn.Sequential()),
        lambda m, nn: m.add_module("scale", nn.Sequential()),
    ],
)
def test_registration_errors_match_torch(action: Any) -> None:
    ref, net = _pair()
    _raises_like(lambda: action(ref, tnn), lambda: action(net, INN))


def test_registration_before_init_is_refused() -> None:
    class Early(Module):
        def __init__(self) -> None:
            self.w = Parameter(torch.ones(1))

    class EarlyChild(Module):
        def __init__(self) -> None:
            self.child = Sequential()

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Early()
    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\) call"):
        EarlyChild()


def test_init_rejects_arguments_like_torch() -> None:
    _raises_like(lambda: tnn.Module(3), lambda: Module(3))
    _raises_like(lambda: tnn.Module(x=3), lambda: Module(x=3))


def test_missing_attribute_message_matches_torch() -> None:
    ref, net = _pair()
    msg = _raises_like(lambda: ref.nope, lambda: net.nope)
    assert msg == "'Net' object has no attribute 'nope'"
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        net.nope  # noqa: B018
    assert not hasattr(net, "nope") and hasattr(net, "scale") and hasattr(net, "blocks") and hasattr(net, "pos")


def test_forward_must_be_defined() -> None:
    _raises_like(lambda: tnn.Module()(1), lambda: Module()(1))


# --------------------------------------------------------------------------- traversal


@pytest.mark.parametrize("method", ["named_parameters", "named_buffers", "named_modules"])
@pytest.mark.parametrize(
    "kwargs", [{}, {"remove_duplicate": False}, {"prefix": "model"}, {"prefix": "m", "remove_duplicate": False}]
)
def test_named_members_order_matches_torch(method: str, kwargs: dict[str, Any]) -> None:
    ref, net = _pair()
    ref_items = list(getattr(ref, method)(**kwargs))
    our_items = list(getattr(net, method)(**kwargs))
    assert [n for n, _ in our_items] == [n for n, _ in ref_items]
    if method != "named_modules":
        for (_, a), (_, b) in zip(ref_items, our_items, strict=True):
            assert torch.equal(a, b)


@pytest.mark.parametrize("method", ["named_parameters", "named_buffers"])
def test_named_members_without_recursion(method: str) -> None:
    ref, net = _pair()
    assert [n for n, _ in getattr(net, method)(recurse=False)] == [n for n, _ in getattr(ref, method)(recurse=False)]
    assert len(list(net.parameters(recurse=False))) == 1
    assert len(list(net.buffers(recurse=False))) == 1  # None buffers are skipped


def test_children_and_modules_match_torch() -> None:
    ref, net = _pair()
    assert [n for n, _ in net.named_children()] == [n for n, _ in ref.named_children()]
    assert [type(m).__name__ for m in net.children()] == [type(m).__name__ for m in ref.children()]
    assert [type(m).__name__ for m in net.modules()] == [type(m).__name__ for m in ref.modules()]
    assert len(list(net.modules(remove_duplicate=False))) == len(list(ref.modules(remove_duplicate=False)))
    assert len(list(net.modules())) == len(list(net.modules(remove_duplicate=False))) - 1
    params = list(net.parameters())
    assert len(params) == len({id(p) for p in params}) == len(list(ref.parameters()))


def test_shared_parameter_is_listed_once() -> None:
    for ns in ("torch", "impl"):
        seq = NAMESPACES[ns].Sequential(MODELS[ns].Lin(2, 2), MODELS[ns].Lin(2, 2))
        seq[1].weight = seq[0].weight
        names = [n for n, _ in seq.named_parameters()]
        assert names == ["0.weight", "0.bias", "1.bias"]
        assert len([n for n, _ in seq.named_parameters(remove_duplicate=False)]) == 4
        assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_dir_lists_registered_names() -> None:
    ref, net = _pair()
    listing = dir(net)
    for name in ("scale", "blocks", "pos", "forward", "training", "state_dict"):
        assert name in listing
    assert listing == sorted(listing)
    assert not any(key[0].isdigit() for key in dir(net.blocks))
    # Every name torch lists for its module that our Module also implements appears in ours.
    ours = set(listing)
    assert {"scale", "blocks", "heads", "pos", "unset", "shared", "notes", "empty"} <= ours
    assert {k for k in dir(ref) if not k.startswith("_") and hasattr(net, k)} <= ours


def test_get_submodule_parameter_buffer() -> None:
    ref, net = _pair()
    assert net.get_submodule("") is net
    assert net.get_submodule("heads.b.0") is net.heads["b"][0]
    assert net.get_parameter("heads.b.0.weight") is net.heads["b"][0].weight
    assert net.get_parameter("scale") is net.scale
    assert net.get_buffer("blocks.1.count") is net.blocks[1].count
    for method, target in [
        ("get_submodule", "heads.c"),
        ("get_submodule", "scale.x"),
        ("get_submodule", "scale"),
        ("get_parameter", "heads.b.0.nope"),
        ("get_parameter", "pos"),
        ("get_parameter", "blocks"),
        ("get_buffer", "scale"),
        ("get_buffer", "blocks.0.nope"),
    ]:
        _raises_like(lambda m=method, t=target: getattr(ref, m)(t), lambda m=method, t=target: getattr(net, m)(t))


# --------------------------------------------------------------------------- state_dict


def test_state_dict_keys_order_and_metadata_match_torch() -> None:
    ref, net = _pair()
    ref_sd: Any = ref.state_dict()
    our_sd: Any = net.state_dict()
    assert list(our_sd) == list(ref_sd)
    assert our_sd._metadata == ref_sd._metadata
    assert type(our_sd) is OrderedDict
    for key in ref_sd:
        assert torch.equal(our_sd[key], ref_sd[key]), key
    assert "blocks.0.mask" not in our_sd and "unset" not in our_sd
    assert list(net.state_dict(prefix="model.")) == list(ref.state_dict(prefix="model."))


def test_state_dict_is_detached_but_shares_storage() -> None:
    _, net = _pair()
    sd = net.state_dict()
    assert type(sd["scale"]) is torch.Tensor and not sd["scale"].requires_grad
    assert sd["scale"].data_ptr() == net.scale.data_ptr()
    kept = net.state_dict(keep_vars=True)
    assert kept["scale"] is net.scale and kept["blocks.0.fc.weight"] is net.blocks[0].fc.weight


def test_state_dict_into_given_destination() -> None:
    _, net = _pair()
    dest: dict[str, torch.Tensor] = {"other": torch.ones(1)}
    out = net.state_dict(destination=dest, prefix="m.")
    assert out is dest and next(iter(dest)) == "other" and "m.scale" in dest


def test_load_state_dict_round_trips_with_torch() -> None:
    ref, net = _pair(seed=1)
    _, fresh = _pair(seed=2)
    params_before = {name: p for name, p in fresh.named_parameters()}
    result = fresh.load_state_dict(ref.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for key, value in ref.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key
    # Copied in place: the same Parameter objects, still leaves without history.
    for name, p in fresh.named_parameters():
        assert p is params_before[name] and p.is_leaf and p.grad_fn is None and p.requires_grad
    # And back into torch.
    ref2, _ = _pair(seed=3)
    ref2.load_state_dict(net.state_dict())
    for key, value in net.state_dict().items():
        assert torch.equal(ref2.state_dict()[key], value), key


def test_load_state_dict_error_message_matches_torch() -> None:
    ref, net = _pair()
    bad = ref.state_dict()
    del bad["scale"]
    del bad["blocks.2.count"]
    bad["extra.weight"] = torch.ones(1)
    bad["blocks.0.stray"] = torch.ones(1)
    bad["blocks.0.fc.weight"] = torch.ones(5, 5)
    msg = _raises_like(lambda: ref.load_state_dict(bad), lambda: net.load_state_dict(bad))
    assert 'Missing key(s) in state_dict: "scale", "blocks.2.count"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight", "blocks.0.stray"' in msg
    assert (
        "size mismatch for blocks.0.fc.weight: copying a param with shape torch.Size([5, 5]) from checkpoint, " in msg
    )
    assert "the shape in current model is torch.Size([4, 3])" in msg


def test_load_state_dict_non_strict_reports_keys_like_torch() -> None:
    ref, net = _pair()
    partial = ref.state_dict()
    del partial["heads.a.bias"]
    partial["junk"] = torch.zeros(1)
    ref_result = ref.load_state_dict(partial, strict=False)
    our_result = net.load_state_dict(partial, strict=False)
    assert tuple(our_result) == tuple(ref_result)
    assert our_result.missing_keys == ["heads.a.bias"] and our_result.unexpected_keys == ["junk"]
    assert our_result._fields == ("missing_keys", "unexpected_keys")
    assert "missing_keys=['heads.a.bias']" in repr(our_result)


def test_load_state_dict_non_tensor_value_message_matches_torch() -> None:
    ref, net = _pair()
    bad = ref.state_dict()
    bad["scale"] = [1.0, 2.0, 3.0]
    _raises_like(lambda: ref.load_state_dict(bad), lambda: net.load_state_dict(bad))
    _raises_like(lambda: ref.load_state_dict([1, 2]), lambda: net.load_state_dict([1, 2]))


def test_load_state_dict_casts_into_existing_dtype() -> None:
    _, net = _pair()
    sd = {k: (v.double() if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    sd["scale"] = torch.full((3,), 2.0, dtype=torch.float64)
    net.load_state_dict(sd)
    assert net.scale.dtype == torch.float32 and torch.equal(net.scale.detach(), torch.full((3,), 2.0))


def test_load_state_dict_assign_takes_the_given_tensors() -> None:
    _, net = _pair()
    frozen = net.blocks[0].fc.bias
    frozen.requires_grad_(False)
    sd = {k: v.double().clone() if v.is_floating_point() else v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(sd, assign=True)
    assert type(net.scale) is Parameter and net.scale.dtype == torch.float64
    assert net.scale.data_ptr() == sd["scale"].data_ptr()
    assert not net.blocks[0].fc.bias.requires_grad and net.blocks[1].fc.bias.requires_grad
    assert net.pos is sd["pos"]


def test_load_state_dict_scalar_from_one_element_checkpoint() -> None:
    _, net = _pair()
    sd = net.state_dict()
    sd["blocks.0.count"] = torch.tensor([7])
    net.load_state_dict(sd)
    assert net.blocks[0].count.shape == () and net.blocks[0].count.item() == 7


def test_extra_state_round_trips() -> None:
    class WithExtra(Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = Parameter(torch.ones(1))
            self.tag = "a"

        def get_extra_state(self) -> Any:
            return {"tag": self.tag}

        def set_extra_state(self, state: Any) -> None:
            self.tag = state["tag"]

    m = WithExtra()
    m.tag = "b"
    sd = m.state_dict()
    assert list(sd) == ["w", "_extra_state"]
    fresh = WithExtra()
    fresh.load_state_dict(sd)
    assert fresh.tag == "b"
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        fresh.load_state_dict({"w": torch.ones(1)})
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "_extra_state"'):
        Sequential().load_state_dict({"_extra_state": 1})


# --------------------------------------------------------------------------- modes, grads, apply


def test_train_eval_recurse_and_return_self() -> None:
    ref, net = _pair()
    assert net.training and all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.blocks[2].train() is net.blocks[2]
    ref.eval()
    ref.blocks[2].train()
    assert [m.training for m in net.modules()] == [m.training for m in ref.modules()]
    assert net.train(True) is net and all(m.training for m in net.modules())
    _raises_like(lambda: ref.train("yes"), lambda: net.train("yes"))


def test_zero_grad_both_ways() -> None:
    _, net = _pair()
    net(torch.randn(2, 3)).sum().backward()
    grads = {n: p.grad for n, p in net.named_parameters() if p.grad is not None}
    assert grads
    net.zero_grad(set_to_none=False)
    for n, p in net.named_parameters():
        if n in grads:
            assert p.grad is grads[n] and not p.grad.any()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_toggles_every_parameter() -> None:
    _, net = _pair()
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.requires_grad_()
    assert all(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first_like_torch() -> None:
    ref, net = _pair()
    ref_order: list[str] = []
    our_order: list[str] = []
    ref.apply(lambda m: ref_order.append(type(m).__name__))  # type: ignore[func-returns-value]
    assert net.apply(lambda m: our_order.append(type(m).__name__)) is net  # type: ignore[func-returns-value]
    assert our_order == ref_order
    assert our_order[-1] == "Net" and our_order[:2] == ["Lin", "Act"]


# --------------------------------------------------------------------------- conversion


def test_to_dtype_keeps_parameter_identity() -> None:
    _, net = _pair()
    net(torch.randn(2, 3)).sum().backward()
    params = dict(net.named_parameters())
    assert net.double() is net
    for name, p in net.named_parameters():
        assert p is params[name] and p.dtype == torch.float64 and type(p) is Parameter and p.requires_grad
        if p.grad is not None:
            assert p.grad.dtype == torch.float64
    assert net.pos.dtype == torch.int64 and net.blocks[0].count.dtype == torch.int64
    assert net.blocks[0].mask.dtype == torch.float64
    assert net.to(torch.float32) is net and net.scale.dtype == torch.float32
    net.to(torch.ones(1, dtype=torch.float64))
    assert net.scale.dtype == torch.float64
    net.float()
    assert net.scale.dtype == torch.float32 and net.scale is params["scale"]
    net.to("cpu", torch.float64)
    assert net.scale.dtype == torch.float64
    net.to(device=torch.device("cpu"), dtype=torch.float32)
    assert net.scale.dtype == torch.float32
    net.half().float()
    net.cpu()
    assert net.scale is params["scale"]
    # The converted module still computes like torch's converted one.
    ref, ours = _pair()
    x = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(ours.double()(x), ref.double()(x))


def test_to_refuses_integer_dtype_like_torch() -> None:
    ref, net = _pair()
    _raises_like(lambda: ref.to(torch.int32), lambda: net.to(torch.int32))


# --------------------------------------------------------------------------- calling and hooks


def test_call_runs_forward_like_torch() -> None:
    ref, net = _pair()
    x = torch.randn(4, 3)
    torch.testing.assert_close(net(x), ref(x), rtol=0, atol=0)
    assert net.forward(x).shape == (4, 2)


def test_forward_hooks() -> None:
    _, net = _pair()
    lin = net.heads["a"]
    calls: list[str] = []

    def pre(module: Module, args: tuple[Any, ...]) -> Any:
        calls.append("pre")
        return args[0] * 0

    def post(module: Module, args: tuple[Any, ...], output: torch.Tensor) -> torch.Tensor:
        calls.append("post")
        return output + 1

    h1 = lin.register_forward_pre_hook(pre)
    h2 = lin.register_forward_hook(post)
    out = lin(torch.randn(2, 3))
    torch.testing.assert_close(out, lin.bias.detach().expand(2, 2) + 1)
    assert calls == ["pre", "post"]
    h1.remove()
    h2.remove()
    x = torch.randn(2, 3)
    torch.testing.assert_close(lin(x), lin.forward(x))

    seen: list[Any] = []

    def pre_kwargs(m: Module, a: tuple[Any, ...], k: dict[str, Any]) -> Any:
        seen.append(k)
        return (a[0] * 2,), k

    h3 = lin.register_forward_pre_hook(pre_kwargs, with_kwargs=True)
    h4 = lin.register_forward_hook(
        lambda m, a, k, o: seen.append("out"),  # type: ignore[func-returns-value]
        with_kwargs=True,
        prepend=True,
    )
    torch.testing.assert_close(lin(x), lin.forward(x * 2))
    assert seen == [{}, "out"]
    h3.remove()
    h4.remove()
    bad = lin.register_forward_pre_hook(lambda m, a, k: 5, with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        lin(x)
    bad.remove()


# --------------------------------------------------------------------------- repr


def test_repr_matches_torch() -> None:
    ref, net = _pair()
    assert repr(net) == repr(ref)
    assert "(0-2): 3 x Block(" in repr(net)
    assert repr(Module()) == repr(tnn.Module()) == "Module()"
    assert repr(ModuleList()) == "ModuleList()"


def test_modulelist_repr_folds_runs_like_torch() -> None:
    ref_list = tnn.ModuleList(
        [MODELS["torch"].Lin(2, 2), MODELS["torch"].Lin(2, 2), MODELS["torch"].Act(), MODELS["torch"].Lin(2, 2)]
    )
    our_list = ModuleList(
        [MODELS["impl"].Lin(2, 2), MODELS["impl"].Lin(2, 2), MODELS["impl"].Act(), MODELS["impl"].Lin(2, 2)]
    )
    assert repr(our_list) == repr(ref_list)
    nested_ref = tnn.ModuleList([MODELS["torch"].TwoLine(), MODELS["torch"].Block()])
    nested_ours = ModuleList([MODELS["impl"].TwoLine(), MODELS["impl"].Block()])
    assert repr(nested_ours) == repr(nested_ref)


# --------------------------------------------------------------------------- copying


class _Tanh(Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x)


class _Picklable(Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = Sequential(OrderedDict([("fc", _Tanh())]))
        self.w = Parameter(torch.randn(3, 2))
        self.register_buffer("b", torch.arange(3))
        self.register_buffer("tmp", torch.zeros(1), persistent=False)
        self.alias = self.a

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.a(x) @ self.w


def test_deepcopy_keeps_structure_and_sharing() -> None:
    _, net = _pair()
    clone = copy.deepcopy(net)
    assert repr(clone) == repr(net)
    assert clone.shared is clone.blocks[0].fc and clone.shared is not net.shared
    assert type(clone.scale) is Parameter and clone.scale.data_ptr() != net.scale.data_ptr()
    for key, value in net.state_dict().items():
        assert torch.equal(clone.state_dict()[key], value)


def test_pickle_round_trip() -> None:
    m = _Picklable()
    restored = pickle.loads(pickle.dumps(m))
    assert type(restored) is _Picklable and restored.alias is restored.a
    assert list(restored.state_dict()) == ["w", "b"] and "tmp" in restored._non_persistent_buffers_set
    x = torch.randn(4, 3)
    torch.testing.assert_close(restored(x), m(x))


# --------------------------------------------------------------------------- containers


def test_modulelist_behaves_like_torch() -> None:
    torch_ns, impl_ns = MODELS["torch"], MODELS["impl"]
    ref: Any = tnn.ModuleList([torch_ns.Lin(2, 2) for _ in range(3)])
    ours: Any = ModuleList([impl_ns.Lin(2, 2) for _ in range(3)])
    for lst, ns in ((ref, torch_ns), (ours, impl_ns)):
        lst.append(ns.Act())
        lst.extend([ns.Lin(2, 3), ns.Lin(3, 3)])
        lst.insert(1, ns.TwoLine())
        lst += [ns.Act()]
        del lst[2]
        lst[0] = ns.Lin(2, 5)
        lst.pop(-2)
    assert len(ours) == len(ref) == 6
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in ref]
    assert list(ours._modules) == [str(i) for i in range(6)]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert ours[-1] is ours[5] and ours[0].out_features == 5
    sliced = ours[1:4]
    assert type(sliced) is ModuleList and len(sliced) == 3 and sliced[0] is ours[1]
    joined = ours + ModuleList([impl_ns.Act()])
    assert type(joined) is ModuleList and len(joined) == 7
    del ours[0:2]
    assert list(ours._modules) == [str(i) for i in range(4)]
    _raises_like(lambda: ref[10], lambda: ours[10])
    _raises_like(lambda: ref.extend(3), lambda: ours.extend(3))
    _raises_like(lambda: ref(1), lambda: ours(1))


def test_moduledict_behaves_like_torch() -> None:
    torch_ns, impl_ns = MODELS["torch"], MODELS["impl"]
    ref: Any = tnn.ModuleDict({"b": torch_ns.Lin(2, 2), "a": torch_ns.Act()})
    ours: Any = ModuleDict({"b": impl_ns.Lin(2, 2), "a": impl_ns.Act()})
    for d, ns, dtype in ((ref, torch_ns, tnn.ModuleDict), (ours, impl_ns, ModuleDict)):
        d["c"] = ns.Lin(2, 3)
        d.update([("d", ns.Act()), ["b", ns.Lin(2, 4)]])
        d.update(dtype({"e": ns.Act()}))
        d.update(OrderedDict([("f", ns.Act())]))
        assert d.pop("a").__class__.__name__ == "Act"
        del d["f"]
    assert list(ours.keys()) == list(ref.keys()) == ["b", "c", "d", "e"]
    assert list(ours) == list(ref) and len(ours) == len(ref) == 4
    assert "c" in ours and "a" not in ours
    assert ours["b"].out_features == 4
    assert [k for k, _ in ours.items()] == list(ours.keys()) and len(list(ours.values())) == 4
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert repr(ours) == repr(ref)
    _raises_like(lambda: ref.update(5), lambda: ours.update(5))
    _raises_like(lambda: ref.update([5]), lambda: ours.update([5]))
    _raises_like(lambda: ref.update([("a", torch_ns.Act(), 1)]), lambda: ours.update([("a", impl_ns.Act(), 1)]))
    _raises_like(lambda: ref["zz"], lambda: ours["zz"])
    ours.clear()
    assert len(ours) == 0


def test_sequential_behaves_like_torch() -> None:
    torch_ns, impl_ns = MODELS["torch"], MODELS["impl"]
    torch.manual_seed(0)
    ref: Any = tnn.Sequential(torch_ns.Lin(3, 4), torch_ns.Act(), torch_ns.Lin(4, 2))
    torch.manual_seed(0)
    ours: Any = Sequential(impl_ns.Lin(3, 4), impl_ns.Act(), impl_ns.Lin(4, 2))
    x = torch.randn(5, 3)
    torch.testing.assert_close(ours(x), ref(x), rtol=0, atol=0)
    assert repr(ours) == repr(ref)
    assert type(ours[0:2]) is Sequential and len(ours[0:2]) == 2 and ours[-1] is ours[2]
    torch.testing.assert_close(ours[0:2](x), ref[0:2](x), rtol=0, atol=0)
    named = Sequential(OrderedDict([("inp", impl_ns.Lin(3, 3)), ("act", impl_ns.Act())]))
    assert list(named._modules) == ["inp", "act"] and named[1] is named.act
    for seq, ns in ((ref, torch_ns), (ours, impl_ns)):
        seq.append(ns.Act())
        seq.insert(0, ns.Act())
        seq.insert(-1, ns.TwoLine())
        seq.extend([ns.Act()])
        del seq[1]
        seq[0] = ns.Lin(3, 3)
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in ref]
    assert list(ours._modules) == [str(i) for i in range(len(ours))]
    assert Sequential()(x) is x
    both = ours + Sequential(impl_ns.Act())
    assert type(both) is Sequential and len(both) == len(ours) + 1
    assert len(ours * 2) == 2 * len(ours)
    _raises_like(lambda: ref[99], lambda: ours[99])
    _raises_like(lambda: ref.insert(99, torch_ns.Act()), lambda: ours.insert(99, impl_ns.Act()))
    _raises_like(lambda: ref + 1, lambda: ours + 1)


def test_containers_register_their_modules() -> None:
    impl_ns = MODELS["impl"]
    lst = ModuleList([impl_ns.Lin(2, 2)])
    assert len(list(lst.parameters())) == 2
    lst.double()
    assert lst[0].weight.dtype == torch.float64
    with pytest.raises(TypeError, match="is not a Module subclass"):
        ModuleList([torch.ones(1)])  # type: ignore[list-item]


# --------------------------------------------------------------------------- mixing with torch.nn


def test_torch_layer_as_a_child() -> None:
    class Mixed(Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = Parameter(torch.randn(2, 3))
            self.ln = tnn.LayerNorm(3)
            self.emb = tnn.Embedding(5, 3)
            self.head_weight = self.emb.weight  # a torch Parameter tied into our module

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.ln(x) @ self.w.T

    m = Mixed()
    assert [n for n, _ in m.named_parameters()] == ["w", "head_weight", "ln.weight", "ln.bias"]
    assert list(m.state_dict()) == ["w", "head_weight", "ln.weight", "ln.bias", "emb.weight"]
    assert "(ln): LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)" in repr(m)
    other = Mixed()
    other.load_state_dict(m.state_dict())
    torch.testing.assert_close(other.ln.bias, m.ln.bias)
    m.double().eval()
    assert m.ln.weight.dtype == torch.float64 and not m.ln.training
    assert m(torch.randn(4, 3, dtype=torch.float64)).shape == (4, 2)
