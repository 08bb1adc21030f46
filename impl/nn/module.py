"""``Module``: the base class of every layer, with torch's registration, traversal and state_dict rules."""

from __future__ import annotations

import itertools
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar, Union

import torch
from torch.utils.hooks import RemovableHandle

from impl.nn.parameter import Parameter

__all__ = ["Module"]

T = TypeVar("T", bound="Module")

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"


class _IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns: the keys it expected but missed and those it did not expect."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys!r}, unexpected_keys={self.unexpected_keys!r})"

    def __str__(self) -> str:
        return self.__repr__()


def _addindent(s_: str, num_spaces: int) -> str:
    s = s_.split("\n")
    if len(s) == 1:
        return s_
    first = s.pop(0)
    # Blank lines stay empty rather than gaining trailing spaces.
    body = "\n".join((num_spaces * " ") + line if line.strip() else "" for line in s)
    return first + "\n" + body


def _is_module(obj: object) -> bool:
    """True for our modules and for ``torch.nn.Module`` instances (recognised by name, so nothing is imported).

    Accepting torch's modules as children lets a model built from our modules host a torch layer in one slot; every
    traversal below only uses the attributes and methods both classes share.
    """
    if isinstance(obj, Module):
        return True
    return any(c.__name__ == "Module" and c.__module__ == "torch.nn.modules.module" for c in type(obj).__mro__)


def _parse_to(
    *args: Any, **kwargs: Any
) -> tuple[torch.device | None, torch.dtype | None, bool, torch.memory_format | None]:
    """Parse the arguments of ``Module.to`` the way ``Tensor.to`` does: device, dtype, tensor, or keywords."""
    device: Any = kwargs.pop("device", None)
    dtype: torch.dtype | None = kwargs.pop("dtype", None)
    non_blocking: bool = kwargs.pop("non_blocking", False)
    memory_format: torch.memory_format | None = kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    rest = list(args)
    if rest:
        first = rest.pop(0)
        if isinstance(first, torch.Tensor):
            device, dtype = first.device, first.dtype
        elif isinstance(first, torch.dtype):
            dtype = first
        else:
            device = first
            if rest and isinstance(rest[0], torch.dtype):
                dtype = rest.pop(0)
        if rest:
            non_blocking = bool(rest.pop(0))
        if rest:
            raise TypeError(f"to() received {len(args)} positional arguments, expected at most 3")
    if device is not None and not isinstance(device, torch.device):
        device = torch.device(device)
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise TypeError(f"to() expected a torch.dtype, but got {type(dtype).__name__}")
    return device, dtype, non_blocking, memory_format


def _forward_unimplemented(self: Module, *input: Any) -> Any:
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')


