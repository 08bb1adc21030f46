"""The GPT model: shapes, causality, weight tying, initialisation, generation, and the component namespace."""

from __future__ import annotations

import copy
import math
import re

import pytest
import torch

import impl.nn
from impl.gpt import COMPONENTS, GPT, Components, GPTConfig, GPTConfigError

TINY = GPTConfig(block_size=16, vocab_size=11, n_layer=2, n_head=2, n_embd=16, dropout=0.0, bias=True)


@pytest.fixture(params=["torch", "impl"])
def nn(request: pytest.FixtureRequest) -> Components:
    return Components(request.param)


def tiny(nn: Components, **changes: object) -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(**{**TINY.__dict__, **changes}), nn)


def test_module_base_comes_from_components() -> None:
    assert isinstance(tiny(Components("torch")), torch.nn.Module)
    model = tiny(Components("impl"))
    assert isinstance(model, impl.nn.Module)
    assert not isinstance(model, torch.nn.Module)
    assert isinstance(model, GPT)


def test_forward_shapes_and_loss(nn: Components) -> None:
    model = tiny(nn)
    idx = torch.randint(0, 11, (3, 7))
    logits, loss = model(idx)
    assert logits.shape == (3, 7, 11)
    assert loss is None
    logits, loss = model(idx, idx)
    assert loss is not None and loss.shape == ()
    expected = torch.log_softmax(logits, -1).gather(-1, idx[..., None]).mean().neg()
    torch.testing.assert_close(loss, expected)


def test_rejects_sequence_longer_than_block_size(nn: Components) -> None:
    with pytest.raises(ValueError, match="sequence length 17 exceeds block_size 16"):
        tiny(nn)(torch.zeros(1, 17, dtype=torch.long))


def test_causal_future_tokens_do_not_change_past_logits(nn: Components) -> None:
    model = tiny(nn)
    a = torch.randint(0, 11, (2, 12))
    b = a.clone()
    b[:, 8:] = (b[:, 8:] + 1) % 11
    la, lb = model(a)[0], model(b)[0]
    torch.testing.assert_close(la[:, :8], lb[:, :8])
    assert not torch.allclose(la[:, 8:], lb[:, 8:])


def test_output_head_is_tied_to_token_embedding(nn: Components) -> None:
    model = tiny(nn)
    assert model.lm_head.weight is model.wte.weight
    with torch.no_grad():
        model.wte.weight[3].fill_(0.5)
    assert model.lm_head.weight[3].eq(0.5).all()
    unique = {id(p): p for p in model.parameters()}
    assert model.num_params() == sum(p.numel() for p in unique.values())
    C, V, T, L = 16, 11, 16, 2
    per_block = 2 * 2 * C + (3 * C * C + 3 * C) + (C * C + C) + (4 * C * C + 4 * C) + (4 * C * C + C)
    assert model.num_params() == V * C + T * C + L * per_block + 2 * C


def test_bias_switch(nn: Components) -> None:
    names = {n for n, _ in tiny(nn, bias=False).named_parameters()}
    assert not any(n.endswith("bias") for n in names)
    with_bias = {n for n, _ in tiny(nn, bias=True).named_parameters()}
    assert {"h.0.attn.c_attn.bias", "h.0.ln_1.bias", "ln_f.bias", "h.1.mlp.c_proj.bias"} <= with_bias


def test_gpt2_initialisation(nn: Components) -> None:
    torch.manual_seed(0)
    config = GPTConfig(block_size=64, vocab_size=256, n_layer=8, n_head=4, n_embd=128, bias=True)
    model = GPT(config, nn)
    params = dict(model.named_parameters())
    proj = torch.cat([params[f"h.{i}.{m}.c_proj.weight"].flatten() for i in range(8) for m in ("attn", "mlp")])
    other = torch.cat([params["wte.weight"].flatten(), params["h.0.mlp.c_fc.weight"].flatten()])
    # Sample std of >= 100k normal draws is within 1% of the true std with overwhelming probability.
    assert proj.std().item() == pytest.approx(0.02 / math.sqrt(2 * 8), rel=0.01)
    assert other.std().item() == pytest.approx(0.02, rel=0.01)
    assert abs(other.mean().item()) < 1e-3
    assert all(params[n].eq(0).all() for n in params if n.endswith("bias"))
    assert params["h.3.ln_2.weight"].eq(1).all()


