"""``impl.optim`` (Optimizer, AdamW, schedulers) and ``impl.nn.utils.clip_grad_norm_`` against torch."""

from __future__ import annotations

import copy
import itertools
import math
import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn.utils as tutils

from impl.nn.parameter import Parameter
from impl.nn.utils import clip_grad_norm_
from impl.optim import SGD, Adam, AdamW, lr_scheduler
from impl.optim import blocks as blocks_module
from impl.optim.optimizer import Optimizer

# --------------------------------------------------------------------------- helpers

SHAPES = [(5, 3), (7,), (2, 2, 2), ()]


def _params(seed: int = 0, dtypes: tuple[torch.dtype, ...] = (torch.float32,)) -> list[Any]:
    g = torch.Generator().manual_seed(seed)
    out: list[Any] = []
    for i, shape in enumerate(SHAPES):
        dtype = dtypes[i % len(dtypes)]
        out.append(Parameter(torch.randn(shape, generator=g, dtype=dtype)))
    return out


def _set_grads(params: list[Any], g: torch.Generator, step: int, none_every: int | None) -> None:
    for j, p in enumerate(params):
        if none_every is not None and (step + j) % none_every == 0:
            p.grad = None
        else:
            p.grad = torch.randn(p.shape, generator=g, dtype=p.dtype)


def _groups(params: list[Any], layout: str) -> Any:
    if layout == "flat":
        return params
    if layout == "groups":
        return [{"params": params[:2]}, {"params": params[2:], "lr": 0.02, "weight_decay": 0.0, "betas": (0.8, 0.99)}]
    if layout == "named":
        return [(f"p{i}", p) for i, p in enumerate(params)]
    raise AssertionError(layout)


def _trajectory(
    make_opt: Callable[[Any], Any],
    *,
    layout: str = "flat",
    steps: int = 40,
    none_every: int | None = None,
    dtypes: tuple[torch.dtype, ...] = (torch.float32,),
) -> tuple[list[torch.Tensor], Any]:
    params = _params(dtypes=dtypes)
    opt = make_opt(_groups(params, layout))
    g = torch.Generator().manual_seed(1)
    for step in range(steps):
        _set_grads(params, g, step, none_every)
        opt.step()
    return params, opt


def _state_equal(ours: dict[str, Any], ref: dict[str, Any]) -> None:
    assert list(ours) == list(ref)
    for key in ref:
        a, b = ours[key], ref[key]
        assert type(a) is type(b) and a.dtype == b.dtype and a.device == b.device, key
        assert torch.equal(a, b), key


SETTINGS: list[dict[str, Any]] = [
    {},
    {"lr": 0.05, "weight_decay": 0.0},
    {"amsgrad": True},
    {"maximize": True},
    {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-4, "weight_decay": 0.3, "amsgrad": True, "maximize": True},
]

# --------------------------------------------------------------------------- AdamW numerics