class Module:
    r"""Base class for all neural network modules.

    Subclass it and assign layers, :class:`~impl.nn.Parameter` s and buffers as attributes in ``__init__``; they
    are registered automatically and reached by :meth:`parameters`, :meth:`state_dict`, :meth:`to`, :meth:`train`
    and the rest, in registration order. Calling the module runs :meth:`forward` (and any forward hooks).

    A ``torch.nn.Module`` may also be assigned as a child: it is traversed through the same methods, so one slot
    of a model can be served by torch's layer.

    Example::

        >>> class TwoLayer(Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.w1 = Parameter(torch.randn(4, 8))
        ...         self.register_buffer("scale", torch.ones(()))
        ...
        ...     def forward(self, x):  # x: (B, 8) -> (B, 4)
        ...         return (x @ self.w1.T) * self.scale
        >>> [name for name, _ in TwoLayer().named_parameters()]
        ['w1']

    Attributes:
        training (bool): whether the module is in training (``True``) or evaluation (``False``) mode.
    """

    dump_patches: bool = False
    _version: int = 1
    call_super_init: bool = False

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, torch.Tensor | None]
    _non_persistent_buffers_set: set[str]
    _modules: dict[str, Module | None]
    _forward_hooks: OrderedDict[int, Callable[..., Any]]
    _forward_hooks_with_kwargs: OrderedDict[int, bool]
    _forward_pre_hooks: OrderedDict[int, Callable[..., Any]]
    _forward_pre_hooks_with_kwargs: OrderedDict[int, bool]
    _state_dict_hooks: OrderedDict[int, Callable[..., Any]]
    _state_dict_pre_hooks: OrderedDict[int, Callable[..., Any]]
    _load_state_dict_pre_hooks: OrderedDict[int, Callable[..., Any]]
    _load_state_dict_post_hooks: OrderedDict[int, Callable[..., Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if self.call_super_init is False and kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got an unexpected keyword argument '{next(iter(kwargs))}'"
            )
        if self.call_super_init is False and args:
            raise TypeError(
                f"{type(self).__name__}.__init__() takes 1 positional argument but {len(args) + 1} were given"
            )
        # object.__setattr__ skips the registration logic of our own __setattr__.
        setattr_ = super().__setattr__
        setattr_("training", True)
        setattr_("_parameters", {})
        setattr_("_buffers", {})
        setattr_("_non_persistent_buffers_set", set())
        setattr_("_forward_hooks", OrderedDict())
        setattr_("_forward_hooks_with_kwargs", OrderedDict())
        setattr_("_forward_pre_hooks", OrderedDict())
        setattr_("_forward_pre_hooks_with_kwargs", OrderedDict())
        setattr_("_state_dict_hooks", OrderedDict())
        setattr_("_state_dict_pre_hooks", OrderedDict())
        setattr_("_load_state_dict_pre_hooks", OrderedDict())
        setattr_("_load_state_dict_post_hooks", OrderedDict())
        setattr_("_modules", {})
        if self.call_super_init:
            super().__init__(*args, **kwargs)

    forward: Callable[..., Any] = _forward_unimplemented

    # ------------------------------------------------------------------ registration

    def register_buffer(self, name: str, tensor: torch.Tensor | None, persistent: bool = True) -> None:
        r"""Add a buffer: module state that is not a parameter (a causal mask, running statistics).

        Args:
            name (str): attribute name of the buffer.
            tensor (Tensor or None): the buffer. ``None`` registers the name but leaves it out of the state_dict
                and of conversions such as :meth:`to`.
            persistent (bool): whether the buffer is part of :meth:`state_dict`. Default: ``True``.

        Example::

            >>> class Causal(Module):
            ...     def __init__(self):
            ...         super().__init__()
            ...         self.register_buffer("mask", torch.ones(8, 8).tril(), persistent=False)
            >>> m = Causal()
            >>> m.mask.shape, list(m.state_dict())  # not persistent: kept out of the state_dict
            (torch.Size([8, 8]), [])
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        elif not isinstance(name, str):
            raise TypeError(f"buffer name should be a string. Got {torch.typename(name)}")
        elif "." in name:
            raise KeyError('buffer name can\'t contain "."')
        elif name == "":
            raise KeyError('buffer name can\'t be empty string ""')
        elif hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        elif tensor is not None and not (isinstance(tensor, torch.Tensor) or hasattr(tensor, "__torch_function__")):
            raise TypeError(
                f"cannot assign '{torch.typename(tensor)}' object to buffer '{name}' (torch Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        r"""Add a parameter, reachable as the attribute ``name``.

        Args:
            name (str): attribute name of the parameter.
            param (Parameter or None): the parameter. ``None`` registers the name but leaves it out of the
                state_dict and of conversions such as :meth:`to`.
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        elif not isinstance(name, str):
            raise TypeError(f"parameter name should be a string. Got {torch.typename(name)}")
        elif "." in name:
            raise KeyError('parameter name can\'t contain "."')
        elif name == "":
            raise KeyError('parameter name can\'t be empty string ""')
        elif hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")

        if param is None:
            self._parameters[name] = None
        elif not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{torch.typename(param)}' object to parameter '{name}' "
                "(torch.nn.Parameter or None required)"
            )
        elif param.grad_fn:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created explicitly. "
                f"To express '{name}' as a function of another Tensor, compute the value in the forward() method."
            )
        else:
            self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        r"""Add a child module, reachable as the attribute ``name``.

        Args:
            name (str): attribute name of the child.
            module (Module or None): the child module.
        """
        if not _is_module(module) and module is not None:
            raise TypeError(f"{torch.typename(module)} is not a Module subclass")
        elif not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {torch.typename(name)}")
        elif hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        elif "." in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        elif name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    def register_module(self, name: str, module: Module | None) -> None:
        r"""Alias for :meth:`add_module`."""
        self.add_module(name, module)

    def get_submodule(self, target: str) -> Module:
        r"""Return the submodule at the dotted path ``target`` (``""`` is ``self``).

        Raises:
            AttributeError: if a step of the path does not exist or is not a module.
        """
        if target == "":
            return self
        mod: Any = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not _is_module(mod):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def get_parameter(self, target: str) -> Parameter:
        r"""Return the parameter at the dotted path ``target`` (e.g. ``"blocks.0.attn.weight"``).

        Raises:
            AttributeError: if the path does not exist or does not end at a Parameter.
        """
        module_path, _, param_name = target.rpartition(".")
        mod: Any = self.get_submodule(module_path)
        if not hasattr(mod, param_name):
            raise AttributeError(mod._get_name() + " has no attribute `" + param_name + "`")
        param = getattr(mod, param_name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + param_name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> torch.Tensor:
        r"""Return the buffer at the dotted path ``target``.

        Raises:
            AttributeError: if the path does not exist or does not end at a buffer.
        """
        module_path, _, buffer_name = target.rpartition(".")
        mod: Any = self.get_submodule(module_path)
        if not hasattr(mod, buffer_name):
            raise AttributeError(mod._get_name() + " has no attribute `" + buffer_name + "`")
        buffer = getattr(mod, buffer_name)
        if buffer_name not in mod._buffers:
            raise AttributeError("`" + buffer_name + "` is not a buffer")
        return buffer

    def get_extra_state(self) -> Any:
        r"""Return extra (non-tensor) state to store under ``<prefix>_extra_state``; override with
        :meth:`set_extra_state`."""
        raise RuntimeError("Module.get_extra_state() is only called when a subclass overrides it")

    def set_extra_state(self, state: Any) -> None:
        r"""Restore the extra state returned by :meth:`get_extra_state`."""
        raise RuntimeError("Module.set_extra_state() is only called when a subclass overrides it")

    # ------------------------------------------------------------------ attributes

    def __getattr__(self, name: str) -> Union[torch.Tensor, Module]:  # noqa: UP007
        # Reached only when normal lookup fails: registered state lives in the three dicts.
        if "_parameters" in self.__dict__:
            _parameters = self.__dict__["_parameters"]
            if name in _parameters:
                return _parameters[name]
        if "_buffers" in self.__dict__:
            _buffers = self.__dict__["_buffers"]
            if name in _buffers:
                return _buffers[name]
        if "_modules" in self.__dict__:
            modules = self.__dict__["_modules"]
            if name in modules:
                return modules[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        def remove_from(*dicts_or_sets: dict[str, Any] | set[str]) -> None:
            for d in dicts_or_sets:
                if name in d:
                    if isinstance(d, dict):
                        del d[name]
                    else:
                        d.discard(name)

        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(self.__dict__, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{torch.typename(value)}' as parameter '{name}' "
                    "(torch.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
        else:
            modules = self.__dict__.get("_modules")
            if _is_module(value):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                remove_from(self.__dict__, self._parameters, self._buffers, self._non_persistent_buffers_set)
                modules[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(
                        f"cannot assign '{torch.typename(value)}' as child module '{name}' "
                        "(torch.nn.Module or None expected)"
                    )
                modules[name] = value
            else:
                buffers = self.__dict__.get("_buffers")
                if buffers is not None and name in buffers:
                    if value is not None and not (
                        isinstance(value, torch.Tensor) or hasattr(value, "__torch_function__")
                    ):
                        raise TypeError(
                            f"cannot assign '{torch.typename(value)}' as buffer '{name}' "
                            "(torch.nn.Buffer, torch.Tensor or None expected)"
                        )
                    self.register_buffer(name, value, name not in self._non_persistent_buffers_set)
                else:
                    super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            super().__delattr__(name)

    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__.copy()

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __dir__(self) -> list[str]:
        module_attrs = dir(self.__class__)
        attrs = list(self.__dict__.keys())
        parameters = list(self._parameters.keys())
        modules = list(self._modules.keys())
        buffers = list(self._buffers.keys())
        keys = module_attrs + attrs + parameters + modules + buffers
        # Names such as "0" (ModuleList entries) are not valid identifiers.
        return sorted(key for key in keys if not key[0].isdigit())

    # ------------------------------------------------------------------ calling

    def register_forward_pre_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        r"""Register ``hook(module, args) -> None | new_args`` to run before :meth:`forward`.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs) -> None | (new_args, new_kwargs)``.

        Returns:
            :class:`torch.utils.hooks.RemovableHandle`: call ``handle.remove()`` to unregister.
        """
        handle = RemovableHandle(self._forward_pre_hooks, extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(
        self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        r"""Register ``hook(module, args, output) -> None | new_output`` to run after :meth:`forward`.

        With ``with_kwargs=True`` the hook is ``hook(module, args, kwargs, output)``.

        Returns:
            :class:`torch.utils.hooks.RemovableHandle`: call ``handle.remove()`` to unregister.
        """
        handle = RemovableHandle(self._forward_hooks, extra_dict=self._forward_hooks_with_kwargs)
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def _call_impl(self, *args: Any, **kwargs: Any) -> Any:
        if not (self._forward_hooks or self._forward_pre_hooks):
            return self.forward(*args, **kwargs)
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                args_kwargs_result = hook(self, args, kwargs)
                if args_kwargs_result is not None:
                    if isinstance(args_kwargs_result, tuple) and len(args_kwargs_result) == 2:
                        args, kwargs = args_kwargs_result
                    else:
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple "
                            f"of (new_args, new_kwargs), but got {args_kwargs_result}."
                        )
            else:
                args_result = hook(self, args)
                if args_result is not None:
                    args = args_result if isinstance(args_result, tuple) else (args_result,)
        result = self.forward(*args, **kwargs)
        for hook_id, hook in list(self._forward_hooks.items()):
            if hook_id in self._forward_hooks_with_kwargs:
                hook_result = hook(self, args, kwargs, result)
            else:
                hook_result = hook(self, args, result)
            if hook_result is not None:
                result = hook_result
        return result

    __call__: Callable[..., Any] = _call_impl

    # ------------------------------------------------------------------ traversal

    def _named_members(
        self,
        get_members_fn: Callable[[Any], Any],
        prefix: str = "",
        recurse: bool = True,
        remove_duplicate: bool = True,
    ) -> Iterator[tuple[str, Any]]:
        memo: set[Any] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members_fn(module):
                if v is None or v in memo:
                    continue
                if remove_duplicate:
                    memo.add(v)
                name = module_prefix + ("." if module_prefix else "") + k
                yield name, v

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        r"""Iterate over the parameters (each shared one once), in registration order, depth first.

        Args:
            recurse (bool): include the parameters of all submodules. Default: ``True``.
        """
        for _name, param in self.named_parameters(recurse=recurse):
            yield param

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        r"""Iterate over ``(dotted_name, parameter)`` pairs.

        Args:
            prefix (str): prepended (with a dot) to every name.
            recurse (bool): include submodules. Default: ``True``.
            remove_duplicate (bool): yield a parameter shared by several modules (a tied weight) only under its
                first name. Default: ``True``.

        Example::

            >>> from impl.nn import Linear, Sequential
            >>> [n for n, _ in Sequential(Linear(2, 3)).named_parameters()]
            ['0.weight', '0.bias']
        """
        yield from self._named_members(
            lambda module: module._parameters.items(), prefix=prefix, recurse=recurse, remove_duplicate=remove_duplicate
        )

    def buffers(self, recurse: bool = True) -> Iterator[torch.Tensor]:
        r"""Iterate over the buffers (persistent or not), in registration order, depth first."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, torch.Tensor]]:
        r"""Iterate over ``(dotted_name, buffer)`` pairs; arguments as in :meth:`named_parameters`."""
        yield from self._named_members(
            lambda module: module._buffers.items(), prefix=prefix, recurse=recurse, remove_duplicate=remove_duplicate
        )

    def children(self) -> Iterator[Module]:
        r"""Iterate over the immediate child modules."""
        for _name, module in self.named_children():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        r"""Iterate over ``(name, child)`` for the immediate children, each module once."""
        memo: set[Any] = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def modules(self, remove_duplicate: bool = True) -> Iterator[Module]:
        r"""Iterate over all modules of the tree, ``self`` first, depth first."""
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_modules(
        self, memo: set[Any] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        r"""Iterate over ``(dotted_name, module)`` for the whole tree, ``("", self)`` first, depth first.

        Args:
            memo (set, optional): modules already yielded (used by the recursion).
            prefix (str): prepended (with a dot) to every name.
            remove_duplicate (bool): yield a module reachable by several paths only once. Default: ``True``.
        """
        if memo is None:
            memo = set()
        if self not in memo:
            if remove_duplicate:
                memo.add(self)
            yield prefix, self
            for name, module in self._modules.items():
                if module is None:
                    continue
                submodule_prefix = prefix + ("." if prefix else "") + name
                yield from module.named_modules(memo, submodule_prefix, remove_duplicate)

    # ------------------------------------------------------------------ modes and gradients

    def train(self: T, mode: bool = True) -> T:
        r"""Set training mode (``mode=True``) or evaluation mode on this module and all descendants.

        Returns:
            Module: self
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self: T) -> T:
        r"""Set evaluation mode; the same as ``self.train(False)``.

        Returns:
            Module: self
        """
        return self.train(False)

    def requires_grad_(self: T, requires_grad: bool = True) -> T:
        r"""Set ``requires_grad`` of every parameter in place (freeze with ``False``).

        Returns:
            Module: self
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        r"""Reset the gradients of all parameters: to ``None`` (default) or, in place, to zeros.

        Args:
            set_to_none (bool): drop the gradient tensors instead of zeroing them. Default: ``True``.
        """
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    p.grad.zero_()

    def apply(self: T, fn: Callable[[Module], None]) -> T:
        r"""Call ``fn`` on every submodule (children first, recursively) and then on ``self``.

        Typical use is weight initialisation.

        Example::

            >>> from impl.nn import Linear, Sequential, init
            >>> def init_weights(m):
            ...     if isinstance(m, Linear):
            ...         init.normal_(m.weight, std=0.02)
            >>> model = Sequential(Linear(64, 64), Linear(64, 64)).apply(init_weights)
            >>> round(model[1].weight.std().item(), 2)
            0.02

        Returns:
            Module: self
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ conversion

    def _apply(self: T, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True) -> T:
        if recurse:
            for module in self.children():
                module._apply(fn)

        for key, param in self._parameters.items():
            if param is None:
                continue
            with torch.no_grad():
                param_applied = fn(param)
            # Where the storage type allows, the converted data is swapped into the existing Parameter (`p.data =`)
            # so that optimizers and tied weights holding it keep seeing the same object.
            p_should_use_set_data = torch._has_compatible_shallow_copy_type(param, param_applied)
            param_grad = param.grad
            out_param: Parameter
            if p_should_use_set_data:
                param.data = param_applied
                out_param = param
            else:
                out_param = Parameter(param_applied, param.requires_grad)
                self._parameters[key] = out_param

            if param_grad is not None:
                with torch.no_grad():
                    grad_applied = fn(param_grad)
                if torch._has_compatible_shallow_copy_type(param_grad, grad_applied):
                    assert out_param.grad is not None
                    out_param.grad.data = grad_applied
                else:
                    out_param.grad = grad_applied.requires_grad_(param_grad.requires_grad)

        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def to(self: T, *args: Any, **kwargs: Any) -> T:
        r"""Move and/or cast parameters and buffers in place.

        Called as ``to(device=None, dtype=None, non_blocking=False)``, ``to(dtype)``, ``to(tensor)`` (the tensor's
        device and dtype) or ``to(memory_format=...)``. Only floating point and complex tensors change dtype;
        integer buffers only move. Parameters keep their identity.

        Example::

            >>> from impl.nn import Linear
            >>> model = Linear(4, 2).to(torch.float64)
            >>> model.weight.dtype
            torch.float64
            >>> model.to("cpu", torch.bfloat16).weight.dtype  # a device and a dtype: "cuda" on a GPU
            torch.bfloat16

        Returns:
            Module: self
        """
        device, dtype, non_blocking, convert_to_format = _parse_to(*args, **kwargs)
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}"
            )

        def convert(t: torch.Tensor) -> torch.Tensor:
            cast = dtype if t.is_floating_point() or t.is_complex() else None
            if convert_to_format is not None and t.dim() in (4, 5):
                return t.to(device, cast, non_blocking, memory_format=convert_to_format)
            return t.to(device, cast, non_blocking)

        return self._apply(convert)

    def cpu(self: T) -> T:
        r"""Move all parameters and buffers to the CPU. Returns self."""
        return self._apply(lambda t: t.cpu())

    def cuda(self: T, device: int | torch.device | None = None) -> T:
        r"""Move all parameters and buffers to a CUDA device. Returns self."""
        return self._apply(lambda t: t.cuda(device))

    def float(self: T) -> T:
        r"""Cast floating point parameters and buffers to ``float32``. Returns self."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self: T) -> T:
        r"""Cast floating point parameters and buffers to ``float64``. Returns self."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self: T) -> T:
        r"""Cast floating point parameters and buffers to ``float16``. Returns self."""
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self: T) -> T:
        r"""Cast floating point parameters and buffers to ``bfloat16``. Returns self."""
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    # ------------------------------------------------------------------ state_dict

    def _save_to_state_dict(self, destination: dict[str, Any], prefix: str, keep_vars: bool) -> None:
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if getattr(self.__class__, "get_extra_state", Module.get_extra_state) is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(
        self, *args: Any, destination: Any = None, prefix: str = "", keep_vars: bool = False
    ) -> dict[str, Any]:
        r"""Return the module's state: parameters and persistent buffers, by dotted name.

        Keys come in torch's order: this module's parameters, then its persistent buffers, then each child's
        entries (recursively) in registration order. ``None`` entries are left out. Tensors are detached
        (they share storage with the module) unless ``keep_vars``. The result is an ``OrderedDict`` carrying a
        ``_metadata`` attribute (``{module_prefix: {"version": ...}}``) as torch's does.

        Args:
            destination (dict, optional): filled in and returned instead of a new ``OrderedDict``.
            prefix (str): prepended to every key. Default: ``""``.
            keep_vars (bool): return the Parameters themselves instead of detached tensors. Default: ``False``.

        Example::

            >>> from impl.nn import Linear, Sequential
            >>> list(Sequential(Linear(2, 3)).state_dict())
            ['0.weight', '0.bias']
        """
        if args:
            warnings.warn(
                "Positional args are being deprecated, use kwargs instead.",
                FutureWarning,
                stacklevel=2,
            )
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]

        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()

        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata

        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            hook_result = hook(self, destination, prefix, local_metadata)
            if hook_result is not None:
                raise RuntimeError("state_dict post-hook must return None")
        return destination

    def register_state_dict_post_hook(self, hook: Callable[..., None]) -> RemovableHandle:
        r"""Register ``hook(module, state_dict, prefix, local_metadata) -> None``, run after :meth:`state_dict`
        filled in this module's entries; it may edit ``state_dict`` in place."""
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    def register_state_dict_pre_hook(self, hook: Callable[..., None]) -> RemovableHandle:
        r"""Register ``hook(module, prefix, keep_vars) -> None``, run before :meth:`state_dict`."""
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def register_load_state_dict_post_hook(self, hook: Callable[..., None]) -> RemovableHandle:
        r"""Register ``hook(module, incompatible_keys) -> None``, run after :meth:`load_state_dict` loaded this
        module; it may edit ``incompatible_keys.missing_keys`` / ``unexpected_keys`` in place."""
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

        persistent_buffers = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local_name_params = itertools.chain(self._parameters.items(), persistent_buffers.items())
        local_state = {k: v for k, v in local_name_params if v is not None}
        assign_to_params_buffers = local_metadata.get("assign_to_params_buffers", False)

        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            input_param = state_dict[key]
            if not torch.overrides.is_tensor_like(input_param):
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like object from '
                    f"checkpoint but received {type(input_param)}"
                )
                continue
            # Checkpoints from torch 0.3 stored scalars as shape (1,).
            if len(param.shape) == 0 and len(input_param.shape) == 1 and input_param.shape[0] == 1:
                input_param = input_param[0]
            if input_param.shape != param.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {input_param.shape} from checkpoint, "
                    f"the shape in current model is {param.shape}."
                )
                continue
            try:
                with torch.no_grad():
                    if assign_to_params_buffers:
                        if isinstance(param, Parameter):
                            if not isinstance(input_param, Parameter):
                                input_param = Parameter(input_param, requires_grad=param.requires_grad)
                            else:
                                input_param.requires_grad_(param.requires_grad)
                        setattr(self, name, input_param)
                    else:
                        param.copy_(input_param)
            except Exception as ex:
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model are {param.size()} '
                    f"and whose dimensions in the checkpoint are {input_param.size()}, an exception occurred : "
                    f"{ex.args}."
                )

        extra_state_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if getattr(self.__class__, "set_extra_state", Module.set_extra_state) is not Module.set_extra_state:
            if extra_state_key in state_dict:
                self.set_extra_state(state_dict[extra_state_key])
            elif strict:
                missing_keys.append(extra_state_key)
        elif strict and (extra_state_key in state_dict):
            unexpected_keys.append(extra_state_key)

        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_state_key:
                    input_name = key[len(prefix) :].split(".", 1)
                    # A dotted remainder must belong to a child module.
                    if len(input_name) > 1:
                        if input_name[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif input_name[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        r"""Copy parameters and persistent buffers from ``state_dict`` into this module and its descendants.

        Tensors are copied in place under ``torch.no_grad()`` (so Parameters keep their identity, dtype and
        device) unless ``assign``, which stores the given tensors themselves (wrapped as Parameters, keeping the
        module's ``requires_grad``).

        Args:
            state_dict (Mapping): as returned by :meth:`state_dict` (ours or torch's).
            strict (bool): require the keys to match :meth:`state_dict` exactly. Default: ``True``.
            assign (bool): assign instead of copying. Default: ``False``.

        Returns:
            NamedTuple ``(missing_keys, unexpected_keys)``: lists of keys (filled only when ``strict``).

        Raises:
            RuntimeError: listing the missing and unexpected keys (when ``strict``) and every shape mismatch,
                naming the key, the checkpoint's shape and the model's shape.

        Example::

            >>> from impl.nn import Linear
            >>> model = Linear(4, 2)
            >>> model.load_state_dict(Linear(4, 2).state_dict())  # or a torch.nn.Linear's: the layout is torch's
            <All keys matched successfully>
            >>> model.load_state_dict({"weight": torch.zeros(2, 4)}, strict=False)
            _IncompatibleKeys(missing_keys=['bias'], unexpected_keys=[])
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")

        missing_keys: list[str] = []
        unexpected_keys: list[str] = []
        error_msgs: list[str] = []

        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata  # type: ignore[attr-defined]

        def load(module: Any, local_state_dict: dict[str, Any], prefix: str = "") -> None:
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            if assign:
                local_metadata["assign_to_params_buffers"] = assign
            module._load_from_state_dict(
                local_state_dict, prefix, local_metadata, True, missing_keys, unexpected_keys, error_msgs
            )
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state_dict = {k: v for k, v in local_state_dict.items() if k.startswith(child_prefix)}
                    load(child, child_state_dict, child_prefix)
            incompatible_keys = _IncompatibleKeys(missing_keys, unexpected_keys)
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, incompatible_keys) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not expected to return new "
                        "values, if incompatible_keys need to be modified, it should be done inplace."
                    )

        load(self, state_dict)

        if strict:
            if unexpected_keys:
                error_msgs.insert(
                    0, "Unexpected key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in unexpected_keys))
                )
            if missing_keys:
                error_msgs.insert(
                    0, "Missing key(s) in state_dict: {}. ".format(", ".join(f'"{k}"' for k in missing_keys))
                )
        if error_msgs:
            raise RuntimeError(
                "Error(s) in loading state_dict for {}:\n\t{}".format(self.__class__.__name__, "\n\t".join(error_msgs))
            )
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # ------------------------------------------------------------------ printing

    def _get_name(self) -> str:
        return self.__class__.__name__

    def extra_repr(self) -> str:
        r"""The module's own settings for :meth:`__repr__` (e.g. ``"in_features=2, out_features=3, bias=True"``);
        override in subclasses. One line or several."""
        return ""

    def __repr__(self) -> str:
        # The extra repr is laid out like a child, one item per line.
        extra_lines: list[str] = []
        extra_repr = self.extra_repr()
        if extra_repr:
            extra_lines = extra_repr.split("\n")
        child_lines = []
        for key, module in self._modules.items():
            mod_str = _addindent(repr(module), 2)
            child_lines.append("(" + key + "): " + mod_str)
        lines = extra_lines + child_lines

        main_str = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main_str += extra_lines[0]
            else:
                main_str += "\n  " + "\n  ".join(lines) + "\n"
        return main_str + ")"
