"""``Optimizer``: parameter groups, per-parameter state, and a state_dict in torch's exact format."""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from copy import deepcopy
from itertools import chain
from typing import Any, ClassVar

import torch

__all__ = ["Optimizer", "required"]

StateDict = dict[str, Any]


class _RequiredParameter:
    """Marks a default that every parameter group must set itself."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    r"""Base class for optimizers.

    Holds ``param_groups`` (a list of dicts, each with ``"params"`` and its own hyper-parameters, the rest
    filled from ``defaults``) and ``state`` (a ``defaultdict(dict)`` keyed by parameter tensor). Subclasses
    implement :meth:`step`.

    :meth:`state_dict` packs parameters as integer indices (their position across all groups), in exactly
    torch's layout, so a state saved by this class loads into the matching ``torch.optim`` optimizer and back.

    Args:
        params (iterable): tensors to optimise, ``(name, tensor)`` pairs, or dicts defining parameter groups.
            Use an ordered collection (not a set) so that state maps back to the same tensors.
        defaults (dict): default hyper-parameters for the groups.

    Example::

        >>> from impl.nn import Linear
        >>> from impl.optim import AdamW
        >>> model = Linear(4, 2)
        >>> decay, no_decay = [model.weight], [model.bias]  # decay on matrices only, as GPT training does
        >>> opt = AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}])
        >>> opt.param_groups[1]["lr"]
        0.001
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, torch.Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                + torch.typename(params)
            )
        self.state: defaultdict[Any, Any] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    #: Group settings that pickles of older versions may lack, with the value they then take.
    _group_setdefaults: ClassVar[dict[str, Any]] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for key, value in self._group_setdefaults.items():
                group.setdefault(key, value)

    def __repr__(self) -> str:
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        r"""Add a parameter group (a dict with ``"params"`` and optional hyper-parameters).

        Raises:
            TypeError: if the group is not a dict, its params are a set, or one of them is not a tensor.
            ValueError: for a non-leaf tensor, a missing required hyper-parameter, a parameter already in another
                group, or names given for some parameters only.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, torch.Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of tensors in "
                "sets will change between runs. Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        extracted_param_tensors = []
        extracted_param_names = []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                extracted_param_names.append(param[0])
                extracted_param_tensors.append(param[1])
            else:
                extracted_param_tensors.append(param)
        param_group["params"] = extracted_param_tensors
        if extracted_param_names:
            if len(extracted_param_names) == len(extracted_param_tensors):
                param_group["param_names"] = extracted_param_names
            else:
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")

        for param in param_group["params"]:
            if not isinstance(param, torch.Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is " + torch.typename(param)
                )
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will cause an "
                "error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )

        param_set: set[torch.Tensor] = set()
        for group in self.param_groups:
            param_set.update(set(group["params"]))
            if ("param_names" in param_group) != ("param_names" in group):
                current_group_txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {current_group_txt} to the optimizer"
                )
        if not param_set.isdisjoint(set(param_group["params"])):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        r"""Reset the gradients of all optimised tensors: to ``None`` (default) or, in place, to zeros.

        Args:
            set_to_none (bool): drop the gradient tensors instead of zeroing them. With ``None`` gradients an
                optimizer skips the parameter, whereas a zero gradient still takes a step (decay, momentum).
        """
        zero_groups: dict[tuple[torch.device, torch.dtype], list[torch.Tensor]] = defaultdict(list)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                if p.grad.is_sparse:
                    p.grad.zero_()
                else:
                    zero_groups[(p.grad.device, p.grad.dtype)].append(p.grad)
        for grads in zero_groups.values():
            torch._foreach_zero_(grads)

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        r"""Perform one optimisation step (implemented by subclasses)."""
        raise NotImplementedError

    @staticmethod
    def _loss_of(closure: Callable[[], float] | None) -> float | None:
        """What a step's ``closure`` returns, evaluated with gradients on (a step runs under ``no_grad``)."""
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()

    def state_dict(self) -> StateDict:
        r"""Return the optimizer state as ``{"state": {index: {...}}, "param_groups": [{..., "params": [index]}]}``.

        Each parameter is replaced by its position counted across all groups in order; ``state`` holds the
        per-parameter dicts (the live tensors, not copies) under those indices. The layout is torch's, so the
        result loads into the matching ``torch.optim`` optimizer.

        Example::

            >>> from impl.nn import Linear
            >>> from impl.optim import AdamW
            >>> model = Linear(4, 2)
            >>> opt = AdamW([{"params": [model.weight]}, {"params": [model.bias], "weight_decay": 0.0}])
            >>> sd = opt.state_dict()
            >>> [group["params"] for group in sd["param_groups"]]  # counted across the groups
            [[0], [1]]
        """
        param_mappings: dict[int, int] = {}
        start_index = 0

        def pack_group(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update(
                {id(p): i for i, p in enumerate(group["params"], start_index) if id(p) not in param_mappings}
            )
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, torch.Tensor) else k): v for k, v in self.state.items()}
        return {"state": packed_state, "param_groups": param_groups}

    @staticmethod
    def _process_value_according_to_param_policy(
        param: torch.Tensor, value: torch.Tensor, param_id: int, param_groups: list[dict[str, Any]], key: Hashable
    ) -> torch.Tensor:
        # Floating point state follows the parameter's dtype and device; "step" stays as saved (a CPU scalar),
        # except for capturable/fused groups, which keep it as float32 on the parameter's device.
        fused = False
        capturable = False
        for pg in param_groups:
            if param_id in pg["params"]:
                fused = pg.get("fused", False)
                capturable = pg.get("capturable", False)
                break
        if key == "step":
            if capturable or fused:
                return value.to(dtype=torch.float32, device=param.device)
            return value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)

    def load_state_dict(self, state_dict: StateDict) -> None:
        r"""Load a state produced by :meth:`state_dict` (ours or torch's).

        Parameter groups are matched by position and must hold as many parameters as ours; their
        hyper-parameters are deep-copied in. State tensors are cast to their parameter's dtype and device
        (``Tensor.to``, which returns the very tensor when nothing changes), except ``"step"``.

        Raises:
            ValueError: if the number of groups or the size of a group differs.
        """
        state_dict = state_dict.copy()
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])

        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        param_lens = (len(g["params"]) for g in groups)
        saved_lens = (len(g["params"]) for g in saved_groups)
        if any(p_len != s_len for p_len, s_len in zip(param_lens, saved_lens, strict=True)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )

        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
                strict=True,
            )
        )

        def _cast(
            param: torch.Tensor, value: Any, param_id: int, param_groups: list[dict[str, Any]], key: Any = None
        ) -> Any:
            if isinstance(value, torch.Tensor):
                return Optimizer._process_value_according_to_param_policy(param, value, param_id, param_groups, key)
            if isinstance(value, dict):
                return {k: _cast(param, v, param_id, param_groups, key=k) for k, v in value.items()}
            if isinstance(value, Iterable) and not isinstance(value, str):
                return type(value)(_cast(param, v, param_id, param_groups) for v in value)  # type: ignore[call-arg]
            return value

        state: defaultdict[Any, Any] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = _cast(param, v, param_id=k, param_groups=state_dict["param_groups"])
            else:
                # State not tied to a parameter is kept as is.
                state[k] = v

        def update_group(group: dict[str, Any], new_group: dict[str, Any]) -> dict[str, Any]:
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups, strict=True)]
        self.__setstate__({"state": state, "param_groups": param_groups})
