"""conformance.materialize: placeholders become the same tensors on every call, for both sides."""

from __future__ import annotations

import pytest
import torch

from conformance.materialize import Materialized, dtype_of, flatten_tensors, strided, tensors_needing_grad
from spec import Example, T


def _example(**kwargs: object) -> Example:
    return Example(
        init={"table": T((3, 2))},
        args=(T((4, 5), grad=True), [T((2,)), 7], T((3,), fill="index", low=0, high=9, dtype="int64")),
        kwargs={"weight": T((5,), fill="uniform", low=-1.0, high=1.0, grad=True), "name": "w"},
        **kwargs,  # type: ignore[arg-type]
    )


def _all(mat: Materialized) -> list[torch.Tensor]:
    init, args, kwargs = mat.copy()
    return flatten_tensors(list(init.values())) + flatten_tensors(args) + flatten_tensors(list(kwargs.values()))


def test_same_seed_gives_the_same_tensors() -> None:
    first, second = _all(Materialized(_example(seed=5))), _all(Materialized(_example(seed=5)))
    assert len(first) == len(second) == 5
    for a, b in zip(first, second, strict=True):
        assert torch.equal(a, b)


def test_another_seed_gives_other_values() -> None:
    first, second = _all(Materialized(_example(seed=5))), _all(Materialized(_example(seed=6)))
    assert not torch.equal(first[0], second[0])


def test_copies_are_independent_leaves() -> None:
    mat = Materialized(_example())
    _, args_a, kwargs_a = mat.copy()
    _, args_b, kwargs_b = mat.copy()
    x_a, x_b = args_a[0], args_b[0]
    assert x_a is not x_b and torch.equal(x_a, x_b)
    assert x_a.is_leaf and x_a.requires_grad and kwargs_a["weight"].requires_grad
    with torch.no_grad():
        x_a.add_(1.0)
    assert not torch.equal(x_a, x_b)
    # Only placeholders with grad=True (and floating) require a gradient.
    assert not args_a[1][0].requires_grad and not args_a[2].requires_grad
    # Plain values pass through untouched, containers keep their type.
    assert isinstance(args_a[1], list) and args_a[1][1] == 7 and kwargs_b["name"] == "w"


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 1, 3, 2), (3, 2, 1)])
def test_strided_keeps_the_values_in_a_non_contiguous_layout(shape: tuple[int, ...]) -> None:
    t = torch.randn(shape)
    s = strided(t)
    assert torch.equal(s, t) and not s.is_contiguous()
    assert s.stride(-1) > 1 or shape[-1] == 1  # the last dimension is spaced out (or transposed away)
    if shape[0] > 1 and shape[1:2] > (1,):  # the first two dimensions swapped in memory: no flat view exists
        with pytest.raises(RuntimeError, match="view size is not compatible"):
            s.view(-1)
    assert strided(torch.tensor(1.5)).item() == 1.5  # 0-dim: nothing to lay out


def test_strided_copies_are_leaves_that_take_gradients_and_leave_the_rest_alone() -> None:
    mat = Materialized(_example(seed=3))
    (_, args, _), (init_s, args_s, kwargs_s) = mat.copy(), mat.copy(strided=True)
    assert init_s["table"].is_contiguous()  # constructor arguments keep their layout
    x = args_s[0]
    assert not x.is_contiguous() and x.is_leaf and x.requires_grad and torch.equal(x, args[0])
    assert not args_s[2].is_contiguous() and torch.equal(args_s[2], args[2])  # index tensors too
    assert not kwargs_s["weight"].is_contiguous() and kwargs_s["weight"].requires_grad
    (x * 2).sum().backward()
    assert x.grad is not None and torch.equal(x.grad, torch.full_like(args[0], 2.0))


def test_float32_and_float64_see_the_same_numbers_up_to_rounding() -> None:
    x32 = Materialized(_example(dtype="float32")).copy()[1][0]
    x64 = Materialized(_example(dtype="float64")).copy()[1][0]
    assert x32.dtype == torch.float32 and x64.dtype == torch.float64
    assert torch.equal(x32, x64.to(torch.float32))


