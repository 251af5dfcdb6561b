"""The :class:`Optimizer` base: parameters, step counter, learning rate or schedule, state.

A subclass implements two methods and nothing else:

* ``init_state(param) -> dict`` — the per-parameter arrays (``v``, ``s``, ...), zeros of the
  parameter's shape and dtype. Keys starting with ``_`` are scratch buffers: reused by every
  step to avoid temporaries, never saved.
* ``update(param, grad, state, lr)`` — change ``param.data`` **in place** using ``grad``
  (``param.grad``), ``state`` (also updated in place; ``state["t"]`` is the number of updates
  this parameter has had, this one included) and the current learning rate ``lr``.

The base owns the loop over parameters, the step counter ``t``, the epoch, the schedule, and
the state dict, keyed by parameter *position* (not ``id()``) so it saves and loads.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

import numpy as np

from honed import validation as check
from honed.optim.schedules import manual, schedule_from_config
from honed.registry import Option, Registry

__all__ = [
    "OPTIMIZERS",
    "MemberCoefficients",
    "Optimizer",
    "declared_option",
    "default_lr",
    "exact_power",
    "hyperparameter_defaults",
    "population_optimizers",
]


def _parameter_list(params) -> list:
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, np.ndarray) or hasattr(params, "data") and hasattr(params, "grad"):
        raise TypeError(
            "params must be an iterable of Parameters or a module with .parameters(), "
            f"got a single {type(params).__name__} (wrap it in a list)"
        )
    if not isinstance(params, Iterable):
        raise TypeError(f"params must be an iterable of Parameters, got {type(params).__name__}")
    params = list(params)
    if not params:
        raise ValueError("params is empty: the optimizer has nothing to update")
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not (hasattr(p, "data") and hasattr(p, "grad")):
            raise TypeError(f"params[{i}] is a {type(p).__name__}, not a Parameter")
        if not (isinstance(p.data, np.ndarray) and p.data.dtype.kind == "f"):
            raise TypeError(f"params[{i}] must hold a float ndarray, got {p.data!r}")
        if id(p) in seen:
            raise ValueError(f"params[{i}] appears twice in params")
        seen.add(id(p))
    return params


#: Registered optimizers (``train.optimizer`` in an experiment file). Register a subclass with
#: ``@OPTIMIZERS.register("name")``; its hyperparameters after ``lr`` are the :class:`Option`
#: objects of its ``options`` attribute (without a declaration: its constructor's keyword
#: arguments after ``lr``), and an experiment file sets them under ``[train]``.
OPTIMIZERS: Registry[type[Optimizer]] = Registry("optimizer")


def _declared(cls) -> tuple[Option, ...]:
    name = OPTIMIZERS.name_of(cls)
    return OPTIMIZERS.options(name) if name is not None else tuple(getattr(cls, "options", ()))


def hyperparameter_defaults(cls: type[Optimizer]) -> dict[str, object]:
    """An optimizer's hyperparameters (after ``lr``) and their defaults: its declared
    ``options``, else its constructor's keyword arguments after ``lr``."""
    declared = _declared(cls)
    if declared:
        return {o.name: o.default for o in declared}
    params = inspect.signature(cls.__init__).parameters
    return {
        name: p.default
        for name, p in params.items()
        if name not in ("self", "params", "lr") and p.kind is p.POSITIONAL_OR_KEYWORD
    }


def default_lr(cls: type[Optimizer]) -> float:
    """The learning rate ``cls`` uses when none is given (its constructor's default)."""
    default = inspect.signature(cls.__init__).parameters["lr"].default
    if default is inspect.Parameter.empty:
        raise ValueError(f"optimizer {cls.__name__} has no default lr; give one")
    return default


def population_optimizers() -> list[str]:
    """The registered optimizers that declare ``population = True`` (they declare their
    update as :meth:`Optimizer.member_coefficients`, so :class:`honed.optim.MemberOptimizer`
    trains them), in registration order."""
    return [name for name, cls in OPTIMIZERS.items() if getattr(cls, "population", False)]


