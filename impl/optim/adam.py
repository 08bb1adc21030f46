"""``Adam``, with L2 or decoupled weight decay (``AdamW`` is the latter): one vectorised update per (device, dtype)
group."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import torch

from impl.optim import blocks
from impl.optim.optimizer import Optimizer

__all__ = ["Adam"]


def _scalar_dtype() -> torch.dtype:
    # torch keeps "step" in float32 unless float64 is the default dtype.
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), numerically matching torch's foreach Adam; with ``decoupled_weight_decay=True``
    it is AdamW (Loshchilov & Hutter, 2019).

    For each parameter :math:`\theta` with gradient :math:`g` (negated when ``maximize``), at step :math:`t`:

    .. math::
        \begin{aligned}
            g &\leftarrow g + \lambda\theta \text{ (L2, the default), or }
                \theta \leftarrow \theta\,(1 - \gamma\lambda) \text{ (decoupled)} \\
            m &\leftarrow \beta_1 m + (1 - \beta_1)\, g \\
            v &\leftarrow \beta_2 v + (1 - \beta_2)\, g^2 \\
            \hat v &\leftarrow \max(\hat v, v) \text{ if amsgrad, else } v \\
            \theta &\leftarrow \theta - \frac{\gamma}{1 - \beta_1^t}\,
                \frac{m}{\sqrt{\hat v}/\sqrt{1 - \beta_2^t} + \epsilon}
        \end{aligned}

    with :math:`\gamma` = ``lr`` and :math:`\lambda` = ``weight_decay``. The moving averages start at zero.
    Parameters whose ``grad`` is ``None`` are skipped (their state and step count do not advance). With L2 decay
    the penalty goes through the moments, so Adam's normalisation shrinks it for parameters with large gradients;
    decoupled decay shrinks every weight by the same factor.

    The update runs as a handful of ``torch._foreach_*`` kernels over all parameters of one device and dtype,
    the same operations in the same order as ``torch.optim.Adam(foreach=True)``, so trajectories agree with it to
    the last float32 bit. Per-parameter state is ``"step"`` (a float32 CPU scalar tensor), ``"exp_avg"``,
    ``"exp_avg_sq"`` and, with ``amsgrad``, ``"max_exp_avg_sq"``; the state_dict is interchangeable with torch's.

    Args:
        params (iterable): tensors, ``(name, tensor)`` pairs, or dicts defining parameter groups.
        lr (float): learning rate :math:`\gamma`. Default: 1e-3.
        betas (tuple[float, float]): :math:`(\beta_1, \beta_2)`, decay rates of the moment averages.
            Default: (0.9, 0.999).
        eps (float): added to the denominator for stability. Default: 1e-8.
        weight_decay (float): decay coefficient :math:`\lambda`. Default: 0.
        amsgrad (bool): use the running maximum of :math:`v` (AMSGrad). Default: ``False``.
        maximize (bool): ascend the objective instead of descending. Default: ``False``.
        foreach (bool, optional): accepted and recorded for compatibility; the update is always vectorised.
        capturable, differentiable (bool): must be ``False`` (``True`` raises ``NotImplementedError``).
        fused (bool, optional): must be ``None`` or ``False`` (``True`` raises ``NotImplementedError``).
        decoupled_weight_decay (bool): decay the weights directly, as AdamW, instead of adding
            :math:`\lambda\theta` to the gradient. Default: ``False``.

    Raises:
        ValueError: for a negative ``lr``, ``eps`` or ``weight_decay``, or betas outside ``[0, 1)``, with torch's
            messages.
        NotImplementedError: for tensor-valued ``lr``/``betas``, ``capturable``, ``differentiable``, ``fused``,
            and (at :meth:`step`) sparse gradients.

    Example::

        >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = Adam([w], lr=0.1, weight_decay=0.5)
        >>> w.grad = torch.tensor([0.0, 0.0])
        >>> opt.step()  # the first step moves each weight by lr against the sign of g + 0.5 w
        >>> w
        tensor([ 0.9000, -1.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        name = type(self).__name__
        if isinstance(lr, torch.Tensor):
            raise NotImplementedError(f"{name}: a Tensor lr is not supported; pass a float")
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], torch.Tensor) and isinstance(betas[1], torch.Tensor))
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        if isinstance(betas[0], torch.Tensor):
            raise NotImplementedError(f"{name}: Tensor betas are not supported; pass floats")
        if capturable:
            raise NotImplementedError(f"{name}: capturable=True is not supported")
        if differentiable:
            raise NotImplementedError(f"{name}: differentiable=True is not supported")
        if fused:
            raise NotImplementedError(f"{name}: fused=True is not supported")

        # The same keys, in the same order, as torch's Adam and AdamW, so that state_dicts are interchangeable.
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    _group_setdefaults: ClassVar[dict[str, Any]] = {
        "amsgrad": False,
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "fused": None,
        "decoupled_weight_decay": False,
    }

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            for p in group["params"]:
                p_state = self.state.get(p, [])
                # Very old checkpoints stored "step" as a Python number.
                if len(p_state) != 0 and not torch.is_tensor(p_state["step"]):
                    p_state["step"] = torch.tensor(float(p_state["step"]), dtype=_scalar_dtype())

    def _check_group(self, group: dict[str, Any]) -> None:
        # A loaded state_dict may carry settings the constructor would have refused.
        for flag in ("capturable", "differentiable", "fused"):
            if group.get(flag):
                raise NotImplementedError(f"{type(self).__name__}: {flag}=True is not supported")
        if isinstance(group["lr"], torch.Tensor) or any(isinstance(b, torch.Tensor) for b in group["betas"]):
            raise NotImplementedError(f"{type(self).__name__}: Tensor lr or betas are not supported; use floats")

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        r"""Perform one optimisation step over all parameters that have a gradient.

        Args:
            closure (callable, optional): re-evaluates the model and returns the loss (run with grad enabled).

        Returns:
            The closure's loss, or ``None``.
        """
        loss = self._loss_of(closure)
        for group in self.param_groups:
            self._check_group(group)
            # Parameters grouped by (device, dtype): params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps.
            buckets: dict[tuple[torch.device, torch.dtype], tuple[list[torch.Tensor], ...]] = defaultdict(
                lambda: ([], [], [], [], [], [])
            )
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise NotImplementedError(f"{type(self).__name__} does not support sparse gradients")
                state = self.state[p]
                if len(state) == 0:
                    # "step" lives on the CPU: reading it for the bias corrections then needs no device sync.
                    state["step"] = torch.tensor(0.0, dtype=_scalar_dtype(), device="cpu")
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                bucket = buckets[(p.device, p.dtype)]
                tensors = [p, p.grad, state["exp_avg"], state["exp_avg_sq"]]
                if torch.is_complex(p):
                    # Complex numbers are updated as pairs of reals, as torch does.
                    tensors = [torch.view_as_real(t) for t in tensors]
                bucket[0].append(tensors[0])
                bucket[1].append(tensors[1])
                bucket[2].append(tensors[2])
                bucket[3].append(tensors[3])
                if group["amsgrad"]:
                    max_sq = state["max_exp_avg_sq"]
                    bucket[4].append(torch.view_as_real(max_sq) if torch.is_complex(p) else max_sq)
                bucket[5].append(state["step"])

            beta1, beta2 = group["betas"]
            for params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps in buckets.values():
                _adam_foreach(
                    params,
                    grads,
                    exp_avgs,
                    exp_avg_sqs,
                    max_exp_avg_sqs,
                    steps,
                    amsgrad=group["amsgrad"],
                    beta1=beta1,
                    beta2=beta2,
                    lr=group["lr"],
                    weight_decay=group["weight_decay"],
                    eps=group["eps"],
                    maximize=group["maximize"],
                    decoupled=group["decoupled_weight_decay"],
                )
        return loss


def _adam_foreach(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    exp_avgs: list[torch.Tensor],
    exp_avg_sqs: list[torch.Tensor],
    max_exp_avg_sqs: list[torch.Tensor],
    steps: list[torch.Tensor],
    *,
    amsgrad: bool,
    beta1: float,
    beta2: float,
    lr: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
    decoupled: bool,
) -> None:
    """One Adam update of tensors sharing a device and dtype: the kernel sequence of torch's foreach Adam, run
    block by block (:mod:`impl.optim.blocks`), bitwise the same as one pass over whole tensors."""
    # One wrapped scalar for all CPU steps, rather than a fresh tensor per element in the fallback loop.
    if steps[0].is_cpu:
        torch._foreach_add_(steps, torch.tensor(1.0, device="cpu"), alpha=1.0)
    else:
        torch._foreach_add_(steps, 1)

    # Bias corrections in Python doubles, per parameter (steps differ where a parameter missed a gradient).
    step_values = [s.item() for s in steps]
    step_size = [(lr / (1 - beta1**t)) * -1 for t in step_values]
    bias_correction2_sqrt = [(1 - beta2**t) ** 0.5 for t in step_values]

    tensor_lists = [params, grads, exp_avgs, exp_avg_sqs] + ([max_exp_avg_sqs] if amsgrad else [])
    for owners, (p, g, m, v, *max_v) in blocks.blocks(tensor_lists):
        if maximize:
            g = list(torch._foreach_neg(g))
        if weight_decay != 0:
            if decoupled:
                torch._foreach_mul_(p, 1 - lr * weight_decay)
            else:
                g = list(torch._foreach_add(g, p, alpha=weight_decay))
        # m <- m + (1 - beta1)(g - m);  v <- beta2 v + (1 - beta2) g*g
        torch._foreach_lerp_(m, g, 1 - beta1)
        torch._foreach_mul_(v, beta2)
        torch._foreach_addcmul_(v, g, g, 1 - beta2)
        if amsgrad:
            torch._foreach_maximum_(max_v[0], v)
            denom = torch._foreach_sqrt(max_v[0])
        else:
            denom = torch._foreach_sqrt(v)
        # denom = sqrt(v_hat) / sqrt(1 - beta2^t) + eps;  theta += -(lr / (1 - beta1^t)) * m / denom
        torch._foreach_div_(denom, [bias_correction2_sqrt[i] for i in owners])
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(p, m, denom, [step_size[i] for i in owners])