@pytest.fixture(params=["one block", "blocks of 4"])
def update_blocks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Adam's and SGD's updates run in blocks of ``_BLOCK`` elements once it spans ``_MIN_BLOCKS`` of them; these tests'
    tensors fit one block unless it is cut to 4 elements, which slices every parameter into pieces that straddle
    block boundaries."""
    if request.param == "blocks of 4":
        monkeypatch.setattr(blocks_module, "BLOCK", 4)
        assert sum(math.prod(s) for s in SHAPES) > blocks_module.MIN_BLOCKS * 4


@pytest.mark.usefixtures("update_blocks")
@pytest.mark.parametrize("kwargs", SETTINGS)
@pytest.mark.parametrize("layout", ["flat", "groups"])
@pytest.mark.parametrize("none_every", [None, 3])
def test_adamw_trajectory_is_bitwise_torch_foreach(kwargs: dict[str, Any], layout: str, none_every: int | None) -> None:
    ours, our_opt = _trajectory(lambda p: AdamW(p, **kwargs), layout=layout, none_every=none_every)
    ref, ref_opt = _trajectory(
        lambda p: torch.optim.AdamW(p, **kwargs, foreach=True), layout=layout, none_every=none_every
    )
    for a, b in zip(ours, ref, strict=True):
        assert torch.equal(a, b)
    for p_ours, p_ref in zip(ours, ref, strict=True):
        _state_equal(our_opt.state[p_ours], ref_opt.state[p_ref])


@pytest.mark.usefixtures("update_blocks")
@pytest.mark.parametrize(
    "kwargs",
    [{"weight_decay": 0.3}, {"lr": 0.05, "weight_decay": 0.1, "maximize": True, "amsgrad": True}, {}],
    ids=["l2", "l2-maximize-amsgrad", "defaults"],
)
@pytest.mark.parametrize("none_every", [None, 3])
def test_adam_trajectory_is_bitwise_torch_foreach(kwargs: dict[str, Any], none_every: int | None) -> None:
    ours, our_opt = _trajectory(lambda p: Adam(p, **kwargs), layout="groups", none_every=none_every)
    ref, ref_opt = _trajectory(
        lambda p: torch.optim.Adam(p, **kwargs, foreach=True), layout="groups", none_every=none_every
    )
    for a, b in zip(ours, ref, strict=True):
        assert torch.equal(a, b)
    groups = [{**g, "foreach": True} for g in our_opt.state_dict()["param_groups"]]
    assert groups == ref_opt.state_dict()["param_groups"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-2},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "maximize": True},
        {"lr": 0.05, "momentum": 0.5, "dampening": 0.3, "maximize": True, "weight_decay": 1e-2},
    ],
    ids=["plain", "momentum", "nesterov", "nesterov-decay", "nesterov-maximize", "dampening-maximize-decay"],
)
@pytest.mark.usefixtures("update_blocks")
@pytest.mark.parametrize("none_every", [None, 3])
def test_sgd_trajectory_is_bitwise_torch(kwargs: dict[str, Any], none_every: int | None) -> None:
    ours, our_opt = _trajectory(lambda p: SGD(p, **kwargs), layout="named", none_every=none_every)
    ref, ref_opt = _trajectory(lambda p: torch.optim.SGD(p, **kwargs), layout="named", none_every=none_every)
    for a, b in zip(ours, ref, strict=True):
        assert torch.equal(a, b)
    for p_ours, p_ref in zip(ours, ref, strict=True):
        _state_equal(our_opt.state[p_ours], ref_opt.state[p_ref])


@pytest.mark.usefixtures("update_blocks")
def test_sgd_leaves_grad_alone_and_refuses_what_torch_refuses() -> None:
    w = Parameter(torch.ones(40))
    opt = SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    for _ in range(2):  # the first step fills the momentum buffer, the second updates it
        w.grad = torch.full((40,), 2.0)
        opt.step()
        assert torch.equal(w.grad, torch.full((40,), 2.0))
    for kwargs, message in [
        ({"lr": -1.0}, "Invalid learning rate: -1.0"),
        ({"momentum": -0.5}, "Invalid momentum value: -0.5"),
        ({"weight_decay": -1.0}, "Invalid weight_decay value: -1.0"),
        ({"nesterov": True}, "Nesterov momentum requires a momentum and zero dampening"),
    ]:
        with pytest.raises(ValueError, match=message):
            SGD([w], **kwargs)
    with pytest.raises(NotImplementedError, match="SGD: fused=True"):
        SGD([w], fused=True)


@pytest.mark.parametrize("kwargs", SETTINGS)
def test_adamw_close_to_torch_default_implementation(kwargs: dict[str, Any]) -> None:
    # torch's default on CPU is its per-tensor loop, which rounds in a different order: equal to float32 tolerance.
    ours, _ = _trajectory(lambda p: AdamW(p, **kwargs), steps=100, none_every=4)
    ref, _ = _trajectory(lambda p: torch.optim.AdamW(p, **kwargs, foreach=False), steps=100, none_every=4)
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.usefixtures("update_blocks")
def test_adamw_non_contiguous_tensors_are_updated_in_place() -> None:
    # Transposed parameters and gradients cannot be cut into flat slices; they go whole, between sliced ones.
    def run(make: Callable[[Any], Any]) -> list[torch.Tensor]:
        g = torch.Generator().manual_seed(3)
        params = [Parameter(torch.randn(5, 3, generator=g)), Parameter(torch.randn(3, 4, generator=g).t())]
        params.append(Parameter(torch.randn(6, generator=g)))
        opt = make(params)
        for _ in range(5):
            for p in params:
                p.grad = (
                    torch.randn(p.shape[::-1], generator=g).t() if p.dim() == 2 else torch.randn(p.shape, generator=g)
                )
            opt.step()
        return [p.detach() for p in params]

    ours, ref = run(lambda p: AdamW(p, amsgrad=True)), run(lambda p: torch.optim.AdamW(p, amsgrad=True, foreach=True))
    assert not ours[1].is_contiguous()
    for a, b in zip(ours, ref, strict=True):
        assert torch.equal(a, b)


@pytest.mark.usefixtures("update_blocks")
def test_adamw_mixed_dtypes_and_complex() -> None:
    dtypes = (torch.float32, torch.float64)
    ours, our_opt = _trajectory(lambda p: AdamW(p, amsgrad=True), dtypes=dtypes, none_every=5)
    ref, _ = _trajectory(lambda p: torch.optim.AdamW(p, amsgrad=True, foreach=True), dtypes=dtypes, none_every=5)
    for a, b in zip(ours, ref, strict=True):
        assert a.dtype == b.dtype and torch.equal(a, b)
    assert our_opt.state[ours[1]]["exp_avg"].dtype == torch.float64

    def complex_run(make: Callable[[Any], Any]) -> torch.Tensor:
        p = Parameter(torch.randn(4, dtype=torch.complex64, generator=torch.Generator().manual_seed(0)))
        opt = make([p])
        g = torch.Generator().manual_seed(2)
        for _ in range(10):
            p.grad = torch.randn(4, dtype=torch.complex64, generator=g)
            opt.step()
        return p.detach()

    assert torch.equal(complex_run(lambda p: AdamW(p)), complex_run(lambda p: torch.optim.AdamW(p, foreach=True)))


def test_adamw_first_step_by_hand() -> None:
    # One step from zero moments: m = (1-b1) g, v = (1-b2) g^2, so the update is lr * g / (|g| + eps') ~ lr * sign(g).
    lr, wd, eps = 0.1, 0.5, 1e-8
    p = Parameter(torch.tensor([1.0, -2.0, 3.0]))
    p.grad = torch.tensor([0.5, -0.25, 0.0])
    AdamW([p], lr=lr, weight_decay=wd, eps=eps).step()
    decayed = torch.tensor([1.0, -2.0, 3.0]) * (1 - lr * wd)
    g = torch.tensor([0.5, -0.25, 0.0])
    expected = decayed - lr * g / (g.abs() + eps)
    torch.testing.assert_close(p.detach(), expected)


def test_adamw_state_layout() -> None:
    params, opt = _trajectory(lambda p: AdamW(p, amsgrad=True), steps=3, none_every=2)
    for p in params:
        state = opt.state[p]
        assert list(state) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        assert state["step"].dtype == torch.float32 and state["step"].shape == () and state["step"].device.type == "cpu"
        assert state["exp_avg"].shape == p.shape and state["exp_avg"].dtype == p.dtype
    # Steps count only the calls where the parameter had a gradient.
    ref_params, ref_opt = _trajectory(lambda p: torch.optim.AdamW(p, amsgrad=True), steps=3, none_every=2)
    assert [opt.state[p]["step"].item() for p in params] == [ref_opt.state[p]["step"].item() for p in ref_params]
    assert [opt.state[p]["step"].item() for p in params] == [1.0, 2.0, 1.0, 2.0]
    plain = AdamW(_params())
    assert len(plain.state) == 0
    plain.step()  # no gradients: nothing happens
    assert len(plain.state) == 0


def test_adamw_step_is_not_recorded_by_autograd() -> None:
    p = Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    AdamW([p]).step()
    assert p.is_leaf and p.grad_fn is None and p.requires_grad


def test_adamw_closure() -> None:
    p = Parameter(torch.tensor([2.0]))
    opt = AdamW([p], lr=0.1)

    def closure() -> float:
        opt.zero_grad()
        loss = (p**2).sum()
        loss.backward()
        return loss.item()

    assert opt.step(closure) == 4.0
    assert p.item() < 2.0
    assert opt.step() is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": -1e-3},
        {"lr": float("nan")},
        {"eps": -1.0},
        {"betas": (1.0, 0.999)},
        {"betas": (-0.1, 0.999)},
        {"betas": (0.9, 1.0)},
        {"weight_decay": -0.1},
        {"betas": (0, 0.999)},
    ],
)
def test_adamw_argument_errors_match_torch(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError) as ref:
        torch.optim.AdamW(_params(), **kwargs)
    with pytest.raises(ValueError) as ours:
        AdamW(_params(), **kwargs)
    assert str(ours.value) == str(ref.value)


def test_adamw_unsupported_settings_raise_not_implemented() -> None:
    for kwargs in ({"capturable": True}, {"differentiable": True}, {"fused": True}, {"lr": torch.tensor(0.01)}):
        with pytest.raises(NotImplementedError):
            AdamW(_params(), **kwargs)
    with pytest.raises(NotImplementedError):
        AdamW(_params(), betas=(torch.tensor(0.9), torch.tensor(0.99)))  # type: ignore[arg-type]
    AdamW(_params(), fused=False, foreach=False, capturable=False, differentiable=False)
    emb = Parameter(torch.randn(5, 2))
    emb.grad = torch.sparse_coo_tensor(torch.tensor([[0, 3]]), torch.ones(2, 2), (5, 2), check_invariants=True)
    with pytest.raises(NotImplementedError, match="sparse"):
        AdamW([emb]).step()


# --------------------------------------------------------------------------- state_dict


def test_adamw_state_dict_format_matches_torch() -> None:
    kwargs: dict[str, Any] = {"amsgrad": True}
    _, ours = _trajectory(lambda p: AdamW(p, **kwargs), layout="groups", steps=5, none_every=3)
    _, ref = _trajectory(lambda p: torch.optim.AdamW(p, **kwargs), layout="groups", steps=5, none_every=3)
    our_sd, ref_sd = ours.state_dict(), ref.state_dict()
    assert list(our_sd) == list(ref_sd) == ["state", "param_groups"]
    assert our_sd["param_groups"] == ref_sd["param_groups"]
    assert [list(g) for g in our_sd["param_groups"]] == [list(g) for g in ref_sd["param_groups"]]
    assert list(our_sd["state"]) == list(ref_sd["state"])
    for key in ref_sd["state"]:
        _state_equal(our_sd["state"][key], ref_sd["state"][key])
    assert ours.defaults == ref.defaults
    assert repr(ours) == repr(ref)


def test_state_dict_with_param_names_matches_torch() -> None:
    _, ours = _trajectory(lambda p: AdamW(p), layout="named", steps=2)
    _, ref = _trajectory(lambda p: torch.optim.AdamW(p), layout="named", steps=2)
    assert ours.state_dict()["param_groups"] == ref.state_dict()["param_groups"]
    assert ours.state_dict()["param_groups"][0]["param_names"] == ["p0", "p1", "p2", "p3"]


@pytest.mark.parametrize("direction", ["ours_to_torch", "torch_to_ours"])
def test_state_dict_interchange_continues_the_same_trajectory(direction: str) -> None:
    kwargs: dict[str, Any] = {"amsgrad": True, "weight_decay": 0.1}
    # Reference: one optimizer running 20 steps; the other side takes over after 10.
    full, _ = _trajectory(lambda p: torch.optim.AdamW(p, **kwargs, foreach=True), layout="groups", steps=20)

    # torch's side runs its foreach implementation, the one ours reproduces bit for bit.
    def torch_foreach(groups: Any, **kw: Any) -> torch.optim.AdamW:
        return torch.optim.AdamW(groups, **kw, foreach=True)

    first_cls: Any = AdamW if direction == "ours_to_torch" else torch_foreach
    second_cls: Any = torch_foreach if direction == "ours_to_torch" else AdamW
    params = _params()
    first = first_cls(_groups(params, "groups"), **kwargs)
    g = torch.Generator().manual_seed(1)
    for step in range(10):
        _set_grads(params, g, step, None)
        first.step()
    saved = copy.deepcopy(first.state_dict())
    resumed = [Parameter(p.detach().clone()) for p in params]
    second = second_cls(_groups(resumed, "groups"), **kwargs)
    if second_cls is torch_foreach:
        # The loaded groups replace the constructor's settings, "foreach" included.
        saved["param_groups"] = [{**grp, "foreach": True} for grp in saved["param_groups"]]
    second.load_state_dict(saved)
    for step in range(10, 20):
        _set_grads(resumed, g, step, None)
        second.step()
    for a, b in zip(resumed, full, strict=True):
        assert torch.equal(a, b)


def test_load_state_dict_casts_state_but_not_step() -> None:
    _, src = _trajectory(lambda p: AdamW(p), steps=3)
    params64 = [Parameter(p.detach().double()) for p in _params()]
    dst = AdamW(params64)
    dst.load_state_dict(src.state_dict())
    for p in params64:
        assert dst.state[p]["exp_avg"].dtype == torch.float64
        assert dst.state[p]["step"].dtype == torch.float32
    ref = torch.optim.AdamW([torch.nn.Parameter(p.detach().clone()) for p in params64])
    ref.load_state_dict(src.state_dict())
    for p_ours, p_ref in zip(params64, ref.param_groups[0]["params"], strict=True):
        _state_equal(dst.state[p_ours], ref.state[p_ref])


def test_load_state_dict_restores_hyper_parameters_and_keeps_params() -> None:
    params = _params()
    opt = AdamW(params, lr=0.5)
    _, src = _trajectory(lambda p: AdamW(p, lr=0.01, betas=(0.8, 0.9)), steps=2)
    sd = src.state_dict()
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.01 and opt.param_groups[0]["betas"] == (0.8, 0.9)
    assert opt.param_groups[0]["params"] == params
    # The saved groups were copied, not aliased.
    opt.param_groups[0]["lr"] = 1.0
    assert sd["param_groups"][0]["lr"] == 0.01


@pytest.mark.parametrize("mutate", ["fewer_groups", "group_size"])
def test_load_state_dict_size_errors_match_torch(mutate: str) -> None:
    def src(opt_cls: Any) -> dict[str, Any]:
        _, o = _trajectory(lambda p: opt_cls(p), layout="groups", steps=1)
        sd = o.state_dict()
        if mutate == "fewer_groups":
            sd["param_groups"] = sd["param_groups"][:1]
        else:
            sd["param_groups"][1]["params"] = sd["param_groups"][1]["params"][:1]
        return sd

    with pytest.raises(ValueError) as ref:
        torch.optim.AdamW(_groups(_params(), "groups")).load_state_dict(src(torch.optim.AdamW))
    with pytest.raises(ValueError) as ours:
        AdamW(_groups(_params(), "groups")).load_state_dict(src(AdamW))
    assert str(ours.value) == str(ref.value)


# --------------------------------------------------------------------------- Optimizer base


def _same_error(make_ref: Callable[[], Any], make_ours: Callable[[], Any]) -> None:
    with pytest.raises(Exception) as ref:
        make_ref()
    with pytest.raises(type(ref.value)) as ours:
        make_ours()
    assert str(ours.value) == str(ref.value)


def test_optimizer_constructor_errors_match_torch() -> None:
    p: Any = Parameter(torch.ones(2))
    _same_error(lambda: torch.optim.AdamW([]), lambda: AdamW([]))
    _same_error(lambda: torch.optim.AdamW(p), lambda: AdamW(p))  # type: ignore[arg-type]
    _same_error(lambda: torch.optim.AdamW([{"params": {p}}]), lambda: AdamW([{"params": {p}}]))
    _same_error(lambda: torch.optim.AdamW([p, 3]), lambda: AdamW([p, 3]))
    non_leaf = p * 2
    _same_error(lambda: torch.optim.AdamW([non_leaf]), lambda: AdamW([non_leaf]))
    _same_error(
        lambda: torch.optim.AdamW([{"params": [p]}, {"params": [p]}]),
        lambda: AdamW([{"params": [p]}, {"params": [p]}]),
    )
    half_named: list[Any] = [("a", p), Parameter(torch.ones(1))]
    _same_error(lambda: torch.optim.AdamW(half_named), lambda: AdamW(half_named))
    q: Any = Parameter(torch.ones(1))
    _same_error(
        lambda: torch.optim.AdamW([{"params": [("a", p)]}, {"params": [q]}]),
        lambda: AdamW([{"params": [("a", p)]}, {"params": [q]}]),
    )
    _same_error(
        lambda: torch.optim.AdamW([p]).add_param_group([q]),  # type: ignore[arg-type]
        lambda: AdamW([p]).add_param_group([q]),  # type: ignore[arg-type]
    )
    with pytest.warns(UserWarning, match="duplicate parameters"):
        AdamW([p, p])


def test_optimizer_accepts_generators_dicts_and_single_tensor_groups() -> None:
    params = _params()
    opt = AdamW(iter(params), lr=0.01)
    assert opt.param_groups[0]["params"] == params
    opt2 = AdamW([{"params": params[0]}, {"params": iter(params[1:]), "lr": 0.5}])
    assert opt2.param_groups[0]["params"] == [params[0]] and opt2.param_groups[1]["lr"] == 0.5
    assert opt2.param_groups[0]["lr"] == 1e-3
    extra = Parameter(torch.ones(3))
    opt2.add_param_group({"params": [extra], "weight_decay": 0.0})
    assert opt2.param_groups[2]["weight_decay"] == 0.0 and opt2.param_groups[2]["amsgrad"] is False
    assert isinstance(opt2, Optimizer)


def test_zero_grad() -> None:
    params = _params()
    opt = AdamW(params)
    for p in params:
        p.grad = torch.ones_like(p)
    grads = [p.grad for p in params]
    opt.zero_grad(set_to_none=False)
    for p, g in zip(params, grads, strict=True):
        assert g is not None and p.grad is g and not g.any()
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_base_optimizer_step_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        Optimizer([Parameter(torch.ones(1))], {"lr": 0.1}).step()
    from impl.optim.optimizer import required

    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        Optimizer([Parameter(torch.ones(1))], {"lr": required})


def test_optimizer_deepcopy_keeps_state_attached_to_its_params() -> None:
    params, opt = _trajectory(lambda p: AdamW(p), steps=2)
    clone = copy.deepcopy(opt)
    cloned_params = clone.param_groups[0]["params"]
    assert all(c is not p and torch.equal(c, p) for c, p in zip(cloned_params, params, strict=True))
    for c, p in zip(cloned_params, params, strict=True):
        _state_equal(clone.state[c], opt.state[p])
        assert clone.state[c]["exp_avg"].data_ptr() != opt.state[p]["exp_avg"].data_ptr()


# --------------------------------------------------------------------------- clip_grad_norm_


def _grad_pair(seed: int = 0, dtypes: tuple[torch.dtype, ...] = (torch.float32,)) -> tuple[list[Any], list[Any]]:
    g = torch.Generator().manual_seed(seed)
    ours, ref = [], []
    for i, shape in enumerate([(4, 3), (5,), (2, 2, 2), (1,)]):
        dtype = dtypes[i % len(dtypes)]
        data = torch.randn(shape, generator=g, dtype=dtype)
        grad = torch.randn(shape, generator=g, dtype=dtype) * (i + 1)
        a, b = Parameter(data.clone()), torch.nn.Parameter(data.clone())
        a.grad, b.grad = grad.clone(), grad.clone()
        ours.append(a)
        ref.append(b)
    return ours, ref


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("foreach", [None, False])
def test_clip_grad_norm_matches_torch(norm_type: Any, max_norm: float, foreach: bool | None) -> None:
    ours, ref = _grad_pair(dtypes=(torch.float32, torch.float64))
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type, foreach=foreach)
    expected = tutils.clip_grad_norm_(ref, max_norm, norm_type=norm_type, foreach=foreach)
    assert total.dtype == expected.dtype and torch.equal(total, expected)
    for a, b in zip(ours, ref, strict=True):
        assert torch.equal(a.grad, b.grad)


def test_clip_grad_norm_semantics() -> None:
    ours, _ = _grad_pair()
    before = [p.grad.clone() for p in ours]
    total = clip_grad_norm_(ours, max_norm=1e6)
    manual = torch.linalg.vector_norm(torch.cat([g.flatten() for g in before]))
    torch.testing.assert_close(total, manual)
    # Below the limit the gradients are unchanged (the factor is clamped to 1).
    for p, g in zip(ours, before, strict=True):
        assert torch.equal(p.grad, g)
    total = clip_grad_norm_(ours, max_norm=1.0)
    new_norm = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in ours]))
    torch.testing.assert_close(new_norm, torch.tensor(1.0), rtol=1e-5, atol=1e-5)
    inf_norm = clip_grad_norm_(ours, max_norm=10.0, norm_type=math.inf)
    assert inf_norm == max(p.grad.abs().max() for p in ours)


def test_clip_grad_norm_edge_cases() -> None:
    single = Parameter(torch.ones(4))
    single.grad = torch.full((4,), 3.0)
    total = clip_grad_norm_(single, max_norm=1.0)
    assert total.item() == pytest.approx(6.0)
    torch.testing.assert_close(single.grad, torch.full((4,), 3.0 / (6.0 + 1e-6)))
    skipped = Parameter(torch.ones(2))
    assert torch.equal(clip_grad_norm_([skipped], 1.0), torch.tensor(0.0))
    assert torch.equal(clip_grad_norm_([], 1.0), torch.tensor(0.0))
    with pytest.warns(UserWarning, match="empty generator"):
        clip_grad_norm_((p for p in list[torch.Tensor]()), 1.0)
    mixed = [Parameter(torch.ones(2)), skipped]
    mixed[0].grad = torch.full((2,), 4.0)
    torch.testing.assert_close(clip_grad_norm_(iter(mixed), 100.0), torch.tensor(math.sqrt(32.0)))
    assert skipped.grad is None


def test_clip_grad_norm_nonfinite() -> None:
    p = Parameter(torch.ones(2))
    p.grad = torch.tensor([1.0, math.inf])
    q = torch.nn.Parameter(torch.ones(2))
    q.grad = torch.tensor([1.0, math.inf])
    with pytest.raises(RuntimeError) as ours:
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as ref:
        tutils.clip_grad_norm_([q], 1.0, error_if_nonfinite=True)
    assert str(ours.value) == str(ref.value)
    assert torch.equal(clip_grad_norm_([p], 1.0), tutils.clip_grad_norm_([q], 1.0))
    torch.testing.assert_close(p.grad, q.grad, equal_nan=True)


def test_clip_grad_norm_records_no_graph() -> None:
    p = Parameter(torch.ones(3))
    p.grad = torch.full((3,), 2.0, requires_grad=True)
    total = clip_grad_norm_([p], 1.0)
    assert total.grad_fn is None and p.grad.grad_fn is None


# --------------------------------------------------------------------------- schedulers


def _sched_pair(make_ours: Callable[[Any], Any], make_ref: Callable[[Any], Any], lrs: tuple[float, ...] = (0.1, 0.02)):
    ours_opt = AdamW([{"params": [Parameter(torch.ones(1))], "lr": lr} for lr in lrs])
    ref_opt = torch.optim.AdamW([{"params": [torch.nn.Parameter(torch.ones(1))], "lr": lr} for lr in lrs])
    return make_ours(ours_opt), make_ref(ref_opt), ours_opt, ref_opt


def _run_lrs(sched: Any, opt: Any, steps: int) -> list[list[float]]:
    out = [[g["lr"] for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append([g["lr"] for g in opt.param_groups])
        assert sched.get_last_lr() == out[-1]
    return out


def test_lambda_lr_matches_torch() -> None:
    fns = [lambda e: 0.95**e, lambda e: 1.0 / (e + 1)]
    ours, ref, o_opt, r_opt = _sched_pair(
        lambda o: lr_scheduler.LambdaLR(o, fns), lambda o: torch.optim.lr_scheduler.LambdaLR(o, fns)
    )
    assert _run_lrs(ours, o_opt, 30) == _run_lrs(ref, r_opt, 30)
    assert [g["initial_lr"] for g in o_opt.param_groups] == [0.1, 0.02]
    single, ref_single, s_opt, rs_opt = _sched_pair(
        lambda o: lr_scheduler.LambdaLR(o, lambda e: e % 3),
        lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: e % 3),
    )
    assert _run_lrs(single, s_opt, 7) == _run_lrs(ref_single, rs_opt, 7)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(o_opt, [fns[0]])


@pytest.mark.parametrize("t_max, eta_min, steps", [(10, 0.0, 35), (7, 1e-3, 30), (1, 0.0, 5)])
def test_cosine_annealing_matches_torch(t_max: int, eta_min: float, steps: int) -> None:
    ours, ref, o_opt, r_opt = _sched_pair(
        lambda o: lr_scheduler.CosineAnnealingLR(o, t_max, eta_min),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, t_max, eta_min),
    )
    assert _run_lrs(ours, o_opt, steps) == _run_lrs(ref, r_opt, steps)


def test_scheduler_state_dict_resume_matches_torch() -> None:
    ours, ref, o_opt, r_opt = _sched_pair(
        lambda o: lr_scheduler.CosineAnnealingLR(o, 20, 1e-4),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 20, 1e-4),
    )
    _run_lrs(ours, o_opt, 8)
    _run_lrs(ref, r_opt, 8)
    sd = ours.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 8 and sd["base_lrs"] == [0.1, 0.02]
    # A fresh optimizer/scheduler pair restored from state carries on identically.
    resumed_opt = AdamW([{"params": [Parameter(torch.ones(1))], "lr": lr} for lr in (0.1, 0.02)])
    resumed_opt.load_state_dict(o_opt.state_dict())
    resumed = lr_scheduler.CosineAnnealingLR(resumed_opt, 20, 1e-4)
    resumed.load_state_dict(sd)
    assert _run_lrs(resumed, resumed_opt, 10)[1:] == _run_lrs(ref, r_opt, 10)[1:]


def test_scheduler_resume_with_last_epoch() -> None:
    opt = AdamW([Parameter(torch.ones(1))], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.CosineAnnealingLR(opt, 10, last_epoch=4)
    opt.param_groups[0]["initial_lr"] = 0.1
    ref_opt = torch.optim.AdamW([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    ref_opt.param_groups[0]["initial_lr"] = 0.1
    ours = lr_scheduler.CosineAnnealingLR(opt, 10, last_epoch=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.optim.lr_scheduler.CosineAnnealingLR(ref_opt, 10, last_epoch=4)
    assert ours.last_epoch == ref.last_epoch == 5
    assert ours.get_last_lr() == ref.get_last_lr()
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.LambdaLR([], lambda e: 1.0)  # type: ignore[arg-type]


def _warmup_cosine_formula(base: float, min_lr: float, w: int, d: int, t: int) -> float:
    if t < w:
        return base * t / w
    if t > d:
        return min_lr
    ratio = (t - w) / (d - w) if d > w else 0.0
    return min_lr + 0.5 * (1 + math.cos(math.pi * ratio)) * (base - min_lr)


@pytest.mark.parametrize("warmup, decay", [(10, 50), (0, 20), (5, 5)])
def test_warmup_cosine_schedule(warmup: int, decay: int) -> None:
    opt = AdamW([{"params": [Parameter(torch.ones(1))], "lr": 1.0}, {"params": [Parameter(torch.ones(1))], "lr": 0.5}])
    sched = lr_scheduler.WarmupCosine(opt, warmup_iters=warmup, decay_iters=decay, min_lr=[0.1, 0.05])
    lrs = _run_lrs(sched, opt, decay + 10)
    for t, (lr0, lr1) in enumerate(lrs):
        if warmup == decay and t > warmup:
            assert (lr0, lr1) == (0.1, 0.05)
            continue
        assert lr0 == pytest.approx(_warmup_cosine_formula(1.0, 0.1, warmup, decay, t), abs=1e-15)
        assert lr1 == pytest.approx(_warmup_cosine_formula(0.5, 0.05, warmup, decay, t), abs=1e-15)
    first = [lr for lr, _ in lrs]
    if warmup:
        assert first[0] == 0.0 and first[warmup] == 1.0
        assert all(a < b for a, b in itertools.pairwise(first[: warmup + 1]))
    assert all(a >= b for a, b in itertools.pairwise(first[warmup : decay + 2]))
    assert first[decay + 1 :] == [0.1] * (len(first) - decay - 1)
    assert first[decay] == pytest.approx(0.1 if decay > warmup else 1.0)


def test_warmup_cosine_resume_and_validation() -> None:
    opt = AdamW([Parameter(torch.ones(1))], lr=6e-4)
    sched = lr_scheduler.WarmupCosine(opt, 100, 1000, min_lr=6e-5)
    for _ in range(250):
        sched.step()
    opt2 = AdamW([Parameter(torch.ones(1))], lr=6e-4)
    sched2 = lr_scheduler.WarmupCosine(opt2, 100, 1000, min_lr=6e-5)
    sched2.load_state_dict(sched.state_dict())
    opt2.load_state_dict(opt.state_dict())
    for _ in range(10):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"warmup_iters": -1, "decay_iters": 10}, "warmup_iters must be >= 0"),
        ({"warmup_iters": 10, "decay_iters": 5}, "decay_iters must be >= warmup_iters"),
        ({"warmup_iters": 1, "decay_iters": 5, "min_lr": -1.0}, "min_lr must be >= 0"),
        ({"warmup_iters": 1, "decay_iters": 5, "min_lr": [0.1, 0.2]}, "one value per param group"),
    ]
    for kwargs, msg in cases:
        with pytest.raises(ValueError, match=msg):
            lr_scheduler.WarmupCosine(opt, **kwargs)


def test_scheduler_drives_a_torch_optimizer_too() -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=1.0)
    sched = lr_scheduler.WarmupCosine(opt, warmup_iters=4, decay_iters=8)
    assert opt.param_groups[0]["lr"] == 0.0
    for _ in range(4):
        sched.step()
    assert opt.param_groups[0]["lr"] == 1.0


def test_warmup_then_cosine_with_sequential_lr_matches_torch() -> None:
    def make(ns: Any) -> Callable[[Any], Any]:
        def build(opt: Any) -> Any:
            warm = ns.LinearLR(opt, start_factor=1e-3, total_iters=10)
            decay = ns.CosineAnnealingLR(opt, T_max=40, eta_min=1e-4)
            return ns.SequentialLR(opt, [warm, decay], milestones=[10])

        return build

    ours, ref, o_opt, r_opt = _sched_pair(make(lr_scheduler), make(torch.optim.lr_scheduler))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's schedules warn about call order inside SequentialLR
        assert _run_lrs(ours, o_opt, 60) == _run_lrs(ref, r_opt, 60)
    assert ours.last_epoch == ref.last_epoch == 60


def test_nested_sequential_lr_matches_torch_and_resumes() -> None:
    def make(ns: Any) -> Callable[[Any], Any]:
        def build(opt: Any) -> Any:
            inner = ns.SequentialLR(
                opt, [ns.LinearLR(opt, 0.5, total_iters=3), ns.LambdaLR(opt, lambda e: 0.9**e)], milestones=[3]
            )
            return ns.SequentialLR(opt, [inner, ns.CosineAnnealingLR(opt, T_max=5)], milestones=[8])

        return build

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, ref, o_opt, r_opt = _sched_pair(make(lr_scheduler), make(torch.optim.lr_scheduler))
        assert _run_lrs(ours, o_opt, 6) == _run_lrs(ref, r_opt, 6)
        state = ours.state_dict()
        inner_epochs = [s["last_epoch"] for s in state["_schedulers"][0]["_schedulers"]]
        assert inner_epochs == [s["last_epoch"] for s in ref.state_dict()["_schedulers"][0]["_schedulers"]]
        resumed_opt = AdamW([{"params": [Parameter(torch.ones(1))], "lr": lr} for lr in (0.1, 0.02)])
        resumed = make(lr_scheduler)(resumed_opt)
        resumed_opt.load_state_dict(o_opt.state_dict())
        resumed.load_state_dict(state)
        assert "_schedulers" in state  # loading leaves the saved dict whole
        assert _run_lrs(resumed, resumed_opt, 10)[1:] == _run_lrs(ref, r_opt, 10)[1:]


def test_linear_lr_is_chainable_like_torch() -> None:
    ours, ref, o_opt, r_opt = _sched_pair(
        lambda o: lr_scheduler.LinearLR(o, start_factor=0.2, end_factor=0.6, total_iters=4),
        lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.2, end_factor=0.6, total_iters=4),
    )
    for opt in (o_opt, r_opt):
        opt.param_groups[1]["lr"] *= 10  # by hand: carried on, not overwritten
    assert _run_lrs(ours, o_opt, 8) == _run_lrs(ref, r_opt, 8)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda o: lr_scheduler.LinearLR(o, start_factor=0.0), r"start_factor must be in \(0, 1\], got 0.0"),
        (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), r"end_factor must be in \[0, 1\], got 1.5"),
        (lambda o: lr_scheduler.SequentialLR(o, [], []), "at least one scheduler"),
        (
            lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(o)], [3]),
            "one milestone fewer than schedulers, got 1 schedulers and 1 milestones",
        ),
        (
            lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(AdamW([Parameter(torch.ones(1))]))], []),
            "the LinearLR at index 0 wraps another one",
        ),
    ],
    ids=["start-factor", "end-factor", "no-schedulers", "milestones", "other-optimizer"],
)
def test_schedule_errors_name_the_bad_argument(build: Callable[[Any], Any], message: str) -> None:
    opt = AdamW([Parameter(torch.ones(1))], lr=0.1)
    with pytest.raises(ValueError, match=message):
        build(opt)
    with pytest.raises(TypeError, match="index 0 has no optimizer"):
        lr_scheduler.SequentialLR(opt, [object()], [])
