"""Embedding and embedding: y = W[index]. The page is spec/pages/embedding.md."""

from __future__ import annotations

from hypothesis import strategies as st

from spec.entry import CALL_CHECKS, Entry, ErrorCase, Example, T
from spec.strategies import batch_shape, features, float_dtypes, seeds

#: padding_idx must name a row, counted from the front or (negative) from the back; torch raises AssertionError.
_BAD_PADDING = ("AssertionError", "ValueError", "IndexError")


def _index(lead: tuple[int, ...], num: int) -> T:
    return T(lead, fill="index", low=0, high=num, dtype="int64")


@st.composite
def _options(draw: st.DrawFn, num: int) -> dict[str, object]:
    """padding_idx (either sign), max_norm with its norm_type, scale_grad_by_freq; each left out now and then."""
    options: dict[str, object] = {}
    if draw(st.booleans()):
        options["padding_idx"] = draw(st.integers(-num, num - 1))
    if draw(st.booleans()):
        options["max_norm"] = draw(st.sampled_from([0.5, 1.0, 2.0, 5.0]))
        if draw(st.booleans()):
            options["norm_type"] = draw(st.sampled_from([1.0, 2.0, 3.0]))
    if draw(st.booleans()):
        options["scale_grad_by_freq"] = draw(st.booleans())
    return options


@st.composite
def _module_examples(draw: st.DrawFn) -> Example:
    num, dim = draw(features), draw(features)
    return Example(
        init={"num_embeddings": num, "embedding_dim": dim, **draw(_options(num))},
        args=(_index(draw(batch_shape()), num),),
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


@st.composite
def _function_examples(draw: st.DrawFn) -> Example:
    num, dim = draw(features), draw(features)
    return Example(
        args=(_index(draw(batch_shape()), num), T((num, dim), grad=True)),
        kwargs=draw(_options(num)),
        dtype=draw(float_dtypes),
        seed=draw(seeds),
    )


@st.composite
def _stability_examples(draw: st.DrawFn) -> Example:
    """Huge and tiny upstream gradients, summed over repeated indices (few rows, many lookups)."""
    num, dim = draw(st.integers(1, 4)), draw(features)
    return Example(
        init={"num_embeddings": num, "embedding_dim": dim, "scale_grad_by_freq": draw(st.booleans())},
        args=(_index((draw(st.integers(1, 8)), 8), num),),
        dtype="float32",
        seed=draw(seeds),
        extra={"grad_scale": draw(st.sampled_from([1e-20, 1e15]))},
    )


def _call(*args: object, **kwargs: object) -> Example:
    return Example(args=args, kwargs=kwargs)


ENTRIES = [
    Entry(
        name="Embedding",
        path="nn.Embedding",
        kind="module",
        page="embedding",
        checks=(*CALL_CHECKS, "parameters", "state_dict", "repr", "init", "dtype", "stability", "errors"),
        examples=_module_examples(),
        stability=_stability_examples(),
        init_example=Example(init={"num_embeddings": 1000, "embedding_dim": 100}),
        errors=(
            ErrorCase(
                "index equal to num_embeddings",
                Example(init={"num_embeddings": 5, "embedding_dim": 3}, args=(T((2, 3), fill="index", low=5, high=6),)),
            ),
            ErrorCase(
                "negative index",
                Example(init={"num_embeddings": 5, "embedding_dim": 3}, args=(T((4,), fill="index", low=-1, high=0),)),
            ),
            ErrorCase(
                "floating-point indices",
                Example(init={"num_embeddings": 5, "embedding_dim": 3}, args=(T((4,), fill="uniform", high=4),)),
            ),
            ErrorCase(
                "padding_idx equal to num_embeddings",
                Example(init={"num_embeddings": 5, "embedding_dim": 3, "padding_idx": 5}, args=(_index((2,), 5),)),
                raises=_BAD_PADDING,
            ),
            ErrorCase(
                "padding_idx below -num_embeddings",
                Example(init={"num_embeddings": 5, "embedding_dim": 3, "padding_idx": -6}, args=(_index((2,), 5),)),
                raises=_BAD_PADDING,
            ),
        ),
    ),
    Entry(
        name="embedding",
        path="nn.functional.embedding",
        kind="function",
        page="embedding",
        checks=(*CALL_CHECKS, "dtype", "errors"),
        examples=_function_examples(),
        errors=(
            ErrorCase("index equal to the number of rows", _call(T((3,), fill="index", low=5, high=6), T((5, 3)))),
            ErrorCase("negative index", _call(T((3,), fill="index", low=-2, high=-1), T((5, 3)))),
            ErrorCase("floating-point indices", _call(T((3,), fill="uniform", high=4), T((5, 3)))),
            ErrorCase(
                "padding_idx equal to the number of rows",
                _call(_index((3,), 5), T((5, 3)), padding_idx=5),
                raises=_BAD_PADDING,
            ),
            ErrorCase(
                "padding_idx below minus the number of rows",
                _call(_index((3,), 5), T((5, 3)), padding_idx=-6),
                raises=_BAD_PADDING,
            ),
        ),
    ),
]
