"""``Parameter``: the tensor type a ``Module`` registers as trainable state."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch._C import _disabled_torch_function_impl, _TensorMeta


def _is_torch_parameter_type(cls: type) -> bool:
    """True for ``torch.nn.Parameter`` and its subclasses, recognised by name so that nothing is imported."""
    return any(c.__name__ == "Parameter" and c.__module__ == "torch.nn.parameter" for c in cls.__mro__)


class _ParameterMeta(_TensorMeta):
    # ``isinstance(t, Parameter)`` also holds for torch's own Parameter and for tensors flagged ``_is_param`` (how
    # torch marks parameters of custom tensor types), so a torch layer's weight can be tied into one of our modules.
    def __instancecheck__(cls, instance: Any) -> bool:
        if (
            cls is Parameter
            and isinstance(instance, torch.Tensor)
            and (getattr(instance, "_is_param", False) or _is_torch_parameter_type(type(instance)))
        ):
            return True
        return super().__instancecheck__(instance)


class Parameter(torch.Tensor, metaclass=_ParameterMeta):
    r"""A kind of Tensor that is to be considered a module parameter.

    Parameters are :class:`torch.Tensor` subclasses with one special property: assigned as an attribute of a
    :class:`~impl.nn.Module`, they are registered and show up in :meth:`~impl.nn.Module.parameters`. Assigning a
    plain tensor has no such effect, so temporaries (a cached hidden state, say) are never mistaken for weights.

    The tensor shares storage with ``data``; any operation on a Parameter returns a plain ``torch.Tensor``.
    Parameters work with torch autograd and with ``torch.optim`` unchanged, and ``torch.nn.Module`` accepts one as
    its own parameter (the class carries torch's ``_is_param`` flag).

    Args:
        data (Tensor, optional): parameter tensor. Default: ``torch.empty(0)``.
        requires_grad (bool, optional): if the parameter requires gradient. ``torch.no_grad()`` does not change
            this default. Default: ``True``.

    Example::

        >>> w = Parameter(torch.zeros(2, 3))
        >>> w.requires_grad, isinstance(w, torch.Tensor)
        (True, True)
    """

    # torch's Parameter metaclass treats any tensor with this flag as a torch Parameter.
    _is_param = True

    def __new__(cls, data: torch.Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = torch.empty(0)
        if type(data) is torch.Tensor or type(data) is Parameter or _is_torch_parameter_type(type(data)):
            # Shares data's storage: a detached alias re-wrapped as this class.
            return torch.Tensor._make_subclass(cls, data, requires_grad)

        # A custom tensor type (one with its own __torch_dispatch__) stays that type, flagged as a parameter.
        t = data.detach().requires_grad_(requires_grad)
        if type(t) is not type(data):
            raise RuntimeError(
                f"Creating a Parameter from an instance of type {type(data).__name__} requires that detach() returns "
                f"an instance of the same type, but return type {type(t).__name__} was found instead. To use the "
                "type as a Parameter, please correct the detach() semantics defined by its __torch_dispatch__() "
                "implementation."
            )
        t._is_param = True
        return t  # type: ignore[return-value]

    def __deepcopy__(self, memo: dict[int, Any]) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(memory_format=torch.preserve_format), self.requires_grad)
        memo[id(self)] = result
        return result

    def __repr__(self) -> str:  # type: ignore[override]
        # Printed through a plain alias so the body reads "tensor(...)" exactly as torch prints its Parameter.
        plain = self.detach().requires_grad_(self.requires_grad)
        return "Parameter containing:\n" + torch.Tensor.__repr__(plain)

    def __reduce_ex__(self, proto: Any) -> tuple[Any, ...]:
        state = torch._utils._get_obj_state(self)
        # Hooks are never serialized (as in torch): an empty OrderedDict stands in for them.
        hooks: OrderedDict[int, Any] = OrderedDict()
        if not state:
            return (_rebuild_parameter, (self.data, self.requires_grad, hooks))
        return (_rebuild_parameter_with_state, (self.data, self.requires_grad, hooks, state))

    __torch_function__ = _disabled_torch_function_impl  # type: ignore[assignment]


def _rebuild_parameter(data: torch.Tensor, requires_grad: bool, backward_hooks: OrderedDict[int, Any]) -> Parameter:
    param = Parameter(data, requires_grad)
    param._backward_hooks = backward_hooks
    return param


def _rebuild_parameter_with_state(
    data: torch.Tensor, requires_grad: bool, backward_hooks: OrderedDict[int, Any], state: Any
) -> Parameter:
    param = _rebuild_parameter(data, requires_grad, backward_hooks)
    return torch._utils._set_obj_state(param, state)
