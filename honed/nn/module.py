"""``Module``: the base class of layers and models.

A module finds its parameters and sub-modules by walking its attributes (no registration
call): a :class:`~honed.autograd.Parameter` attribute is a parameter, a ``Module`` attribute
(or a list, tuple or dict of them) is a child. Buffers, the non-learned state such as batch
norm's running averages, are plain ndarrays declared with :meth:`Module.register_buffer`.

Every concrete module subclass is also registered by class name, so that a saved architecture
(``{"class": ..., "config": ...}``, see :func:`module_spec` / :func:`build_module`) can be
rebuilt without user code.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import numpy as np

from honed.autograd import Parameter

#: class name -> Module subclass, filled by ``Module.__init_subclass__``.
MODULE_REGISTRY: dict[str, type[Module]] = {}


class Module:
    """Base class for layers and models.

    Subclasses define ``forward`` and, to be saveable, ``to_config()`` (the constructor's
    keyword arguments as JSON-able values). Calling the module runs ``forward``.

    Attributes:
        training: True in training mode (dropout active, batch norm uses batch statistics),
            False after :meth:`eval`. A flag on each module, set recursively, not a global.
    """

    # Class-level defaults so a subclass that forgets ``super().__init__()`` still works.
    training: bool = True
    _buffer_names: tuple[str, ...] = ()
    #: attribute names of the parameters that weight penalties apply to (weights, not biases
    #: nor batch norm's γ, β).
    _regularized: tuple[str, ...] = ()
    #: The ops ``forward`` runs depend only on the input's shape and the module's settings,
    #: never on the data's values (no Python ``if`` on them): a Trainer may then record one
    #: step and replay it (``honed.train.capture``). Declared by each class itself, not
    #: inherited; a module that does not declare it makes the Trainer run eagerly.
    capturable: bool = False
    #: P on every module of a stacked model (:mod:`honed.nn.members`), None on a standalone one.
    members: int | None = None
    #: Settings that may differ between the members of a stacked model, stacked one value
    #: per member (numbers as a (P,) array, other values as a list of P): ``Dropout``'s
    #: ``keep_prob`` and ``rng``. Every other plain setting must agree between the members.
    member_settings: tuple[str, ...] = ()
    #: A member model may lack this module (it then acts as the identity for that member):
    #: ``mlp`` builds no ``Dropout`` at keep_prob 1. Only for modules without parameters.
    member_optional: bool = False
    #: Plain settings that only shape the initial parameters, so they may differ between
    #: members (each member's own parameters are stacked).
    member_free: tuple[str, ...] = ("init", "scale", "seed")

    def __init__(self) -> None:
        self.training = True

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        MODULE_REGISTRY[cls.__name__] = cls

    # -- calling ------------------------------------------------------------------------
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- buffers ------------------------------------------------------------------------
    def register_buffer(self, name: str, array) -> None:
        """Declare ``name`` a buffer: an ndarray saved in ``state_dict`` and cast by ``to``,
        but with no gradient and never touched by an optimizer."""
        self.__dict__[name] = np.asarray(array)
        if name not in self._buffer_names:
            self._buffer_names = tuple(self._buffer_names) + (name,)

    # -- walking the tree ---------------------------------------------------------------
    def _own_items(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of attributes that are Parameters or Modules, containers unrolled."""
        for name, value in self.__dict__.items():
            if isinstance(value, (Parameter, Module)):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Parameter, Module)):
                        yield f"{name}.{i}", item
            elif isinstance(value, dict):
                for key, item in value.items():
                    if isinstance(item, (Parameter, Module)):
                        yield f"{name}.{key}", item

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, value in self._own_items():
            if isinstance(value, Module):
                yield name, value

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (name ``prefix``) and all descendants, depth first, each once."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{n}" if name else n, c) for n, c in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def _own_parameters(self) -> Iterator[tuple[str, Parameter]]:
        for name, value in self._own_items():
            if isinstance(value, Parameter):
                yield name, value

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ``layers.0.W``; a shared parameter once."""
        seen: set[int] = set()
        for mod_name, module in self.named_modules(prefix):
            for name, p in module._own_parameters():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self) -> list[Parameter]:
        """All parameters, in a stable order (the order of ``named_parameters``)."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for mod_name, module in self.named_modules(prefix):
            for name in module._buffer_names:
                yield (f"{mod_name}.{name}" if mod_name else name), getattr(module, name)

    def buffers(self) -> list[np.ndarray]:
        return [b for _, b in self.named_buffers()]

    def named_weights(self) -> Iterator[tuple[str, Parameter]]:
        """The parameters that weight penalties (L1, L2) apply to: weight matrices only."""
        for mod_name, module in self.named_modules():
            for attr in module._regularized:
                p = getattr(module, attr, None)
                if isinstance(p, Parameter):
                    yield (f"{mod_name}.{attr}" if mod_name else attr), p

    # -- modes and gradients ------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every descendant; returns self."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: dropout off, batch norm uses its running averages."""
        return self.train(False)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def penalty(self, l1: float = 0.0, l2: float = 0.0, m: int | None = None):
        """Weight penalty ``λ₂/(2m) Σ‖W‖²_F + λ₁/m Σ|W|`` over the weight matrices.

        See :func:`honed.nn.regularizers.penalty`; add it to the mean loss:
        ``J = loss + model.penalty(l2=0.1, m=len(x))``.
        """
        from honed.nn.regularizers import penalty

        return penalty(self, l1=l1, l2=l2, m=m)

    # -- state --------------------------------------------------------------------------
    def _slots(self) -> OrderedDict[str, tuple[Module, str, bool]]:
        """Full name -> (owning module, attribute, is_parameter) for params and buffers."""
        slots: OrderedDict[str, tuple[Module, str, bool]] = OrderedDict()
        seen: set[int] = set()
        for mod_name, module in self.named_modules():
            for name, p in module._own_parameters():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                slots[f"{mod_name}.{name}" if mod_name else name] = (module, name, True)
            for name in module._buffer_names:
                slots[f"{mod_name}.{name}" if mod_name else name] = (module, name, False)
        return slots

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Name -> a copy of every parameter's and buffer's values."""
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        for name, (module, attr, is_param) in self._slots().items():
            value = _resolve(module, attr)
            out[name] = np.array(value.data if is_param else value, copy=True)
        return out

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy values from ``state`` into the parameters and buffers, keeping their dtypes.

        Raises:
            ValueError: if a key is missing or unexpected (when ``strict``), or a shape
                differs; the message names the key and the layer that owns it. Nothing is
                changed when it raises.
        """
        slots = self._slots()
        missing = [k for k in slots if k not in state]
        unexpected = [k for k in state if k not in slots]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(
                    "missing keys: "
                    + ", ".join(f"{k} (in {self._describe(slots[k][0])})" for k in missing)
                )
            if unexpected:
                parts.append("unexpected keys: " + ", ".join(unexpected))
            raise ValueError("state_dict does not match the model; " + "; ".join(parts))
        for key, (module, attr, is_param) in slots.items():
            if key not in state:
                continue
            current = _resolve(module, attr)
            current = current.data if is_param else current
            value = np.asarray(state[key])
            if value.shape != current.shape:
                raise ValueError(
                    f"shape mismatch for {key} in layer {self._describe(module)}: "
                    f"saved {value.shape}, model has {current.shape}"
                )
        for key, (module, attr, is_param) in slots.items():
            if key not in state:
                continue
            target = _resolve(module, attr)
            if is_param:
                target.data = np.array(state[key], dtype=target.data.dtype, copy=True)
                target.grad = None
            else:
                _assign(module, attr, np.array(state[key], dtype=target.dtype, copy=True))

    def _describe(self, module: Module) -> str:
        for name, mod in self.named_modules():
            if mod is module:
                label = name or "<root>"
                return f"{label!r} ({module._short_repr()})"
        return module._short_repr()  # pragma: no cover

    def to(self, dtype) -> Module:
        """Cast every parameter and buffer to ``dtype`` in place (e.g. ``np.float64`` for
        gradient checking); gradients are cleared. Returns self."""
        dtype = np.dtype(dtype)
        for module, attr, is_param in self._slots().values():
            target = _resolve(module, attr)
            if is_param:
                target.data = target.data.astype(dtype, copy=False)
                target.grad = None
            else:
                _assign(module, attr, target.astype(dtype, copy=False))
        return self

    astype = to

    def num_parameters(self) -> int:
        return int(sum(p.data.size for p in self.parameters()))

    def summary(self, input_shape=None) -> str:
        """A Keras-style table: layer, output shape, parameters (see :mod:`honed.nn.summary`)."""
        from honed.nn.summary import summary

        return summary(self, input_shape)

    # -- saving the architecture --------------------------------------------------------
    def to_config(self) -> dict:
        """The constructor's keyword arguments (JSON-able) that rebuild this module."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Module:
        return cls(**config)

    # -- repr ---------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def _short_repr(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def __repr__(self) -> str:
        kids = list(self.named_children())
        if not kids:
            return self._short_repr()
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        for name, child in kids:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)


def _resolve(module: Module, attr: str):
    """The object at ``attr`` of ``module``; ``attr`` may be ``list.3`` or ``dict.key``."""
    if "." not in attr:
        return getattr(module, attr)
    head, key = attr.split(".", 1)
    container = getattr(module, head)
    return container[int(key)] if isinstance(container, (list, tuple)) else container[key]


def _assign(module: Module, attr: str, value) -> None:
    module.__dict__[attr] = value


def module_spec(module: Module) -> dict:
    """``{"class": name, "config": {...}}``: the architecture of ``module`` as JSON-able data."""
    name = type(module).__name__
    if MODULE_REGISTRY.get(name) is not type(module):
        raise ValueError(f"module class {name} is not registered (two classes share the name?)")
    return {"class": name, "config": module.to_config()}


def build_module(spec: dict) -> Module:
    """Rebuild a module from :func:`module_spec`'s output (fresh parameters)."""
    name = spec["class"]
    cls = MODULE_REGISTRY.get(name)
    if cls is None:
        raise ValueError(
            f"unknown module class {name!r}: import the module that defines it before loading"
        )
    return cls.from_config(dict(spec.get("config", {})))


__all__ = ["MODULE_REGISTRY", "Module", "build_module", "module_spec"]
