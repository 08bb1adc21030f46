"""A correct implementation that computes every component in float64 from its formula and casts back.

Nothing here calls torch's version of a component it implements: values come from plain tensor arithmetic in
float64 (so they are at least as accurate as torch's float32), and gradients come from autograd through that
arithmetic. The harness must find no failure in the components listed in ``COVERS``; every other component must be
reported missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import SimpleNamespace

import torch

from tests.planted.adamw_loop import LoopAdamW
from tests.planted.sgd_loop import LoopSGD

#: The spec entries this implementation provides.
COVERS = (
    "Linear",
    "linear",
    "LayerNorm",
    "layer_norm",
    "RMSNorm",
    "rms_norm",
    "Softmax",
    "softmax",
    "log_softmax",
    "GELU",
    "gelu",
    "Dropout",
    "dropout",
    "CrossEntropyLoss",
    "cross_entropy",
    "AdamW",
    "SGD",
)


def _wide(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.float64)


def _trailing(input: torch.Tensor, shape: int | Sequence[int]) -> tuple[int, ...]:
    """The normalized dimensions as negative indices, after checking that ``input`` ends in ``shape``."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not shape:
        raise ValueError("normalized_shape must have at least one dimension")
    if tuple(input.shape[input.dim() - len(shape) :]) != shape or input.dim() < len(shape):
        raise ValueError(f"input of shape {tuple(input.shape)} does not end in normalized_shape {shape}")
    return tuple(range(-len(shape), 0))


def _check_shape(name: str, t: torch.Tensor | None, dims: tuple[int, ...], input: torch.Tensor) -> None:
    expected = tuple(input.shape[d] for d in dims)
    if t is not None and tuple(t.shape) != expected:
        raise ValueError(f"{name} has shape {tuple(t.shape)}, expected normalized_shape {expected}")


def linear(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """``y = x W^T + b`` as products summed in float64."""
    if input.shape[-1] != weight.shape[-1]:
        raise ValueError(f"linear: input has {input.shape[-1]} features, weight has {weight.shape[-1]}")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(f"linear: bias shape {tuple(bias.shape)} != ({weight.shape[0]},)")
    y = (_wide(input).unsqueeze(-2) * _wide(weight)).sum(-1)  # (*, out)
    if bias is not None:
        y = y + _wide(bias)
    return y.to(input.dtype)


def layer_norm(
    input: torch.Tensor,
    normalized_shape: int | Sequence[int],
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    eps: float = 1e-5,
) -> torch.Tensor:
    """``(x - mean) / sqrt(var + eps) * weight + bias``, the biased variance by two passes in float64."""
    dims = _trailing(input, normalized_shape)
    _check_shape("weight", weight, dims, input)
    _check_shape("bias", bias, dims, input)
    x = _wide(input)
    centred = x - x.mean(dims, keepdim=True)
    y = centred / torch.sqrt((centred * centred).mean(dims, keepdim=True) + eps)
    if weight is not None:
        y = y * _wide(weight)
    if bias is not None:
        y = y + _wide(bias)
    return y.to(input.dtype)


def rms_norm(
    input: torch.Tensor,
    normalized_shape: int | Sequence[int],
    weight: torch.Tensor | None = None,
    eps: float | None = None,
) -> torch.Tensor:
    """``x / sqrt(mean(x^2) + eps) * weight``; eps None is the machine epsilon of the type torch computes the norm
    in: the input's, or float32 for a half-precision input."""
    dims = _trailing(input, normalized_shape)
    _check_shape("weight", weight, dims, input)
    if eps is None:
        eps = torch.finfo(torch.float32 if input.dtype in (torch.float16, torch.bfloat16) else input.dtype).eps
    x = _wide(input)
    y = x / torch.sqrt((x * x).mean(dims, keepdim=True) + eps)
    if weight is not None:
        y = y * _wide(weight)
    return y.to(input.dtype)


def _shifted(input: torch.Tensor, dim: int, dtype: torch.dtype | None) -> tuple[torch.Tensor, torch.dtype]:
    """The input in float64 (at least one dimension), less its maximum along ``dim``; and the result's dtype."""
    if dtype is not None:
        input = input.to(dtype)
    x = _wide(input).reshape(input.shape or (1,))
    if x.numel() == 0:
        x.sum(dim)  # nothing to shift; this only rejects a dim out of range
        return x, input.dtype
    # The maximum is a constant shift: it changes no value and no gradient, and keeps exp from overflowing.
    return x - x.amax(dim, keepdim=True).detach(), input.dtype


def softmax(input: torch.Tensor, dim: int, _stacklevel: int = 3, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim``."""
    z, out_dtype = _shifted(input, dim, dtype)
    e = torch.exp(z)
    return (e / e.sum(dim, keepdim=True)).reshape(input.shape).to(out_dtype)


def log_softmax(input: torch.Tensor, dim: int, _stacklevel: int = 3, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``x_i - log sum_j exp(x_j)`` along ``dim``."""
    z, out_dtype = _shifted(input, dim, dtype)
    return (z - torch.log(torch.exp(z).sum(dim, keepdim=True))).reshape(input.shape).to(out_dtype)


def gelu(input: torch.Tensor, approximate: str = "none") -> torch.Tensor:
    """``x * Phi(x)``, or ``0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`` when ``approximate="tanh"``."""
    x = _wide(input)
    if approximate == "none":
        y = 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))
    elif approximate == "tanh":
        y = 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    else:
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    return y.to(input.dtype)