def _one(t: T, dtype: str = "float32", seed: int = 0) -> torch.Tensor:
    return Materialized(Example(args=(t,), dtype=dtype, seed=seed)).copy()[1][0]


def test_index_fill_stays_in_range_and_is_int64_unless_told() -> None:
    x = _one(T((1000,), fill="index", low=-2, high=3))
    assert x.dtype == torch.int64
    assert int(x.min()) == -2 and int(x.max()) == 2
    assert _one(T((4,), fill="index", high=3, dtype="int32")).dtype == torch.int32


def test_uniform_fill_stays_in_range() -> None:
    x = _one(T((1000,), fill="uniform", low=1.0, high=2.0))
    assert float(x.min()) >= 1.0 and float(x.max()) < 2.0


def test_normal_fill_has_the_asked_scale_and_shift() -> None:
    x = _one(T((100_000,), scale=3.0, low=5.0), dtype="float64")
    # 1e5 draws: the sample mean is within 5 standard errors (5 * 3 / 316 = 0.05) of 5.
    assert abs(float(x.mean()) - 5.0) < 0.05
    assert abs(float(x.std()) - 3.0) < 0.05


def test_probs_fill_sums_to_one_over_its_dim() -> None:
    x = _one(T((3, 4, 5), fill="probs", dim=1), dtype="float64")
    assert bool((x > 0).all())
    torch.testing.assert_close(x.sum(1), torch.ones(3, 5, dtype=torch.float64))
    assert _one(T((0, 4), fill="probs")).shape == (0, 4)


def test_constant_and_bool_fills() -> None:
    assert bool((_one(T((2, 3), fill="ones")) == 1).all())
    assert bool((_one(T((2, 3), fill="zeros")) == 0).all())
    always = _one(T((50,), fill="bool", high=1.0))
    assert always.dtype == torch.bool and bool(always.all())
    assert not bool(_one(T((50,), fill="bool", high=0.0)).any())


def test_unknown_fill_and_dtype_are_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="unknown fill 'bogus'"):
        _one(T((2,), fill="bogus"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown dtype name 'complex7'"):
        dtype_of("complex7")
    assert dtype_of("bfloat16") is torch.bfloat16


def test_tensors_needing_grad_are_named_by_their_place() -> None:
    _, args, kwargs = Materialized(_example()).copy()
    found = tensors_needing_grad(args, kwargs)
    assert list(found) == ["args[0]", "kwargs['weight']"]
    assert found["args[0]"] is args[0]
    nested = tensors_needing_grad(({"k": [torch.ones(1, requires_grad=True)]},), {})
    assert list(nested) == ["args[0]['k'][0]"]


def test_flatten_tensors_keeps_order_and_skips_other_values() -> None:
    a, b, c = torch.zeros(1), torch.ones(1), torch.full((1,), 2.0)
    assert flatten_tensors((a, [b, None, 3], (c,))) == [a, b, c]
    assert flatten_tensors(a) == [a]
    assert flatten_tensors(None) == []


def test_placeholder_repr_is_python_that_rebuilds_it() -> None:
    t = T((2, 3), fill="index", low=1.0, high=4.0, dtype="int64", grad=False)
    assert repr(t) == "T((2, 3), fill='index', low=1.0, high=4.0, dtype='int64')"
    assert eval(repr(t), {"T": T}) == t
    assert repr(T((5,), grad=True)) == "T((5,), grad=True)"


def test_example_describe_and_with_dtype() -> None:
    ex = Example(init={"n": 2}, args=(T((2,)),), kwargs={"dim": 0}, seed=3, train=False, extra={"grad_scale": 2.0})
    text = ex.describe()
    assert text == (
        "init={'n': 2}, args=(T((2,)),), kwargs={'dim': 0}, dtype=float32, seed=3, mode=eval, extra={'grad_scale': 2.0}"
    )
    assert Example(args=(1,)).describe() == "args=(1,), dtype=float32, seed=0"
    assert ex.with_dtype("float64").dtype == "float64" and ex.dtype == "float32"
