"""The member axis: P models of one architecture as one model whose arrays have a leading P.

How to use::

    import honed.nn as nn
    from honed.nn import members

    models = [nn.mlp([2, 16, 2], keep_prob=k, seed=s) for k, s in ((0.8, 0), (1.0, 1))]
    pop = members.stack(nn.mlp([2, 16, 2], keep_prob=0.5), models)  # a Module, P = 2
    out = pop(Tensor(X))                   # X (m, 2) shared by all, or (P, m, 2) per member
    J = nn.softmax_cross_entropy(out, y)   # (P,): member k's cost, equal to model k's
    J.sum().backward()                     # member k's gradients are ∂J_k/∂θ_k
    members.unstack(pop, 1, models[1])     # member 1's numbers back into its own model

Stacking rule: a parameter or buffer of standalone shape ``s`` becomes ``(P, *s)`` when
``s`` has 2 or more dimensions, ``(P, 1, *s)`` for one dimension and ``(P, 1, 1)`` for none,
so that it broadcasts against activations ``(P, m, n)`` with no special case in a layer,
also in a user's own Module: Dense's ``W (n_in, n_out)`` becomes ``(P, n_in, n_out)`` (a
batched matmul), ``b (n,)`` becomes ``(P, 1, n)``, BatchNorm's γ, β and running averages
``(P, 1, n)``.

The ops do the rest (:func:`honed.autograd.linear`, ``batch_norm``, ``member_dropout``, the
losses): a shared input ``(m, n_in)`` enters the first Dense as one wide GEMM, batch norm
takes each member's statistics over its own rows, dropout draws member k's mask from member
k's Generator, and a loss returns each member's cost ``J (P,)``. Every module of a stacked
model carries ``members = P`` (:func:`n_members`).

Per-member settings are declared by the module class (``member_settings``: Dropout's
``keep_prob``, stacked as a (P,) array, and ``rng``, a list of P Generators); every other
plain setting (BatchNorm's ε and momentum, Maxout's pieces, an activation's slope) must agree
between the members. A member may lack a module whose class is ``member_optional`` (honed's
``mlp`` builds no Dropout at keep_prob 1): that member's value of each setting is then the
class's ``member_absent`` (keep_prob 1, no Generator: it draws nothing).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np

from honed.nn.module import Module

_PLAIN = (bool, int, float, str, type(None))


def stacked_shape(shape: tuple[int, ...], P: int) -> tuple[int, ...]:
    """The shape of P stacked arrays of standalone shape ``shape`` (the stacking rule)."""
    if len(shape) >= 2:
        return (P, *shape)
    if len(shape) == 1:
        return (P, 1, *shape)
    return (P, 1, 1)


def n_members(module: Module) -> int | None:
    """P for a stacked model (or any of its modules), None for a standalone one."""
    return getattr(module, "members", None)


def _modules(model: Module) -> list[tuple[str, Module]]:
    return list(model.named_modules())


def _pair(template: Module, model: Module, which: str) -> list[Module | None]:
    """For each module of ``template`` (``named_modules`` order), ``model``'s module of the
    same place, or None where ``model`` lacks an optional one (a Dropout)."""
    theirs = _modules(model)
    paired: list[Module | None] = []
    j = 0
    for name, mine in _modules(template):
        if j < len(theirs) and type(theirs[j][1]) is type(mine):
            paired.append(theirs[j][1])
            j += 1
        elif type(mine).member_optional:
            paired.append(None)
        else:
            found = type(theirs[j][1]).__name__ if j < len(theirs) else "nothing"
            raise ValueError(
                f"{which} does not have the template's structure: at module "
                f"{name or '<root>'!r} the template has {type(mine).__name__}, "
                f"{which} has {found}"
            )
    if j < len(theirs):
        raise ValueError(
            f"{which} does not have the template's structure: its module "
            f"{theirs[j][0]!r} ({type(theirs[j][1]).__name__}) is not in the template"
        )
    return paired


def _own_param_names(module: Module) -> list[str]:
    return [name for name, _ in module._own_parameters()]


def _plain_settings(module: Module) -> dict:
    """The plain settings that must agree between members (not the per-member ones)."""
    skip = {"training", "members", *module.member_settings, *module.member_free}
    return {k: v for k, v in vars(module).items() if k not in skip and isinstance(v, _PLAIN)}


def stack(template: Module, models: Sequence[Module]) -> Module:
    """A stacked model of ``models``: a deep copy of ``template`` (its structure) whose every
    parameter and buffer holds the P models' arrays (see the module docstring).

    Args:
        template: a model with the members' structure (one of them, or a model built the same
            way); its own numbers are not used.
        models: the P standalone members, in order; the stacked arrays take the first one's
            dtype.

    Raises:
        ValueError: no models, or a member whose modules, parameters' shapes or settings
            differ from the template's (named: the module and the member).
    """
    models = list(models)
    if not models:
        raise ValueError("stack needs at least one model, got none")
    if n_members(template) is not None:
        raise ValueError("the template is already a stacked model")
    P = len(models)
    stacked = copy.deepcopy(template)
    mine = [m for _, m in _modules(stacked)]
    names = [n or "<root>" for n, _ in _modules(stacked)]
    columns = [_pair(stacked, model, f"member {k}") for k, model in enumerate(models)]
    dtype = models[0].parameters()[0].dtype if models[0].parameters() else None
    for i, module in enumerate(mine):
        row = [col[i] for col in columns]
        present = [(k, m) for k, m in enumerate(row) if m is not None]
        _check_agree(module, names[i], present)
        for name in _own_param_names(module):
            arrays = []
            for k, m in present:
                if name not in _own_param_names(m):
                    raise ValueError(f"member {k} has no parameter {name!r} in module {names[i]!r}")
                arrays.append(_get(m, name).data)
            param = _get(module, name)
            param.data = _stack_arrays(arrays, names[i], name, present, dtype)
            param.grad = None
        for name in module._buffer_names:
            arrays = [getattr(m, name) for _, m in present]
            buf_dtype = dtype if dtype is not None else arrays[0].dtype
            module.__dict__[name] = _stack_arrays(arrays, names[i], name, present, buf_dtype)
        for name in module.member_settings:
            absent = getattr(type(module), "member_absent", {}).get(name)
            values = [absent if m is None else getattr(m, name) for m in row]
            module.__dict__[name] = _stack_setting(values)
        # a member may have a parameter the template lacks (a Dense bias): refuse
        for k, m in present:
            extra = set(_own_param_names(m)) - set(_own_param_names(module))
            if extra:
                raise ValueError(
                    f"member {k} has parameter(s) {sorted(extra)} in module {names[i]!r} "
                    "that the template lacks"
                )
        module.members = P
    return stacked


def _get(module: Module, name: str):
    from honed.nn.module import _resolve

    return _resolve(module, name)


def _stack_arrays(arrays, module_name, name, present, dtype) -> np.ndarray:
    shape = arrays[0].shape
    for (k, _), a in zip(present, arrays):
        if a.shape != shape:
            raise ValueError(
                f"member {k}'s {name!r} in module {module_name!r} has shape {a.shape}, "
                f"member {present[0][0]}'s has {shape}"
            )
    out = np.empty(stacked_shape(shape, len(arrays)), dtype=dtype or arrays[0].dtype)
    for k, a in enumerate(arrays):
        out[k] = a.reshape(out.shape[1:])
    return out


def _stack_setting(values: list):
    if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.float64)
    return [copy.deepcopy(v) for v in values]


def _check_agree(module: Module, name: str, present) -> None:
    """Every member's plain settings equal the first's, which the stacked module takes."""
    if not present:
        return
    first_k, first = present[0]
    reference = _plain_settings(first)
    for k, m in present[1:]:
        theirs = _plain_settings(m)
        for key in sorted(set(reference) | set(theirs)):
            if reference.get(key) != theirs.get(key):
                raise ValueError(
                    f"member {k}'s module {name!r} ({type(m).__name__}) has {key}="
                    f"{theirs.get(key)!r}, member {first_k}'s has {reference.get(key)!r}: "
                    "members must agree on it"
                )
    for key, value in reference.items():
        module.__dict__[key] = value


def unstack(stacked: Module, k: int, into: Module) -> Module:
    """Write member ``k``'s parameters, buffers and per-member settings (dropout keep_prob and
    Generator state) into the standalone model ``into``; returns ``into``.

    ``into`` must have the stacked model's structure (it may lack an optional Dropout);
    its arrays keep their dtype.
    """
    P = _require_stacked(stacked)
    k = _position(k, P, "k")
    for module, theirs in zip([m for _, m in _modules(stacked)], _pair(stacked, into, "into")):
        if theirs is None:
            continue
        for name in _own_param_names(module):
            target = _get(theirs, name)
            target.data = np.array(
                _get(module, name).data[k].reshape(target.data.shape), dtype=target.data.dtype
            )
            target.grad = None
        for name in module._buffer_names:
            current = getattr(theirs, name)
            value = getattr(module, name)[k].reshape(current.shape)
            theirs.__dict__[name] = np.array(value, dtype=current.dtype)
        for name in module.member_settings:
            value = getattr(module, name)[k]
            current = getattr(theirs, name, None)
            if isinstance(value, np.random.Generator):
                if isinstance(current, np.random.Generator):
                    current.bit_generator.state = value.bit_generator.state
                else:
                    theirs.__dict__[name] = copy.deepcopy(value)
            elif value is None:
                continue
            elif isinstance(value, np.generic):
                theirs.__dict__[name] = value.item()
            else:
                theirs.__dict__[name] = copy.deepcopy(value)
    return into


def take(stacked: Module, positions: Sequence[int]) -> Module:
    """Keep only the members at ``positions``, in that order, in place: parameters (new
    arrays, gradients cleared), buffers and per-member settings. Returns ``stacked``."""
    P = _require_stacked(stacked)
    positions = [_position(p, P, "positions") for p in positions]
    if not positions:
        raise ValueError("take needs at least one position, got none")
    index = np.asarray(positions, dtype=np.intp)
    for module in stacked.modules():
        for name in _own_param_names(module):
            param = _get(module, name)
            param.data = param.data[index]
            param.grad = None
        for name in module._buffer_names:
            module.__dict__[name] = getattr(module, name)[index]
        for name in module.member_settings:
            value = getattr(module, name)
            if isinstance(value, np.ndarray):
                module.__dict__[name] = value[index]
            else:
                module.__dict__[name] = [value[p] for p in positions]
        module.members = len(positions)
    return stacked


def copy_member(stacked: Module, dst: int, src: int) -> None:
    """Member ``dst`` takes ``src``'s parameters, buffers (batch norm's running averages) and
    per-member numbers (keep_prob), in place (the arrays stay the same objects); its
    Generators stay its own (PBT's exploit)."""
    P = _require_stacked(stacked)
    dst, src = _position(dst, P, "dst"), _position(src, P, "src")
    for module in stacked.modules():
        for name in _own_param_names(module):
            data = _get(module, name).data
            data[dst] = data[src]
        for name in module._buffer_names:
            buf = getattr(module, name)
            buf[dst] = buf[src]
        for name in module.member_settings:
            value = getattr(module, name)
            if isinstance(value, np.ndarray):
                value[dst] = value[src]


def _require_stacked(module: Module) -> int:
    P = n_members(module)
    if P is None:
        raise ValueError(f"{type(module).__name__} is not a stacked model (see members.stack)")
    return P


def _position(value, P: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be member positions (integers), got {value!r}")
    if not -P <= value < P:
        raise ValueError(f"{what} {value} is out of range for {P} members")
    return int(value) % P


__all__ = ["copy_member", "n_members", "stack", "stacked_shape", "take", "unstack"]
