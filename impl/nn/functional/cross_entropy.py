"""``cross_entropy`` between logits and class indices or class probabilities, with hand-derived backward passes."""

from __future__ import annotations

import ctypes
import math
import warnings
from typing import Any

import torch
from torch import Tensor

from impl.kernels import pointer, usable
from impl.nn.functional._autograd import apply, graph_kept, once_differentiable_fast

__all__ = ["cross_entropy", "legacy_reduction", "validate_reduction"]

# Half-precision logits are reduced in float32 and the loss rounded once at the end.
_UPCAST = (torch.float16, torch.bfloat16)
_TARGET_DTYPES = (torch.int64, torch.uint8)
_LOG2E = 1.0 / math.log(2.0)


def legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """Map torch's deprecated ``size_average`` / ``reduce`` flags to a ``reduction`` string, with torch's warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.", stacklevel=3
    )
    return ret


def validate_reduction(reduction: str) -> str:
    """Return the canonical reduction name (``'elementwise_mean'`` is a deprecated alias of ``'mean'``)."""
    if reduction in ("none", "mean", "sum"):
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.", stacklevel=3)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _exp_(t: Tensor) -> Tensor:
    """In-place ``exp`` as ``exp2(t * log2(e))``: torch's CPU ``exp2`` is vectorised, its ``exp`` several times
    slower."""
    return t.mul_(_LOG2E).exp2_()


def _compute(x: Tensor) -> Tensor:
    return x.float() if x.dtype in _UPCAST else x


def _class_view(w: Tensor, ndim: int) -> Tensor:
    """View a per-class vector (C,) so it broadcasts against (N, C, d1, ...)."""
    return w.view(1, -1, *([1] * (ndim - 2)))


class _CrossEntropyIndex(torch.autograd.Function):
    r"""Cross entropy with class-index targets, class weights, ``ignore_index`` and label smoothing.

    Forward, per sample :math:`i` with logits :math:`x \in \mathbb{R}^C` (class dimension 1), target :math:`t`,
    class weights :math:`w` (all ones when absent), :math:`W = \sum_c w_c`, smoothing :math:`\varepsilon`, and
    :math:`v_i = [t_i \ne \text{ignore\_index}]`:

    .. math::
        m = \max_c x_c,\quad s = \sum_c e^{x_c - m},\quad \log p_c = (x_c - m) - \log s, \\
        \ell_i = v_i\Big[(1-\varepsilon)\, w_{t}\, (-\log p_{t}) + \frac{\varepsilon}{C}\sum_c w_c (-\log p_c)\Big].

    ``'sum'`` is :math:`\sum_i \ell_i`; ``'mean'`` is :math:`\sum_i \ell_i / \sum_i v_i w_{t_i}` (NaN when every
    target is ignored), which is how torch normalises both the NLL and the smoothing term.

    Derivation. With :math:`\partial(-\log p_c)/\partial x_k = p_k - \delta_{ck}`, let :math:`a_i = (1-\varepsilon)
    v_i w_{t_i}` and :math:`b_i = \frac{\varepsilon}{C} v_i`. Then

    .. math::
        \frac{\partial \ell_i}{\partial x_{ik}} = a_i (p_k - \delta_{k t_i}) + b_i \sum_c w_c (p_k - \delta_{ck})
        = p_k (a_i + b_i W) - a_i\,\delta_{k t_i} - b_i w_k,

    i.e. "softmax minus target", computed as :math:`e^{x - m} \cdot (a_i + b_i W)/s` followed by a scatter-add of
    :math:`-a_i` at the target and a subtraction of :math:`b_i w`. None of it depends on the upstream gradient
    :math:`g`, which only scales it: :math:`\nabla_x = g \cdot \partial \ell / \partial x / D` for ``'sum'``
    (:math:`D = 1`) and ``'mean'`` (:math:`D = \sum_i v_i w_{t_i}`), and :math:`g_i \cdot \partial \ell_i /
    \partial x_i` row by row for ``'none'``. So the forward pass builds :math:`\partial \ell / \partial x / D` in
    the buffer of :math:`e^{x-m}` (saved, no more memory than the exponentials), and the backward pass is one
    multiplication.
    """

    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,
        target: Tensor,
        weight: Tensor | None,
        reduction: str,
        ignore_index: int,
        label_smoothing: float,
        may_ignore: bool,
    ) -> Tensor:
        # Shapes carry a kept class dimension of size 1: (N, 1, *d) for per-sample values.
        no_batch = input.dim() == 1
        x = _compute(input.unsqueeze(0) if no_batch else input)  # (N, C, *d)
        t = (target.reshape(1) if no_batch else target).unsqueeze(1)  # (N, 1, *d)
        num_classes = x.shape[1]
        eps = label_smoothing
        valid = None
        if may_ignore:  # some target may equal ignore_index: mask those samples out
            valid = t != ignore_index
            t = t.masked_fill(~valid, 0)
        if t.dtype != torch.int64:
            t = t.long()
        w = None if weight is None else _compute(weight)

        # x - max(x) along the class dimension: all exponents <= 0; amax rejects an empty reduction
        shifted = x.clone() if x.numel() == 0 else x - x.amax(1, keepdim=True)
        picked = shifted.gather(1, t)  # x_t - m
        smooth_dot = None
        if eps > 0.0:
            # sum_c w_c (x_c - m)
            smooth_dot = (shifted * _class_view(w, x.dim())).sum(1, True) if w is not None else shifted.sum(1, True)
        e = _exp_(shifted)  # reuses the buffer: shifted is no longer needed
        s = e.sum(1, keepdim=True)
        lse = s.log()
        loss = lse - picked  # -log p_t
        w_t = None
        if w is not None:
            w_t = w[t]  # (N, 1, *d)
            if valid is not None:
                w_t = w_t.masked_fill_(~valid, 0.0)
            loss.mul_(w_t)
        total_w: Tensor | float = float(num_classes)
        if smooth_dot is not None:
            total_w = w.sum() if w is not None else float(num_classes)
            smooth = lse.mul_(total_w).sub_(smooth_dot)  # -sum_c w_c log p_c
            loss.mul_(1.0 - eps).add_(smooth, alpha=eps / num_classes)
        if valid is not None:
            loss.masked_fill_(~valid, 0.0)

        denom: Tensor | float = 1.0
        if reduction == "none":
            out = loss.reshape(()) if no_batch else loss.squeeze(1)
        elif reduction == "sum":
            out = loss.sum()
        else:
            if w_t is not None:
                denom = w_t.sum()
            elif valid is not None:
                denom = valid.sum().to(x.dtype)
            else:
                denom = float(t.numel())
            out = loss.sum() / denom if t.numel() else loss.sum() * float("nan")

        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(_loss_grad(e, s, t, valid, w, w_t, eps, total_w, denom), valid)
        ctx.reduction = reduction
        ctx.input_shape = input.shape
        ctx.input_dtype = input.dtype
        return out if out.dtype == input.dtype else out.to(input.dtype)

    @staticmethod
    @once_differentiable_fast  # the saved gradient is a constant to autograd: no double backward through it
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, None, None, None, None, None, None]:
        if not ctx.needs_input_grad[0]:
            return None, None, None, None, None, None, None
        d_loss, valid = ctx.saved_tensors  # (N, C, *d): d loss / d x per unit of upstream gradient
        g = _compute(grad_out)
        if ctx.reduction == "none":
            g = g.reshape((d_loss.shape[0], 1, *d_loss.shape[2:]))  # one factor per sample
            if valid is not None:
                g = torch.where(valid, g, 0.0)  # exact zeros for ignored samples even when g is inf or nan
        # When the graph is freed after this pass, the saved buffer becomes the gradient.
        grad = torch.mul(d_loss, g) if graph_kept() else d_loss.mul_(g)
        if valid is not None and ctx.reduction != "none" and not bool(torch.isfinite(g)):
            grad.masked_fill_(~valid, 0.0)  # ignored samples stay exact zeros under an infinite or NaN g
        if grad.dtype != ctx.input_dtype:
            grad = grad.to(ctx.input_dtype)
        return grad.view(ctx.input_shape), None, None, None, None, None, None


class _CrossEntropyPlain(torch.autograd.Function):
    r"""The common case of :class:`_CrossEntropyIndex` with less bookkeeping: (N, C) logits, class indices, no
    weights, no smoothing, no ignored target.

    Same derivation with :math:`a_i = 1`, :math:`b_i = 0`: :math:`\partial \ell_i / \partial x_{ik} = p_k -
    \delta_{k t_i}`, built in the forward pass (divided by :math:`N` for ``'mean'``) in the buffer of
    :math:`e^{x-m}`; the backward pass multiplies it by the upstream gradient.
    """

    @staticmethod
    def forward(ctx: Any, input: Tensor, target: Tensor, reduction: str) -> Tensor:
        ctx.per_sample = reduction == "none"
        ctx.input_dtype = input.dtype
        x = _compute(input)  # (N, C)
        t = target.unsqueeze(1)  # (N, 1)
        if t.dtype != torch.int64:
            t = t.long()
        shifted = torch.sub(x, x.amax(1, keepdim=True))  # x - max(x): all exponents <= 0
        picked = shifted.gather(1, t)  # x_t - m
        e = _exp_(shifted)
        s = e.sum(1, keepdim=True)  # (N, 1)
        loss = s.log().sub_(picked)  # -log p_t
        out = _reduce(loss.squeeze(1), reduction)
        if ctx.needs_input_grad[0]:
            scale = 1.0 / x.shape[0] if reduction == "mean" else 1.0
            r = torch.reciprocal(s)
            if scale != 1.0:
                r.mul_(scale)
            e.mul_(r)  # p / N
            ctx.save_for_backward(e.scatter_add_(1, t, r.fill_(-scale)))  # (p - onehot(t)) / N
        return out if out.dtype == input.dtype else out.to(input.dtype)

    @staticmethod
    @once_differentiable_fast  # the saved gradient is a constant to autograd: no double backward through it
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, None, None]:
        (d_loss,) = ctx.saved_tensors
        g = _compute(grad_out)
        if ctx.per_sample:
            g = g.unsqueeze(1)  # (N, 1)
        grad = torch.mul(d_loss, g) if graph_kept() else d_loss.mul_(g)
        return (grad if grad.dtype == ctx.input_dtype else grad.to(ctx.input_dtype)), None, None


class _CrossEntropyNative(torch.autograd.Function):
    r""":class:`_CrossEntropyPlain` with ``ignore_index``, as native kernels (:mod:`impl.kernels`), float32 on the
    CPU. The forward pass reads each row once for its loss and keeps :math:`e^{x-m}` and the per-row
    :math:`r_i = s / \sum_c e^{x_{ic}-m_i}`, :math:`s` being 1, or one over the number of targets kept for
    ``'mean'``; the backward pass writes :math:`(e_i r_i - s\,\mathrm{onehot}(t_i))\,g_i` in one pass (the
    softmax's normalisation and the upstream gradient's product together). Rows whose target is ``ignore_index``
    give zeros. The forward kernel also checks the targets' range."""

    @staticmethod
    def forward(ctx: Any, input: Tensor, target: Tensor, reduction: str, ignore_index: int) -> Tensor:
        lib = usable(input)
        assert lib is not None
        n, c = input.shape
        t = target.long().contiguous()
        loss = input.new_empty(n)
        total = None if reduction == "none" else input.new_empty(())
        e = r = None
        if ctx.needs_input_grad[0]:
            e, r = torch.empty_like(input), input.new_empty(n)
        kept = ctypes.c_int64()
        bad = lib.nnspec_cross_entropy_fwd(
            input.data_ptr(),
            t.data_ptr(),
            loss.data_ptr(),
            pointer(total),
            pointer(e),
            pointer(r),
            n,
            c,
            ignore_index,
            int(reduction == "mean"),
            ctypes.byref(kept),
            torch.get_num_threads(),
        )
        if bad >= 0:
            raise _out_of_bounds(int(t[bad]), c, ignore_index)
        ctx.save_for_backward(e, r, t)
        ctx.meta = (reduction == "none", ignore_index, 1.0 / kept.value if reduction == "mean" and kept.value else 1.0)
        return loss if total is None else total

    @staticmethod
    @once_differentiable_fast  # the saved buffers are constants to autograd: no double backward through them
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor, None, None, None]:
        e, r, t = ctx.saved_tensors
        per_sample, ignore_index, scale = ctx.meta
        g = grad_out.contiguous()
        lib = usable(g)
        n, c = e.shape
        if lib is None:  # an upstream gradient no kernel takes (a tensor subclass, a transform): in tensor ops
            g_col = g.reshape(n, 1) if per_sample else g  # (N, 1) or ()
            grad = torch.mul(e, r.unsqueeze(1)).mul_(g_col)
            picked = torch.full((n, 1), -scale, dtype=e.dtype, device=e.device).mul_(g_col)
            picked.masked_fill_((t == ignore_index).unsqueeze(1), 0.0)
            return grad.scatter_add_(1, t.clamp(0, c - 1).unsqueeze(1), picked), None, None, None
        grad = torch.empty_like(e) if graph_kept() else e
        lib.nnspec_cross_entropy_bwd(
            e.data_ptr(),
            r.data_ptr(),
            t.data_ptr(),
            g.data_ptr(),
            1 if per_sample else 0,
            grad.data_ptr(),
            n,
            c,
            ignore_index,
            scale,
            torch.get_num_threads(),
        )
        return grad, None, None, None


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    """The per-sample losses (N,) reduced as ``reduction`` says."""
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _loss_grad(
    e: Tensor,
    s: Tensor,
    t: Tensor,
    valid: Tensor | None,
    w: Tensor | None,
    w_t: Tensor | None,
    eps: float,
    total_w: Tensor | float,
    denom: Tensor | float,
) -> Tensor:
    """``d loss / d x`` per unit of upstream gradient (see ``_CrossEntropyIndex``), built in ``e``'s buffer.

    ``e``: :math:`e^{x - m}` (N, C, *d); ``s``: its class sums (N, 1, *d); ``t``: the targets (N, 1, *d);
    ``denom``: 1, or the ``'mean'`` divisor.
    """
    if e.numel() == 0:
        return e
    num_classes = e.shape[1]
    if w_t is None and valid is None and eps == 0.0 and not isinstance(denom, Tensor):
        # The common case: (p - onehot(t)) / denom, p = e / s
        scale = 1.0 / denom
        e.mul_(torch.reciprocal(s).mul_(scale))
        return e.scatter_add_(1, t, torch.full_like(s, -scale))  # (faster than scatter_ with a scalar)
    # a = (1 - eps) v w_t / denom and b = eps / C v / denom, as (N, 1, *d) columns; ignored samples get exact
    # zeros, also when denom is 0
    a = (torch.ones_like(s) if w_t is None else w_t) * ((1.0 - eps) / denom)
    b = torch.full_like(s, eps / num_classes) / denom if eps > 0.0 else None
    if valid is not None:
        a.masked_fill_(~valid, 0.0)
        if b is not None:
            b.masked_fill_(~valid, 0.0)
    e.mul_((a if b is None else a + b * total_w) / s)
    e.scatter_add_(1, t, a.neg_())
    if b is not None:
        if w is not None:
            e.addcmul_(b.expand(t.shape), _class_view(w, e.dim()), value=-1.0)
        else:
            e.sub_(b)
    return e


