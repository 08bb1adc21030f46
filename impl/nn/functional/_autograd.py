"""Small helpers shared by the hand-written autograd Functions."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any, TypeVar

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

F = TypeVar("F", bound=Callable[..., Any])


def once_differentiable_fast(fn: F) -> F:
    """``torch.autograd.function.once_differentiable`` without its cost in the usual case: a backward pass without
    ``create_graph`` already runs with gradients disabled, so the body is called directly; with ``create_graph`` the
    outputs still refuse a second differentiation (the saved buffers are constants to autograd)."""
    guarded = once_differentiable(fn)

    @wraps(fn)
    def wrapper(ctx: Any, *args: Any) -> Any:
        return guarded(ctx, *args) if torch.is_grad_enabled() else fn(ctx, *args)

    return wrapper  # type: ignore[return-value]


def graph_kept() -> bool:
    """Whether the running backward pass keeps the graph (``retain_graph``): saved buffers must then stay intact.

    Without the query (another torch version), assume it does: a fresh buffer is always safe."""
    keep_graph = getattr(torch._C._autograd, "_get_current_graph_task_keep_graph", None)
    return True if keep_graph is None else bool(keep_graph())


def broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether a tensor of ``shape`` broadcasts to ``target`` unchanged: ``torch.broadcast_shapes(shape, target) ==
    target``, without its ~20 us of Python (as long as the whole GEMM of a small layer)."""
    lead = len(target) - len(shape)  # the dimensions broadcasting would add in front of shape
    return lead >= 0 and all(s in (1, t) for s, t in zip(shape, target[lead:], strict=True))


@cache
def scalar(value: float, dtype: torch.dtype, device: torch.device) -> Tensor:
    """A 0-dim tensor: the fused ops take a tensor where a constant is added. It lives on the device of the tensors
    it meets: a ternary op (``addcmul``) or a GEMM (``baddbmm``) refuses a CPU one beside CUDA tensors, or allocates
    its result on the CPU."""
    return torch.tensor(value, dtype=dtype, device=device)


class _NoGraph:
    """The ``ctx`` a Function's forward gets when it runs outside autograd: it records nothing."""

    def __init__(self, n_inputs: int) -> None:
        self.needs_input_grad = (False,) * n_inputs

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        pass

    def mark_dirty(self, *tensors: Tensor) -> None:
        pass


# The C entry point under ``Function.apply``. The Python wrapper around it binds default arguments (only for a
# Function with ``setup_context``; ours have none) and walks the arguments for functorch's dead wrappers, which
# costs several microseconds a call, more than many ops at GPT shapes take.
_C_APPLY = torch._C._FunctionBase.__dict__["apply"]


def apply(function: type[torch.autograd.Function], *args: Any) -> Any:
    """``function.apply(*args)``, or only its forward pass when no tensor argument needs a gradient (inference,
    evaluation, decoding): building an autograd node costs more than the arithmetic at decoding shapes."""
    if torch.is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad for a in args):
        if torch._C._are_functorch_transforms_active():  # vmap, grad, ...: through torch's full path
            return function.apply(*args)
        return _C_APPLY.__get__(None, function)(*args)
    return function.forward(_NoGraph(len(args)), *args)