def declared_option(option: str, names: list[str] | None = None) -> Option:
    """The one declaration of ``option`` shared by the registered optimizers (of ``names``)
    that take it.

    Raises:
        ValueError: none declares it, or two declare it differently (default or check).
    """
    names = OPTIMIZERS.declaring(option) if names is None else names
    found = [OPTIMIZERS.option(n, option) for n in names if n in OPTIMIZERS.declaring(option)]
    if not found:
        raise ValueError(f"no registered optimizer declares the option {option!r}")
    first = found[0]
    for other in found[1:]:
        if (other.default, other.check, other.kind) != (first.default, first.check, first.kind):
            raise ValueError(
                f"optimizers {', '.join(names)} declare {option!r} differently: "
                f"{first!r} and {other!r}"
            )
    return first


class MemberCoefficients(NamedTuple):
    """One optimizer's update as the coefficients of the unified per-member rule
    (:class:`honed.optim.MemberOptimizer`; ``g`` the gradient)::

        v := b1 · v + c1 · g
        s := b2 · s + (c2 · g) · g
        W := W − step · v / (√s + e)

    Each field is a number or an array with one entry per member of that optimizer.
    """

    b1: object
    c1: object
    b2: object
    c2: object
    step: object
    e: object


def exact_power(base, t) -> np.ndarray:
    """``base ** t`` elementwise (broadcast), computed as Python computes ``float ** int``.

    The standalone optimizers compute ``β ** t`` on Python floats (the C library's ``pow``);
    NumPy's vectorised power (SIMD) differs from it in the last bit for about 1 value in
    250, which would make a member's trajectory drift from its standalone twin. So the
    powers go through Python, once per distinct base and exponent (a population has few
    distinct β's; a table of the next steps has few distinct t's).
    """
    base = np.asarray(base, dtype=np.float64)
    t = np.asarray(t, dtype=np.int64)
    bases, b_at = np.unique(base, return_inverse=True)
    powers, t_at = np.unique(t, return_inverse=True)
    table = np.array(
        [[b**k for k in powers.tolist()] for b in bases.tolist()], dtype=np.float64
    ).reshape(len(bases), len(powers))
    return table[b_at.reshape(base.shape), t_at.reshape(t.shape)]