class _CrossEntropyProb(torch.autograd.Function):
    r"""Cross entropy with class-probability targets :math:`q` (same shape as the input), optional class weights.

    Forward, per sample :math:`i` (class dimension 1), with :math:`\tilde q = (1-\varepsilon) q + \varepsilon/C` when
    smoothing (else :math:`\tilde q = q`):

    .. math::
        \ell_i = -\sum_c w_c \tilde q_c \log p_c, \qquad \log p = \text{log\_softmax}(x).

    ``'mean'`` divides the sum by the number of samples (``numel / C``), not by the weights.

    Derivation. :math:`\partial \ell_i/\partial x_k = \sum_c w_c \tilde q_c (p_k - \delta_{ck})
    = p_k \sum_c w_c \tilde q_c - w_k \tilde q_k`;
    :math:`\partial \ell_i/\partial q_c = -(1-\varepsilon) w_c \log p_c` (factor 1 without smoothing);
    :math:`\partial \ell_i/\partial w_c = -\tilde q_c \log p_c`. Saved: :math:`\log p`, :math:`q`, :math:`w`.
    """

    @staticmethod
    def forward(
        ctx: Any, input: Tensor, target: Tensor, weight: Tensor | None, reduction: str, label_smoothing: float
    ) -> Tensor:
        no_batch = input.dim() == 1
        x = _compute(input.unsqueeze(0) if no_batch else input)  # (N, C, *d)
        # Half-precision targets and weights join the products in float32 too: rounding w q to half would cost
        # more accuracy than the final rounding does.
        q = _compute(target.unsqueeze(0) if no_batch else target)
        w = None if weight is None else _compute(weight)
        num_classes = x.shape[1]
        if x.numel() == 0:
            logp = x.clone()
        else:
            shifted = x - x.amax(1, keepdim=True)
            logp = shifted.sub_(shifted.exp().sum(1, keepdim=True).log_())  # log_softmax in the input's dtype
        q_s = q * (1.0 - label_smoothing) + label_smoothing / num_classes if label_smoothing > 0.0 else q
        wq = q_s * _class_view(w, x.dim()) if w is not None else q_s
        loss = -(logp * wq).sum(1)  # (N, *d), in the promoted dtype of input, target and weight
        if reduction == "none":
            out = loss.reshape(()) if no_batch else loss
        elif reduction == "sum":
            out = loss.sum()
        else:
            count = x.numel() // num_classes if num_classes else 0
            out = loss.sum() / count if count else loss.sum() * float("nan")
        ctx.save_for_backward(logp, q, w)
        ctx.weight_dtype = None if weight is None else weight.dtype
        ctx.reduction = reduction
        ctx.label_smoothing = label_smoothing
        ctx.count = x.numel() // num_classes if num_classes else 0
        ctx.input_meta = (input.shape, input.dtype)
        ctx.target_meta = (target.shape, target.dtype)
        if input.dtype in _UPCAST and out.dtype == torch.float32 and target.dtype == input.dtype:
            out = out.to(input.dtype)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None, None, None]:
        logp, q, weight = ctx.saved_tensors
        eps = ctx.label_smoothing
        num_classes = logp.shape[1]
        g = _compute(grad_out)
        if ctx.reduction == "none":
            g = g.reshape(logp.shape[:1] + logp.shape[2:])
        elif ctx.reduction == "mean":
            g = g / ctx.count
        g = g.unsqueeze(1) if g.dim() else g  # broadcasts over the class dimension
        w = _class_view(weight, logp.dim()) if weight is not None else None
        grad_input = grad_target = grad_weight = None
        if ctx.needs_input_grad[0]:
            q_s = q * (1.0 - eps) + eps / num_classes if eps > 0.0 else q
            wq = q_s * w if w is not None else q_s
            grad = logp.exp().mul_(wq.sum(1, keepdim=True)).sub_(wq).mul_(g)
            shape, dtype = ctx.input_meta
            grad_input = grad.to(dtype).view(shape)
        if ctx.needs_input_grad[1]:
            scale = -(1.0 - eps) if eps > 0.0 else -1.0
            gt = logp * g * scale
            if w is not None:
                gt = gt * w
            shape, dtype = ctx.target_meta
            grad_target = gt.to(dtype).view(shape)
        if weight is not None and ctx.needs_input_grad[2]:
            q_s = q * (1.0 - eps) + eps / num_classes if eps > 0.0 else q
            dims = [0, *range(2, logp.dim())]
            grad_weight = -(logp * q_s * g).sum(dims).to(ctx.weight_dtype)
        return grad_input, grad_target, grad_weight, None, None