def dropout(input: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
    """Zero each element with probability p (a float64 uniform draw per element), scale the rest by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    keep = torch.rand(input.shape, dtype=torch.float64, device=input.device) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return (_wide(input) * keep * scale).to(input.dtype)


def cross_entropy(
    input: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    size_average: None = None,
    ignore_index: int = -100,
    reduce: None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """-sum_c w_c t_c log softmax(x)_c per sample, with t the (smoothed) target distribution; then reduced.

    With class indices, ``t`` is one-hot smoothed to ``(1 - eps) onehot + eps / C``, ignored targets add nothing, and
    the mean divides by the summed weight of the targets kept. With class probabilities the mean divides by the
    number of samples.
    """
    if size_average is not None or reduce is not None:
        raise NotImplementedError("size_average and reduce are deprecated")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    class_dim = 0 if input.dim() == 1 else 1
    classes = input.shape[class_dim]
    w = torch.ones(classes, dtype=torch.float64) if weight is None else _wide(weight)
    if w.shape != (classes,):
        raise ValueError(f"weight has shape {tuple(w.shape)}, expected ({classes},)")
    logp = torch.log_softmax(_wide(input), class_dim)  # (N, C, *) or (C,)
    w_shape = [classes if d == class_dim else 1 for d in range(input.dim())]
    weighted = logp * w.reshape(w_shape)
    if target.is_floating_point():
        if ignore_index != -100:
            raise ValueError("ignore_index is not allowed with class-probability targets")
        if target.shape != input.shape:
            raise ValueError(f"probability target shape {tuple(target.shape)} differs from input {tuple(input.shape)}")
        smoothed = _wide(target) * (1 - label_smoothing) + label_smoothing / classes
        losses = -(weighted * smoothed).sum(class_dim)
        count = torch.tensor(float(input.numel() // classes if classes else 0), dtype=torch.float64)
    else:
        expected = input.shape[:class_dim] + input.shape[class_dim + 1 :]
        if target.dtype != torch.int64 or target.shape != expected:
            raise ValueError(
                f"class-index target must be int64 of shape {tuple(expected)}, got {target.dtype} {tuple(target.shape)}"
            )
        kept = target != ignore_index
        if bool(((target < 0) | (target >= classes))[kept].any()):
            raise IndexError(f"target class out of range [0, {classes})")
        index = target.masked_fill(~kept, 0).unsqueeze(class_dim)
        nll = -weighted.gather(class_dim, index).squeeze(class_dim)
        smooth = -weighted.sum(class_dim) / classes
        losses = ((1 - label_smoothing) * nll + label_smoothing * smooth) * kept
        count = (w[index.squeeze(class_dim)] * kept).sum()
    if reduction == "none":
        return losses.to(input.dtype)
    total = losses.sum()
    if reduction == "mean" and not bool(count):
        # torch: the mean over no kept target is NaN, and its gradient is 0 (not 0 / 0).
        total = total * 0 + math.nan
    elif reduction == "mean":
        total = total / count
    return total.to(input.dtype)


class Linear(torch.nn.Module):
    """A Linear layer on top of :func:`linear`."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = torch.nn.Parameter(torch.empty(out_features, in_features))
        self.bias = torch.nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # torch's kaiming_uniform_(a=sqrt(5)) on the weight is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as for the bias.
        bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class LayerNorm(torch.nn.Module):
    """LayerNorm on top of :func:`layer_norm`: weight ones, bias zeros."""

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.weight = torch.nn.Parameter(torch.ones(shape)) if elementwise_affine else None
        self.bias = torch.nn.Parameter(torch.zeros(shape)) if elementwise_affine and bias else None

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        affine, bias = self.weight is not None, self.bias is not None
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={affine}, bias={bias}"


class RMSNorm(torch.nn.Module):
    """RMSNorm on top of :func:`rms_norm`: weight ones."""

    def __init__(
        self, normalized_shape: int | Sequence[int], eps: float | None = None, elementwise_affine: bool = True
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps = shape, eps
        self.weight = torch.nn.Parameter(torch.ones(shape)) if elementwise_affine else None

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}"


class Softmax(torch.nn.Module):
    """Softmax along ``dim``."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        if self.dim is None:
            raise NotImplementedError("Softmax without dim: torch's implicit choice is deprecated")
        return softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class GELU(torch.nn.Module):
    """GELU, exact or with the tanh approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Dropout(torch.nn.Module):
    """Dropout on top of :func:`dropout`, active in training mode only."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class CrossEntropyLoss(torch.nn.Module):
    """CrossEntropyLoss on top of :func:`cross_entropy`; the class weights are a buffer, as in torch."""

    def __init__(
        self,
        weight: torch.Tensor | None = None,
        size_average: None = None,
        ignore_index: int = -100,
        reduce: None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        self.weight: torch.Tensor | None
        self.register_buffer("weight", weight)
        self.ignore_index, self.reduction, self.label_smoothing = ignore_index, reduction, label_smoothing
        if size_average is not None or reduce is not None:
            raise NotImplementedError("size_average and reduce are deprecated")

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


nn = SimpleNamespace(
    Linear=Linear,
    LayerNorm=LayerNorm,
    RMSNorm=RMSNorm,
    Softmax=Softmax,
    GELU=GELU,
    Dropout=Dropout,
    CrossEntropyLoss=CrossEntropyLoss,
    functional=SimpleNamespace(
        linear=linear,
        layer_norm=layer_norm,
        rms_norm=rms_norm,
        softmax=softmax,
        log_softmax=log_softmax,
        gelu=gelu,
        dropout=dropout,
        cross_entropy=cross_entropy,
    ),
)
optim = SimpleNamespace(AdamW=LoopAdamW, SGD=LoopSGD)
