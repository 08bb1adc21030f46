"""A from-scratch implementation of the torch.nn pieces a GPT is built from.

Laid out like torch (``impl.nn``, ``impl.nn.functional``, ``impl.nn.init``, ``impl.optim``, ``impl.utils.data``)
so that it can be validated with ``python -m conformance impl`` and so that torch's pieces can stand in for ours one
at a time. It builds on torch tensors and autograd only: every operator's backward pass is derived by hand.
"""

from impl import nn, optim, utils
from impl.quantization import fake_quantize_per_channel_affine, fake_quantize_per_tensor_affine

__all__ = ["fake_quantize_per_channel_affine", "fake_quantize_per_tensor_affine", "nn", "optim", "utils"]