def _check_index_target(input: Tensor, target: Tensor) -> None:
    if input.dim() == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    if target.dtype not in _TARGET_DTYPES:
        raise RuntimeError(
            f"expected target dtype to be Long or Byte (torch.int64 / torch.uint8 class indices), "
            f"but got {target.dtype}"
        )
    if input.dim() == 1:
        if target.dim() > 1:
            raise RuntimeError(
                f"0D or 1D target tensor expected for 1D input, multi-target not supported "
                f"(got target of shape {list(target.shape)})"
            )
        if target.dim() == 1 and target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
        return
    batch = target.shape[0] if target.dim() > 0 else 0
    if batch != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({batch}).")
    expected = [input.shape[0], *input.shape[2:]]
    if list(target.shape) != expected:
        raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")


def _check_target_range(target: Tensor, num_classes: int, ignore_index: int) -> bool:
    """Raise for a class index outside [0, C) that is not ``ignore_index``; return whether any target may be
    ``ignore_index`` (``False`` lets the loss skip all masking)."""
    if target.numel() == 0:
        return False
    lo, hi = (int(v) for v in torch.aminmax(target))
    if lo >= 0 and hi < num_classes:
        return lo <= ignore_index <= hi
    t = target.long().masked_fill(target == ignore_index, 0)
    lo, hi = (int(v) for v in torch.aminmax(t))
    if lo < 0 or hi >= num_classes:
        raise _out_of_bounds(lo if lo < 0 else hi, num_classes, ignore_index)
    return True


