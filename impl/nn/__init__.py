"""Modules and parameters, laid out like ``torch.nn``."""

from impl.nn import functional, init, parallel, utils
from impl.nn.container import ModuleDict, ModuleList, Sequential
from impl.nn.cross_entropy import CrossEntropyLoss
from impl.nn.dropout import Dropout
from impl.nn.embedding import Embedding
from impl.nn.gelu import GELU
from impl.nn.kv_cache import KVCache
from impl.nn.layer_norm import LayerNorm
from impl.nn.linear import Linear
from impl.nn.module import Module
from impl.nn.parameter import Parameter
from impl.nn.rms_norm import RMSNorm
from impl.nn.rotary import RotaryEmbedding
from impl.nn.silu import SiLU
from impl.nn.softmax import Softmax

__all__ = [
    "GELU",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "KVCache",
    "LayerNorm",
    "Linear",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "RMSNorm",
    "RotaryEmbedding",
    "Sequential",
    "SiLU",
    "Softmax",
    "functional",
    "init",
    "parallel",
    "utils",
]