class Optimizer:
    """Gradient-based optimizer over a fixed list of parameters.

    Args:
        params: an iterable of :class:`~honed.autograd.Parameter`, or a module with
            ``.parameters()``. Their order is the key of the saved state.
        lr: the learning rate α: a float > 0, or a schedule (any callable ``epoch -> lr``,
            e.g. :func:`~honed.optim.schedules.inverse_time`).

    Attributes:
        params: the parameter list.
        t: number of ``step()`` calls so far.
        epoch: the current epoch (from 0), set by the trainer with :meth:`set_epoch`.
        state: per-parameter state, ``state[i]`` for ``params[i]`` (``None`` until its first
            update).
        hyperparameters: the subclass's hyperparameters (``beta``, ``eps``, ...).

    Typical loop (what the trainer does)::

        opt = Adam(model, lr=inverse_time(0.01, decay_rate=1.0))
        for epoch in range(epochs):
            opt.set_epoch(epoch)               # the schedule's rate for this epoch
            for xb, yb in batches:
                opt.minimize(loss(model(xb), yb))   # zero_grad, backward, step
    """

    #: the hyperparameters after ``lr``, declared once (:class:`~honed.registry.Option`:
    #: type, default, check, help); the constructor checks its arguments with them
    options: tuple[Option, ...] = ()
    #: True when :class:`honed.optim.MemberOptimizer` trains it (populations): the class
    #: then declares its update as :meth:`member_coefficients`
    population: bool = False
    #: whether :meth:`member_coefficients` reads ``t`` (then it is evaluated every step;
    #: otherwise once per change of the learning rates or hyperparameters)
    member_coefficients_use_t: bool = False

    @staticmethod
    def member_coefficients(lr, t, **hyperparameters) -> MemberCoefficients:
        """This optimizer's update as the unified per-member rule's coefficients.

        Args:
            lr: (n,) float64 learning rates α of the members that use this optimizer.
            t: (n,) int64 their update counts, this update included (1 on the first).
            **hyperparameters: (n,) float64 each of its declared ``options`` (β, ε, ...).

        Returns:
            The six coefficients, computed as :meth:`update` computes its scalars (same
            operations in the same order, so a member's weights are the standalone
            optimizer's to the last bit).
        """
        raise NotImplementedError

    def __init__(self, params, lr: float | Callable[[int], float], **hyperparameters):
        self.params = _parameter_list(params)
        self.t = 0
        self.epoch = 0  # before the lr source: validating a schedule reads its epoch-0 rate
        self._set_lr_source(lr)
        declared = {o.name: o for o in type(self).options}
        self.hyperparameters = {
            k: declared[k].validate(v) if k in declared else v for k, v in hyperparameters.items()
        }
        for key, value in self.hyperparameters.items():
            setattr(self, key, value)
        self.state: list[dict | None] = [None] * len(self.params)

    # -- learning rate ------------------------------------------------------------------
    def _set_lr_source(self, lr) -> None:
        if callable(lr):
            self.schedule = lr
            self._lr = None
            self.lr  # noqa: B018 - validate the schedule's rate at the current epoch now
        else:
            self.schedule = None
            self._lr = check.positive("lr", lr)

    @property
    def lr(self) -> float:
        """The learning rate in use now: the fixed rate, or the schedule's rate this epoch."""
        if self.schedule is None:
            return self._lr
        rate = self.schedule(self.epoch)
        try:
            value = float(rate)
        except (TypeError, ValueError):
            raise ValueError(
                f"schedule {self.schedule!r} returned {rate!r} at epoch {self.epoch}, not a number"
            ) from None
        if not (math.isfinite(value) and value > 0):
            raise ValueError(
                f"schedule {self.schedule!r} gave lr = {rate} at epoch {self.epoch}; "
                "the learning rate must be finite and > 0"
            )
        return value

    def set_epoch(self, epoch: int) -> None:
        """Enter ``epoch`` (from 0): a schedule gives its rate for it. The trainer calls this."""
        self.epoch = check.epoch(epoch)

    def set_lr(self, lr: float | Callable[[int], float]) -> None:
        """Change the learning rate from now on (babysitting, ``honed resume --lr``).

        * a :func:`~honed.optim.schedules.manual` schedule records ``lr`` in its table from
          the current epoch, so the history of changes stays in the saved config;
        * otherwise a float replaces the fixed rate or the schedule (the rate stays ``lr``),
          and a callable becomes the new schedule.
        """
        if isinstance(self.schedule, manual) and not callable(lr):
            self.schedule.set(self.epoch, lr)
            return
        self._set_lr_source(lr)

    # -- the loop -----------------------------------------------------------------------
    def zero_grad(self) -> None:
        """Forget the gradients (``param.grad = None``), since ``backward`` accumulates."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient (others are skipped)."""
        lr = self.lr
        self.t += 1
        for i, p in enumerate(self.params):
            grad = p.grad
            if grad is None:
                continue
            if grad.shape != p.data.shape:
                raise ValueError(
                    f"params[{i}].grad has shape {grad.shape}, the parameter has {p.data.shape}"
                )
            state = self.state[i]
            if state is None:
                state = self.state[i] = {"t": 0, **self.init_state(p)}
            state["t"] += 1
            self.update(p, grad, state, lr)

    def minimize(self, cost):
        """One step downhill on ``cost``: ``zero_grad()``, ``cost.backward()``, ``step()``.

        As in the notes' ``GradientDescentOptimizer(0.01).minimize(cost)``. Returns ``cost``.
        """
        self.zero_grad()
        cost.backward()
        self.step()
        return cost

    # -- subclass seam ------------------------------------------------------------------
    def init_state(self, param) -> dict:
        """The per-parameter state arrays (zeros); keys starting with ``_`` are scratch."""
        return {}

    def update(self, param, grad: np.ndarray, state: dict, lr: float) -> None:
        raise NotImplementedError

    # -- configuration --------------------------------------------------------------------
    def to_config(self) -> dict:
        """``{"name", "lr", **hyperparameters}``: plain values; ``lr`` is the schedule's
        config when a (registered) schedule drives it."""
        if self.schedule is None:
            lr = self._lr
        elif hasattr(self.schedule, "to_config"):
            lr = self.schedule.to_config()
        else:
            lr = None  # a plain function: not describable
        name = OPTIMIZERS.name_of(self) or type(self).__name__
        return {"name": name, "lr": lr, **self.hyperparameters}

    @classmethod
    def from_config(cls, config: dict, params=None) -> Optimizer:
        """Build the optimizer ``config`` names (``cls`` itself when called on a subclass)
        over ``params``; ``lr`` may be a number or a schedule's config."""
        config = dict(config)
        target = OPTIMIZERS.get(config.pop("name")) if cls is Optimizer else cls
        lr = config.pop("lr", None)
        if isinstance(lr, Mapping):
            lr = schedule_from_config(lr)
        allowed = hyperparameter_defaults(target)
        unknown = sorted(set(config) - set(allowed))
        if unknown:
            raise ValueError(
                f"optimizer {OPTIMIZERS.name_of(target) or target.__name__!r} takes "
                f"{', '.join(['lr', *allowed])}; got unknown {', '.join(unknown)}"
            )
        return target(params, **({} if lr is None else {"lr": lr}), **config)

    # -- saving and loading -------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything needed to resume bit-identically, as plain Python and NumPy values.

        Format::

            {"optimizer": "Adam",
             "hyperparameters": {"beta1": 0.9, "beta2": 0.999, "eps": 1e-08},
             "lr": 0.001,              # or None when a schedule is used
             "schedule": None,         # or schedule.to_config(), or None if it has none
             "t": 20, "epoch": 3,
             "state": {0: {"t": 20, "v": ndarray, "s": ndarray}, 1: None, ...}}

        Arrays are copies; scratch buffers (keys starting with ``_``) are left out.
        """
        schedule = None
        if self.schedule is not None and hasattr(self.schedule, "to_config"):
            schedule = self.schedule.to_config()
        return {
            "optimizer": type(self).__name__,
            "hyperparameters": dict(self.hyperparameters),
            "lr": self._lr,
            "schedule": schedule,
            "t": self.t,
            "epoch": self.epoch,
            "state": {
                i: None
                if s is None
                else {
                    k: (v.copy() if isinstance(v, np.ndarray) else v)
                    for k, v in s.items()
                    if not k.startswith("_")
                }
                for i, s in enumerate(self.state)
            },
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` saved (into an optimizer of the same parameters).

        A schedule saved without a config (a plain function) is not restored: the
        optimizer keeps its own. Raises ``ValueError`` naming the parameter index and
        shapes when the saved state does not fit these parameters.
        """
        name = state_dict.get("optimizer")
        if name != type(self).__name__:
            raise ValueError(f"state_dict is for optimizer {name!r}, not {type(self).__name__}")
        saved = state_dict["state"]
        if len(saved) != len(self.params):
            raise ValueError(
                f"state_dict has state for {len(saved)} parameters, "
                f"this optimizer has {len(self.params)}"
            )
        new_state: list[dict | None] = []
        for i, p in enumerate(self.params):
            s = saved.get(i, saved.get(str(i)))  # str keys after a JSON round trip
            if s is None:
                new_state.append(None)
                continue
            restored = dict(self.init_state(p))  # fresh scratch buffers of the right dtype
            for key, value in s.items():
                if isinstance(value, np.ndarray):
                    if value.shape != p.data.shape:
                        raise ValueError(
                            f"state_dict state for parameter {i} ({key!r}) has shape "
                            f"{value.shape}, parameter {i} has shape {p.data.shape}"
                        )
                    value = np.array(value, dtype=p.data.dtype, copy=True)
                restored[key] = value
            new_state.append(restored)

        self.hyperparameters = dict(state_dict["hyperparameters"])
        for key, value in self.hyperparameters.items():
            setattr(self, key, value)
        if state_dict.get("schedule") is not None:
            self._set_lr_source(schedule_from_config(state_dict["schedule"]))
        elif state_dict.get("lr") is not None:
            self._set_lr_source(state_dict["lr"])
        self.t = int(state_dict["t"])
        self.epoch = int(state_dict["epoch"])
        self.state = new_state

    def __repr__(self) -> str:
        lr = repr(self.schedule) if self.schedule is not None else repr(self._lr)
        hyper = "".join(f", {k}={v!r}" for k, v in self.hyperparameters.items())
        return f"{type(self).__name__}(<{len(self.params)} params>, lr={lr}{hyper})"
