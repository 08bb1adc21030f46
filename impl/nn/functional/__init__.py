"""Stateless operators, laid out like ``torch.nn.functional``; each has a hand-derived backward pass."""

from impl.nn.functional.attention import scaled_dot_product_attention
from impl.nn.functional.cross_entropy import cross_entropy
from impl.nn.functional.dropout import dropout
from impl.nn.functional.embedding import embedding
from impl.nn.functional.gelu import gelu
from impl.nn.functional.layer_norm import layer_norm
from impl.nn.functional.linear import linear
from impl.nn.functional.rms_norm import rms_norm
from impl.nn.functional.silu import silu
from impl.nn.functional.softmax import log_softmax, softmax

__all__ = [
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "layer_norm",
    "linear",
    "log_softmax",
    "rms_norm",
    "scaled_dot_product_attention",
    "silu",
    "softmax",
]
