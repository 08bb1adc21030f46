"""Weight initialisation: fill a tensor in place (under ``no_grad``) and return it, like ``torch.nn.init``."""

from __future__ import annotations

import math
import warnings
from typing import Literal

import torch

__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_FanMode = Literal["fan_in", "fan_out"]

_LINEAR_FNS = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""Return the recommended gain for a nonlinearity (the factor that keeps activations' variance steady).

    ================= ====================================================
    nonlinearity      gain
    ================= ====================================================
    Linear / Identity :math:`1`
    Conv{1,2,3}D      :math:`1`
    Sigmoid           :math:`1`
    Tanh              :math:`\frac{5}{3}`
    ReLU              :math:`\sqrt{2}`
    Leaky Relu        :math:`\sqrt{\frac{2}{1 + \text{negative\_slope}^2}}`
    SELU              :math:`\frac{3}{4}`
    ================= ====================================================

    Args:
        nonlinearity (str): the function's ``nn.functional`` name (``"linear"``, ``"relu"``, ...).
        param (float, optional): the negative slope for ``"leaky_relu"`` (default there: 0.01).

    Raises:
        ValueError: for an unknown nonlinearity or a slope that is not an int or float.

    Example::

        >>> calculate_gain("leaky_relu", 0.2)
        1.3867504905630728
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope: float = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            # bool is an int subclass, but True is no slope.
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        # Empirical value (pytorch/pytorch#50664); use "linear" for self-normalising networks.
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: torch.Tensor) -> tuple[int, int]:
    # Weights are laid out (out_features, in_features, *kernel): fan_in = in * receptive field, fan_out = out * rf.
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    num_input_fmaps = tensor.size(1)
    num_output_fmaps = tensor.size(0)
    receptive_field_size = 1
    for s in tensor.shape[2:]:
        receptive_field_size *= s
    return num_input_fmaps * receptive_field_size, num_output_fmaps * receptive_field_size