def _out_of_bounds(bad: int, num_classes: int, ignore_index: int) -> IndexError:
    return IndexError(
        f"Target {bad} is out of bounds: expected class indices in [0, {num_classes - 1}] "
        f"(or ignore_index={ignore_index}) for input with {num_classes} classes"
    )


def _check_weight(weight: Tensor | None, num_classes: int, prefix: str = "") -> None:
    if weight is not None and (weight.dim() != 1 or weight.numel() != num_classes):
        raise RuntimeError(
            f"{prefix}weight tensor should be defined either for all {num_classes} classes or no classes "
            f"but got weight tensor of shape: {list(weight.shape)}"
        )


def _check_smoothing(label_smoothing: float) -> None:
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    r"""Cross entropy between unnormalised logits and targets.

    With class-index targets :math:`y_n`, class weights :math:`w` and smoothing :math:`\varepsilon`:

    .. math::
        \ell_n = (1-\varepsilon)\, w_{y_n} \big(-\log p_{n,y_n}\big)
                 + \frac{\varepsilon}{C} \sum_c w_c \big(-\log p_{n,c}\big),
        \qquad p_n = \mathrm{softmax}(x_n),

    zero for targets equal to ``ignore_index``; ``'mean'`` divides the sum by :math:`\sum_n w_{y_n}` over the
    non-ignored targets (NaN when all are ignored). With class-probability targets :math:`q` (same shape as the
    input, floating point) :math:`\ell_n = -\sum_c w_c \tilde q_{n,c} \log p_{n,c}` with
    :math:`\tilde q = (1-\varepsilon) q + \varepsilon / C`, and ``'mean'`` divides by the number of samples.
    The log-softmax subtracts the row maximum, so logits of magnitude :math:`10^4` are handled exactly.

    Args:
        input: logits, :math:`(C)`, :math:`(N, C)` or :math:`(N, C, d_1, \ldots, d_K)`.
        target: class indices (``torch.long``) of shape :math:`()`, :math:`(N)` or :math:`(N, d_1, \ldots)`, or
            class probabilities (floating point) of the input's shape.
        weight: optional per-class weights, :math:`(C)`.
        size_average: deprecated (see ``reduction``).
        ignore_index: a class-index target value that contributes neither loss nor gradient. Default: ``-100``.
            Probability targets accept only negative values.
        reduce: deprecated (see ``reduction``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        label_smoothing: :math:`\varepsilon \in [0, 1]`. Default: ``0.0``.

    Shape:
        - Input: :math:`(C)`, :math:`(N, C)` or :math:`(N, C, d_1, \ldots, d_K)`
        - Target: :math:`()`, :math:`(N)` or :math:`(N, d_1, \ldots, d_K)` indices, or the input's shape
        - Output: scalar, or the target's batch shape with ``reduction='none'``

    Example::

        >>> logits = torch.randn(3, 5, requires_grad=True)
        >>> loss = cross_entropy(logits, torch.tensor([1, 0, 4]))
        >>> loss.backward()
    """
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    reduction = validate_reduction(reduction)
    if not input.is_floating_point():
        raise NotImplementedError(f"cross_entropy(): expected floating point logits, but got input of {input.dtype}")
    num_classes = input.shape[0] if input.dim() == 1 else (input.shape[1] if input.dim() > 1 else 0)

    if input.shape == target.shape:
        if not target.is_floating_point():
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got {target.dtype}")
        if input.dim() == 0:
            raise IndexError("cross_entropy(): input must have a class dimension, but got a 0-dimensional input")
        if ignore_index >= 0:
            raise RuntimeError(
                f"ignore_index is not supported for floating point target (got ignore_index={ignore_index})"
            )
        _check_weight(weight, num_classes, "cross_entropy: ")
        _check_smoothing(label_smoothing)
        return apply(_CrossEntropyProb, input, target, weight, reduction, max(float(label_smoothing), 0.0))

    _check_index_target(input, target)
    _check_weight(weight, num_classes)
    if weight is not None:
        if weight.dtype != input.dtype:
            raise RuntimeError(
                f"cross_entropy(): expected weight of the input's dtype {input.dtype}, but found {weight.dtype}"
            )
        if weight.requires_grad and torch.is_grad_enabled():
            raise RuntimeError(
                "cross_entropy(): class-index targets are not differentiable with respect to 'weight'; "
                "this input cannot have requires_grad=True"
            )
    _check_smoothing(label_smoothing)
    if (
        weight is None
        and label_smoothing <= 0.0
        and input.dim() == 2
        and input.numel()
        and target.device.type == "cpu"
        and usable(input) is not None
    ):
        return apply(_CrossEntropyNative, input, target, reduction, int(ignore_index))
    may_ignore = _check_target_range(target, num_classes, ignore_index)
    if weight is None and not may_ignore and label_smoothing <= 0.0 and input.dim() == 2 and input.numel():
        return apply(_CrossEntropyPlain, input, target, reduction)
    return apply(
        _CrossEntropyIndex,
        input,
        target,
        weight,
        reduction,
        int(ignore_index),
        max(float(label_smoothing), 0.0),
        may_ignore,
    )