def test_optim_groups_decay_matrices_only(nn: Components) -> None:
    model = tiny(nn)
    decay, no_decay = model.optim_groups(0.1)
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"]) and all(p.dim() == 1 for p in no_decay["params"])
    ids = [id(p) for p in decay["params"] + no_decay["params"]]
    assert len(ids) == len(set(ids)) == len({id(p) for p in model.parameters()})


def test_dropout_active_only_in_training(nn: Components) -> None:
    model = tiny(nn, dropout=0.5)
    idx = torch.randint(0, 11, (2, 8))
    assert not torch.equal(model(idx)[0], model(idx)[0])
    model.eval()
    torch.testing.assert_close(model(idx)[0], model(idx)[0], rtol=0, atol=0)


def test_generate_greedy_is_argmax_continuation(nn: Components) -> None:
    model = tiny(nn).eval()
    idx = torch.tensor([[1, 2, 3]])
    out = model.generate(idx, 5, temperature=0)
    assert out.shape == (1, 8) and torch.equal(out[:, :3], idx)
    seq = idx
    for _ in range(5):
        seq = torch.cat([seq, model(seq)[0][:, -1].argmax(-1, keepdim=True)], 1)
    assert torch.equal(out, seq)
    assert torch.equal(model.generate(idx, 5, temperature=1.0, top_k=1), out)


def test_generate_is_seeded_and_crops_context(nn: Components) -> None:
    model = tiny(nn).eval()
    idx = torch.randint(0, 11, (2, 4))

    def run(seed: int) -> torch.Tensor:
        return model.generate(idx, 20, temperature=1.0, top_k=5, generator=torch.Generator().manual_seed(seed))

    a = run(1)
    assert a.shape == (2, 24)  # longer than block_size 16: the context is cropped
    assert torch.equal(a, run(1))
    assert not torch.equal(a, run(2))


def test_generate_top_k_restricts_choices() -> None:
    model = tiny(Components("torch")).eval()
    idx = torch.tensor([[4, 5]])
    allowed = set(torch.topk(model(idx)[0][0, -1], 2).indices.tolist())
    gen = torch.Generator().manual_seed(0)
    picks = {model.generate(idx, 1, temperature=2.0, top_k=2, generator=gen)[0, -1].item() for _ in range(50)}
    assert picks <= allowed


def test_generate_rejects_bad_arguments() -> None:
    model = tiny(Components("torch")).eval()
    for temperature in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match=rf"^temperature must be finite and >= 0, got {temperature}$"):
            model.generate(torch.zeros(1, 1, dtype=torch.long), 1, temperature=temperature)
        with pytest.raises(ValueError, match="temperature"):  # at the call, before any step is asked for
            model.stream(torch.zeros(1, 1, dtype=torch.long), 1, temperature=temperature)
    with pytest.raises(ValueError, match="top_k"):
        model.generate(torch.zeros(1, 1, dtype=torch.long), 1, top_k=0)


def test_stream_yields_generate_tokens_one_step_at_a_time_without_a_graph(nn: Components) -> None:
    model = tiny(nn).eval()
    idx = torch.randint(0, 11, (2, 3))
    out = model.generate(idx, 20, temperature=1.0, top_k=5, generator=torch.Generator().manual_seed(3))
    steps = model.stream(idx, 20, temperature=1.0, top_k=5, generator=torch.Generator().manual_seed(3))
    got = []
    for step in steps:
        assert torch.is_grad_enabled()  # the caller's mode between steps; no_grad only inside them
        assert step.shape == (2, 1) and not step.requires_grad
        got.append(step)
    assert torch.equal(torch.cat([idx, *got], dim=1), out)
    assert model.lm_head.weight.grad is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"n_head": 3}, "n_embd", r"^GPTConfig\.n_embd \(16\) must be divisible by n_head \(3\)$"),
        ({"n_layer": 0}, "n_layer", r"^GPTConfig\.n_layer must be a positive int, got 0$"),
        ({"dropout": 1.0}, "dropout", r"^GPTConfig\.dropout must be in \[0, 1\), got 1\.0$"),
        ({"gelu_approximate": "fast"}, "gelu_approximate", r"^GPTConfig\.gelu_approximate must be 'none' or 'tanh'"),
        ({"pos": "rope", "n_head": 16}, None, r"^GPTConfig: rotary positions need an even head size, got 1$"),
        ({"mlp": "geglu"}, "mlp", r"^GPTConfig\.mlp must be 'gelu' or 'swiglu', got 'geglu'$"),
    ],
)
def test_config_validation(change: dict[str, object], field: str | None, message: str) -> None:
    with pytest.raises(GPTConfigError, match=message) as caught:
        GPTConfig(**{**TINY.__dict__, **change})
    assert isinstance(caught.value, ValueError)  # callers that catch ValueError keep working
    assert caught.value.field == field
    assert caught.value.named("model").startswith("model." if field else "model: ")