def _calculate_correct_fan(tensor: torch.Tensor, mode: str) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(
    tensor: torch.Tensor, a: float = 0.0, b: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Fill ``tensor`` with values drawn from :math:`\mathcal{U}(a, b)`.

    Args:
        tensor (Tensor): an n-dimensional tensor, filled in place.
        a (float): lower bound. Default: 0.
        b (float): upper bound. Default: 1.
        generator (torch.Generator, optional): source of randomness.

    Example::

        >>> w = uniform_(torch.empty(3, 5), -0.1, 0.1)
        >>> bool(((w >= -0.1) & (w <= 0.1)).all())
        True
    """
    with torch.no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(
    tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""Fill ``tensor`` with values drawn from :math:`\mathcal{N}(\text{mean}, \text{std}^2)`.

    Args:
        tensor (Tensor): an n-dimensional tensor, filled in place.
        mean (float): mean. Default: 0.
        std (float): standard deviation. Default: 1.
        generator (torch.Generator, optional): source of randomness.

    Example::

        >>> w = normal_(torch.empty(768, 768), std=0.02)  # GPT-2's weight init
        >>> round(w.std().item(), 3)
        0.02
    """
    with torch.no_grad():
        return tensor.normal_(mean, std, generator=generator)


def trunc_normal_(
    tensor: torch.Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Fill ``tensor`` from :math:`\mathcal{N}(\text{mean}, \text{std}^2)` truncated to :math:`[a, b]`.

    Sampled by inverting the CDF: with :math:`\Phi` the standard normal CDF,
    :math:`\alpha = (a - \text{mean})/\text{std}` and :math:`\beta = (b - \text{mean})/\text{std}`,

    .. math::
        u \sim \mathcal{U}(\Phi(\alpha), \Phi(\beta)), \qquad x = \text{mean} + \text{std}\cdot\Phi^{-1}(u),

    then clamped to :math:`[a, b]` against rounding. :math:`\Phi^{-1}(u) = \sqrt{2}\,\mathrm{erfinv}(2u - 1)` is
    evaluated as ``torch.special.ndtri``, which stays accurate for ``u`` near 0. An interval in the upper tail is
    sampled as the mirror image of the lower one, where probabilities are resolved finely, so bounds far from the
    mean still give the right distribution. (torch draws the same distribution by rejection; the values differ
    for a given seed.) Half-precision tensors are sampled in float32 and rounded.

    Args:
        tensor (Tensor): an n-dimensional tensor, filled in place.
        mean (float): mean of the untruncated normal. Default: 0.
        std (float): its standard deviation. Default: 1.
        a (float): lower cutoff. Default: -2.
        b (float): upper cutoff. Default: 2.
        generator (torch.Generator, optional): source of randomness.

    Example::

        >>> w = trunc_normal_(torch.empty(3, 5), std=0.02, a=-0.04, b=0.04)
        >>> bool((w.abs() <= 0.04).all())
        True
    """
    if tensor.is_meta:
        return tensor
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    alpha, beta = (a - mean) / std, (b - mean) / std
    # Mirror an upper-tail interval into the lower tail: Phi(-t) is tiny there and keeps full relative precision.
    flip = alpha > 0
    if flip:
        alpha, beta = -beta, -alpha
    lo, hi = _norm_cdf(alpha), _norm_cdf(beta)
    with torch.no_grad():
        work = (
            tensor if tensor.dtype in (torch.float32, torch.float64) else torch.empty_like(tensor, dtype=torch.float32)
        )
        work.uniform_(lo, hi, generator=generator)
        if not (math.isfinite(a) and math.isfinite(b)):
            # An open end would let u round to 0 or 1, where the inverse CDF is infinite.
            finfo = torch.finfo(work.dtype)
            work.clamp_(min=finfo.tiny, max=1.0 - finfo.eps / 2)
        torch.special.ndtri(work, out=work)
        work.mul_(-std if flip else std).add_(mean).clamp_(min=a, max=b)
        if work is not tensor:
            tensor.copy_(work)
    return tensor


def _norm_cdf(x: float) -> float:
    # Phi(x) through erfc, which keeps relative precision far into the lower tail.
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def constant_(tensor: torch.Tensor, val: float) -> torch.Tensor:
    r"""Fill ``tensor`` with the value ``val``.

    Example::

        >>> constant_(torch.empty(2, 3), 0.3)
        tensor([[0.3000, 0.3000, 0.3000],
                [0.3000, 0.3000, 0.3000]])
    """
    with torch.no_grad():
        return tensor.fill_(val)


def ones_(tensor: torch.Tensor) -> torch.Tensor:
    r"""Fill ``tensor`` with ones (LayerNorm's weight).

    Example::

        >>> ones_(torch.empty(5))
        tensor([1., 1., 1., 1., 1.])
    """
    with torch.no_grad():
        return tensor.fill_(1.0)


def zeros_(tensor: torch.Tensor) -> torch.Tensor:
    r"""Fill ``tensor`` with zeros (biases).

    Example::

        >>> zeros_(torch.empty(5))
        tensor([0., 0., 0., 0., 0.])
    """
    with torch.no_grad():
        return tensor.zero_()


def xavier_uniform_(tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Glorot uniform: fill ``tensor`` from :math:`\mathcal{U}(-a, a)` with

    .. math::
        a = \text{gain} \times \sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}}

    Args:
        tensor (Tensor): at least 2-dimensional, laid out ``(fan_out, fan_in, *kernel)``.
        gain (float): scaling factor. Default: 1.
        generator (torch.Generator, optional): source of randomness.

    Example::

        >>> w = xavier_uniform_(torch.empty(3, 5), gain=calculate_gain("relu"))
        >>> bound = calculate_gain("relu") * math.sqrt(6 / (5 + 3))  # gain * sqrt(6 / (fan_in + fan_out))
        >>> bool((w.abs() <= bound).all())
        True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""Glorot normal: fill ``tensor`` from :math:`\mathcal{N}(0, \text{std}^2)` with

    .. math::
        \text{std} = \text{gain} \times \sqrt{\frac{2}{\text{fan\_in} + \text{fan\_out}}}

    Args:
        tensor (Tensor): at least 2-dimensional, laid out ``(fan_out, fan_in, *kernel)``.
        gain (float): scaling factor. Default: 1.
        generator (torch.Generator, optional): source of randomness.

    Example::

        >>> w = xavier_normal_(torch.empty(768, 768))
        >>> round(w.std().item(), 3), round(math.sqrt(2 / (768 + 768)), 3)  # std: sqrt(2 / (fan_in + fan_out))
        (0.036, 0.036)
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def _kaiming_std(tensor: torch.Tensor, a: float, mode: _FanMode, nonlinearity: str) -> float:
    """gain / sqrt(fan): the standard deviation both He initialisations aim for."""
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(
    tensor: torch.Tensor,
    a: float = 0,
    mode: _FanMode = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""He uniform: fill ``tensor`` from :math:`\mathcal{U}(-\text{bound}, \text{bound})` with

    .. math::
        \text{bound} = \text{gain} \times \sqrt{\frac{3}{\text{fan\_mode}}}

    ``Linear`` initialises its weight with ``kaiming_uniform_(w, a=math.sqrt(5))``.

    Args:
        tensor (Tensor): at least 2-dimensional, laid out ``(fan_out, fan_in, *kernel)``.
        a (float): negative slope of the rectifier after this layer (used with ``"leaky_relu"``). Default: 0.
        mode (str): ``"fan_in"`` (keeps forward variance) or ``"fan_out"`` (keeps backward variance).
        nonlinearity (str): see :func:`calculate_gain`. Default: ``"leaky_relu"``.
        generator (torch.Generator, optional): source of randomness.

    Raises:
        ValueError: for a bad ``mode`` or ``nonlinearity``, or fewer than 2 dimensions.

    Example::

        >>> w = kaiming_uniform_(torch.empty(3, 5), mode="fan_in", nonlinearity="relu")
        >>> bool((w.abs() <= math.sqrt(2) * math.sqrt(3 / 5)).all())  # gain * sqrt(3 / fan_in), fan_in = 5 columns
        True
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def kaiming_normal_(
    tensor: torch.Tensor,
    a: float = 0,
    mode: _FanMode = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""He normal: fill ``tensor`` from :math:`\mathcal{N}(0, \text{std}^2)` with

    .. math::
        \text{std} = \frac{\text{gain}}{\sqrt{\text{fan\_mode}}}

    Args:
        tensor (Tensor): at least 2-dimensional, laid out ``(fan_out, fan_in, *kernel)``.
        a (float): negative slope of the rectifier after this layer (used with ``"leaky_relu"``). Default: 0.
        mode (str): ``"fan_in"`` or ``"fan_out"``. Default: ``"fan_in"``.
        nonlinearity (str): see :func:`calculate_gain`. Default: ``"leaky_relu"``.
        generator (torch.Generator, optional): source of randomness.

    Raises:
        ValueError: for a bad ``mode`` or ``nonlinearity``, or fewer than 2 dimensions.

    Example::

        >>> w = kaiming_normal_(torch.empty(200, 500), mode="fan_out", nonlinearity="relu")
        >>> round(w.std().item(), 2), round(math.sqrt(2 / 200), 2)  # std: gain / sqrt(fan_out), fan_out = 200 rows
        (0.1, 0.1)
    """
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    with torch.no_grad():
        return tensor.normal_(0, _kaiming_std(tensor, a, mode, nonlinearity), generator=generator)
