"""Learning-rate decay: the rate as a pure function of the epoch.

A schedule is any callable ``epoch -> lr``; an optimizer given one asks it for the rate of the
current epoch (``optimizer.set_epoch(e)``, called by the trainer at the start of each epoch).
**Epochs are numbered from 0**, so every schedule here gives ``lr`` (α₀) at epoch 0.

The schedules below are small callable objects with a readable ``repr``, equality, and a
``to_config()`` dict that :func:`schedule_from_config` turns back into the schedule, so an
experiment TOML file can name one::

    [optimizer.schedule]
    name = "inverse_time"
    decay_rate = 1.0

The notes' forms (α₀ is ``lr``):

=================  =========================================  ==========================
name               α at epoch e                               notes
=================  =========================================  ==========================
``constant``       α₀
``inverse_time``   α₀ / (1 + decay_rate·e)                    "1/(1+decay_rate·epoch)"
``exponential``    base^e · α₀                                0.95^epoch · α₀
``inverse_sqrt``   k / √max(e, 1) · α₀                        k/√epoch · α₀
``staircase``      α₀ · factor^⌊e / every⌋                    discrete staircase
``manual``         table[max{k ≤ e}], α₀ before any entry     manual decay ("panda")
=================  =========================================  ==========================
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping

from honed import validation as check
from honed.registry import Option, Registry

__all__ = [
    "Schedule",
    "constant",
    "exponential",
    "inverse_sqrt",
    "inverse_time",
    "manual",
    "schedule_from_config",
    "staircase",
]


def _in_0_1(name: str, value) -> float:
    """A number in (0, 1] (a decay base or factor)."""
    value = check.positive(name, value)
    if value > 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {value:g}")
    return value


def _at_least_1(name: str, value) -> int:
    return check.integer(name, value, minimum=1)


class Schedule:
    """Base of the named schedules: ``__call__(epoch)``, ``to_config()``, repr and equality.

    Subclasses set ``name``, declare their arguments after ``lr`` once as ``options``
    (:class:`~honed.registry.Option`: type, default, check, help; ``_fields``, their names,
    follows) and implement ``_rate(epoch)``.
    """

    name: str = ""
    options: tuple[Option, ...] = ()
    _fields: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "options" in cls.__dict__ and "_fields" not in cls.__dict__:
            cls._fields = tuple(o.name for o in cls.options)

    def __init__(self, lr: float):
        self.lr = check.positive("lr", lr)

    def _set_options(self, **values) -> None:
        """Each declared option's value, checked by its declaration, as an attribute."""
        declared = {o.name: o for o in type(self).options}
        for name, value in values.items():
            setattr(self, name, declared[name].validate(value))

    def __call__(self, epoch: int) -> float:
        return self._rate(check.epoch(epoch))

    def _rate(self, epoch: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_config(self) -> dict:
        """A plain dict (TOML/JSON friendly) that :func:`schedule_from_config` reads back."""
        config = {"name": self.name, "lr": self.lr}
        config.update({field: getattr(self, field) for field in self._fields})
        return config

    @classmethod
    def from_config(cls, config: Mapping) -> Schedule:
        """The schedule :meth:`to_config` described (see :func:`schedule_from_config`)."""
        return schedule_from_config(config)

    def __repr__(self) -> str:
        args = ", ".join(
            f"{key}={value!r}" for key, value in self.to_config().items() if key != "name"
        )
        return f"{self.name}({args})"

    def __eq__(self, other) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        return self.to_config() == other.to_config()

    __hash__ = None  # mutable (``manual``) and compared by value


class constant(Schedule):
    """No decay: ``α = α₀`` at every epoch.

    Args:
        lr: α₀, > 0.
    """

    name = "constant"

    def _rate(self, epoch: int) -> float:
        return self.lr


class inverse_time(Schedule):
    """Inverse-time decay: ``α = α₀ / (1 + decay_rate · epoch)``.

    The notes call it "1/(1 + decay_rate × epoch_num) · α₀". With α₀ = 0.2 and decay_rate = 1
    the epochs 0, 1, 2, 3 get 0.2, 0.1, 0.067, 0.05.

    Args:
        lr: α₀, > 0.
        decay_rate: >= 0 (0 means constant).
    """

    name = "inverse_time"
    options = (Option("decay_rate", "float", 1.0, check.non_negative, ">= 0 (0: constant)"),)

    def __init__(self, lr: float, decay_rate: float = 1.0):
        super().__init__(lr)
        self._set_options(decay_rate=decay_rate)

    def _rate(self, epoch: int) -> float:
        return self.lr / (1.0 + self.decay_rate * epoch)


class exponential(Schedule):
    """Exponential decay: ``α = base^epoch · α₀`` (the notes use base 0.95).

    Args:
        lr: α₀, > 0.
        base: in (0, 1] (1 means constant).
    """

    name = "exponential"
    options = (Option("base", "float", 0.95, _in_0_1, "in (0, 1] (1: constant)"),)

    def __init__(self, lr: float, base: float = 0.95):
        super().__init__(lr)
        self._set_options(base=base)

    def _rate(self, epoch: int) -> float:
        return self.base**epoch * self.lr


class inverse_sqrt(Schedule):
    """Inverse square-root decay: ``α = k / √max(epoch, 1) · α₀``.

    The notes' ``k/√epoch · α₀`` is undefined at epoch 0; since epochs here start at 0, epoch 0
    uses the rate of epoch 1 (``k · α₀``), and the decay starts after it.

    Args:
        lr: α₀, > 0.
        k: the constant k, > 0.
    """

    name = "inverse_sqrt"
    options = (Option("k", "float", 1.0, check.positive, "the constant k > 0"),)

    def __init__(self, lr: float, k: float = 1.0):
        super().__init__(lr)
        self._set_options(k=k)

    def _rate(self, epoch: int) -> float:
        return self.k / math.sqrt(max(epoch, 1)) * self.lr


class staircase(Schedule):
    """Discrete staircase: ``α = α₀ · factor^⌊epoch / every⌋`` (constant, then a drop).

    Args:
        lr: α₀, > 0.
        factor: the drop at each stair, in (0, 1] (0.5 halves the rate).
        every: the length of a stair in epochs, an int >= 1.
    """

    name = "staircase"
    options = (
        Option("factor", "float", 0.5, _in_0_1, "the drop at each stair, in (0, 1]"),
        Option("every", "int", 10, _at_least_1, "the length of a stair in epochs, >= 1"),
    )

    def __init__(self, lr: float, factor: float = 0.5, every: int = 10):
        super().__init__(lr)
        self._set_options(factor=factor, every=every)

    def _rate(self, epoch: int) -> float:
        return self.lr * self.factor ** (epoch // self.every)


class manual(Schedule):
    """Manual decay: a piecewise-constant table that can grow while training ("panda").

    ``α(e) = table[k]`` for the largest key ``k <= e``, and ``α₀`` before the first entry.
    ``set(epoch, lr)`` adds or replaces an entry; it takes effect from that epoch on (a run
    resumed with a new rate records it this way, so the history stays in the config).

    >>> s = manual(0.1, {10: 0.01})
    >>> s(9), s(10), s(50)
    (0.1, 0.01, 0.01)
    >>> s.set(20, 0.001)
    >>> s(19), s(20)
    (0.01, 0.001)

    Args:
        lr: α₀, the rate before the first entry, > 0.
        table: ``{epoch: lr}``; keys may be ints or digit strings (as TOML writes them).
    """

    name = "manual"

    def __init__(self, lr: float, table: Mapping | None = None):
        super().__init__(lr)
        self._epochs: list[int] = []
        self._rates: list[float] = []
        for epoch, rate in (table or {}).items():
            self.set(int(epoch) if isinstance(epoch, str) else epoch, rate)

    @property
    def table(self) -> dict[int, float]:
        """A copy of the entries, ``{epoch: lr}`` in epoch order."""
        return dict(zip(self._epochs, self._rates))

    def set(self, epoch: int, lr: float) -> None:
        """Use ``lr`` from ``epoch`` on (until the next entry)."""
        epoch = check.epoch(epoch)
        lr = check.positive("lr", lr)
        i = bisect.bisect_left(self._epochs, epoch)
        if i < len(self._epochs) and self._epochs[i] == epoch:
            self._rates[i] = lr
        else:
            self._epochs.insert(i, epoch)
            self._rates.insert(i, lr)

    def _rate(self, epoch: int) -> float:
        i = bisect.bisect_right(self._epochs, epoch)
        return self._rates[i - 1] if i else self.lr

    def to_config(self) -> dict:
        # String keys: TOML and JSON tables cannot have integer keys.
        return {
            "name": self.name,
            "lr": self.lr,
            "table": {str(e): r for e, r in zip(self._epochs, self._rates)},
        }


#: Registered learning-rate schedules (``train.schedule`` in an experiment file). A schedule
#: class has ``name``, ``options`` (its arguments after ``lr``) and ``to_config``.
SCHEDULES: Registry[type[Schedule]] = Registry("schedule")
for _cls in (constant, inverse_time, exponential, inverse_sqrt, staircase, manual):
    SCHEDULES.register(_cls.name, _cls)


def schedule_arguments(cls: type[Schedule]) -> dict[str, object]:
    """A schedule's arguments after ``lr`` with their defaults (for the key reference): its
    declared ``options``, else its constructor's arguments."""
    import inspect

    if cls.options:
        return {o.name: o.default for o in cls.options}
    params = inspect.signature(cls.__init__).parameters
    return {
        name: (None if p.default is inspect.Parameter.empty else p.default)
        for name, p in params.items()
        if name not in ("self", "lr")
    }


def schedule_from_config(config: Mapping, lr: float | None = None) -> Schedule:
    """The schedule that a config dict names, e.g. ``{"name": "inverse_time", "decay_rate": 1}``.

    Args:
        config: ``name`` (one of constant, inverse_time, exponential, inverse_sqrt, staircase,
            manual) plus that schedule's arguments; ``lr`` (α₀) may be in it or given apart.
        lr: α₀ when ``config`` has no ``lr`` (an experiment file often gives it once, for
            the optimizer).

    Raises:
        ValueError: unknown name, unknown or missing argument, or a bad value.
    """
    config = dict(config)
    name = config.pop("name", None)
    if name not in SCHEDULES:
        raise ValueError(f"schedule name must be one of {', '.join(SCHEDULES)}, got {name!r}")
    cls = SCHEDULES.get(name)
    if "lr" not in config:
        if lr is None:
            raise ValueError(f"schedule {name!r} needs lr (α₀): put it in the config or pass it")
        config["lr"] = lr
    allowed = {"lr", *schedule_arguments(cls)}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ValueError(f"schedule {name!r} takes {sorted(allowed)}, got unknown {unknown}")
    return cls(**config)


def is_schedule(value) -> bool:
    """Whether ``value`` can serve as a learning-rate schedule (a callable ``epoch -> lr``)."""
    return isinstance(value, Callable)
