"""Gradient clipping, like ``torch.nn.utils.clip_grad_norm_``."""

from __future__ import annotations

import types
import warnings
from collections import defaultdict
from collections.abc import Iterable

import torch

__all__ = ["clip_grad_norm_"]


def _foreach_devices() -> tuple[str, ...]:
    # Device types with native torch._foreach_* kernels (the same list torch consults).
    return ("cpu", "cuda", "xpu", "mtia", torch._C._get_privateuse1_backend_name())


def _group_by_device_and_dtype(
    tensors: list[torch.Tensor],
) -> dict[tuple[torch.device, torch.dtype], list[torch.Tensor]]:
    groups: dict[tuple[torch.device, torch.dtype], list[torch.Tensor]] = defaultdict(list)
    for t in tensors:
        groups[(t.device, t.dtype)].append(t)
    return groups


def _use_foreach(foreach: bool | None, device: torch.device) -> bool:
    supported = device.type in _foreach_devices()
    if foreach and not supported:
        raise RuntimeError(f"foreach=True was passed, but can't use the foreach API on {device.type} tensors")
    return foreach is not False and supported


@torch.no_grad()
def clip_grad_norm_(
    parameters: torch.Tensor | Iterable[torch.Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> torch.Tensor:
    r"""Scale the gradients of ``parameters`` in place so that their joint norm is at most ``max_norm``.

    The norm is taken over all gradients together, as if they were concatenated into one vector:

    .. math::
        \text{total} = \Big\lVert \big(\lVert g_1 \rVert_p, \dots, \lVert g_n \rVert_p\big) \Big\rVert_p,
        \qquad g_i \leftarrow g_i \cdot \min\!\Big(\frac{\text{max\_norm}}{\text{total} + 10^{-6}},\ 1\Big)

    (for ``norm_type=inf`` the largest absolute entry). The clip factor is applied even when it is 1, which avoids
    a host-device synchronisation. Parameters whose ``grad`` is ``None`` are skipped.

    Args:
        parameters (Tensor or iterable of Tensors): the tensors whose ``.grad`` are clipped.
        max_norm (float): largest allowed total norm.
        norm_type (float): the ``p`` of the p-norm; ``float("inf")`` for the max norm. Default: 2.
        error_if_nonfinite (bool): raise if the total norm is ``nan`` or ``inf``. Default: ``False``.
        foreach (bool, optional): use the vectorised ``torch._foreach_*`` kernels (``None``: wherever the device
            supports them; ``True``: require them).

    Returns:
        Tensor: the total norm of the gradients before clipping (``tensor(0.)`` when there are none).

    Example::

        >>> from impl.nn import Linear
        >>> model = Linear(10, 10)
        >>> model(torch.randn(4, 10)).square().sum().mul(100).backward()
        >>> norm = clip_grad_norm_(model.parameters(), max_norm=1.0)  # the norm before clipping
        >>> after = torch.cat([p.grad.flatten() for p in model.parameters()]).norm()
        >>> bool(norm > 1.0), round(after.item(), 4)
        (True, 1.0)
    """
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        # A generator would be exhausted by the first pass.
        parameters = list(parameters)
        if is_generator and len(parameters) == 0:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    norm_type = float(norm_type)
    max_norm = float(max_norm)
    if len(grads) == 0:
        return torch.tensor(0.0)

    first_device = grads[0].device
    groups = _group_by_device_and_dtype(grads)
    norms: list[torch.Tensor] = []
    for (device, _), device_grads in groups.items():
        if _use_foreach(foreach, device):
            norms.extend(torch._foreach_norm(device_grads, norm_type))
        else:
            norms.extend(torch.linalg.vector_norm(g, norm_type) for g in device_grads)
    total_norm = torch.linalg.vector_norm(torch.stack([norm.to(first_device) for norm in norms]), norm_type)

    if error_if_nonfinite and torch.logical_or(total_norm.isnan(), total_norm.isinf()):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )

    clip_coef_clamped = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    for (device, _), device_grads in groups.items():
        coef = clip_coef_clamped.to(device)
        if _use_foreach(foreach, device):
            torch._foreach_mul_(device_grads, coef)
        else:
            for g in device_grads:
                g.mul_(coef)
    return total_norm