def test_deepcopy_keeps_class_and_weights(nn: Components) -> None:
    model = tiny(nn)
    clone = copy.deepcopy(model)
    assert type(clone) is type(model)
    idx = torch.randint(0, 11, (1, 5))
    torch.testing.assert_close(clone(idx)[0], model(idx)[0])


def test_components_resolve_defaults_and_overrides() -> None:
    nn = Components("impl", {"LayerNorm": "torch", "nn.functional.softmax": "torch"})
    assert nn.LayerNorm is torch.nn.LayerNorm
    assert nn.softmax is torch.nn.functional.softmax
    assert nn.Linear is impl.nn.Linear
    assert nn.source("LayerNorm") == "torch" and nn.source("softmax") == "torch" and nn.source("Linear") == "impl"
    table = nn.table()
    for name, path in COMPONENTS.items():
        assert name in table and path in table
    assert re.search(r"^LayerNorm +nn\.LayerNorm +torch \(override\)$", table, re.MULTILINE)
    assert re.search(r"^Linear +nn\.Linear +impl$", table, re.MULTILINE)


def test_components_object_path_override() -> None:
    nn = Components("torch", {"GELU": "impl.nn:GELU"})
    assert nn.GELU is impl.nn.GELU


def test_components_errors_name_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"unknown component\(s\) \['LayerNrom'\]"):
        Components("impl", {"LayerNrom": "torch"})
    with pytest.raises(AttributeError, match="no component 'Conv2d'"):
        _ = Components("torch").Conv2d
    with pytest.raises(ModuleNotFoundError):
        Components("no_such_package_xyz")


@pytest.mark.parametrize(
    ("default", "overrides"),
    [("torch", {"LayerNorm": "impl", "Linear": "impl"}), ("impl", {"Module": "torch"}), ("impl", {"Linear": "torch"})],
)
def test_mixed_implementations_register_every_parameter(default: str, overrides: dict[str, str]) -> None:
    reference = tiny(Components("torch"))
    mixed = tiny(Components(default, overrides))
    assert sorted(mixed.state_dict()) == sorted(reference.state_dict())
    assert mixed.num_params() == reference.num_params()
    mixed.load_state_dict(reference.state_dict())
    idx = torch.randint(0, 11, (2, 9))
    _, loss = mixed(idx, idx)
    assert loss is not None
    loss.backward()
    assert all(p.grad is not None for p in mixed.parameters())
    torch.testing.assert_close(loss, reference(idx, idx)[1])


@pytest.mark.parametrize(("n_embd", "hidden"), [(16, 48), (32, 88), (48, 128), (128, 344), (768, 2048)])
def test_swiglu_has_three_matrices_of_about_gelus_size(n_embd: int, hidden: int) -> None:
    config = GPTConfig(**{**TINY.__dict__, "n_embd": n_embd, "n_head": 4, "mlp": "swiglu"})
    assert config.mlp_hidden == hidden and hidden % 8 == 0 and 0 <= hidden - 8 * n_embd / 3 < 8
    if n_embd > 128:
        return  # the shapes above suffice; a width-768 model is slow to build
    torch.manual_seed(0)
    model = GPT(config)
    shapes = {
        n.removeprefix("h.0.mlp."): tuple(p.shape) for n, p in model.named_parameters() if n.startswith("h.0.mlp.")
    }
    assert shapes == {
        "c_fc.weight": (hidden, n_embd),
        "c_fc.bias": (hidden,),
        "c_up.weight": (hidden, n_embd),
        "c_up.bias": (hidden,),
        "c_proj.weight": (n_embd, hidden),
        "c_proj.bias": (n_embd,),
    }
    # GPT-2 init: the residual projection is scaled by 1/sqrt(2 n_layer), the gate and up projections are not.
    std = 0.02 / (2 * config.n_layer) ** 0.5
    assert abs(model.h[0].mlp.c_proj.weight.std().item() - std) < 0.2 * std
    assert abs(model.h[0].mlp.c_up.weight.std().item() - 0.02) < 0.004
    x = torch.randn(2, 5, n_embd)
    mlp = model.h[0].mlp
    expected = mlp.c_proj(torch.nn.functional.silu(mlp.c_fc(x)) * mlp.c_up(x))
    torch.testing.assert_close(mlp(x), expected)
