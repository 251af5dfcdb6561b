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
from honed.registry import Registry

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


class Schedule:
    """Base of the named schedules: ``__call__(epoch)``, ``to_config()``, repr and equality.

    Subclasses set ``name`` and ``_fields`` (the constructor arguments after ``lr``) and
    implement ``_rate(epoch)``.
    """

    name: str = ""
    _fields: tuple[str, ...] = ()

    def __init__(self, lr: float):
        self.lr = check.positive("lr", lr)

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
    _fields = ("decay_rate",)

    def __init__(self, lr: float, decay_rate: float = 1.0):
        super().__init__(lr)
        self.decay_rate = check.non_negative("decay_rate", decay_rate)

    def _rate(self, epoch: int) -> float:
        return self.lr / (1.0 + self.decay_rate * epoch)


class exponential(Schedule):
    """Exponential decay: ``α = base^epoch · α₀`` (the notes use base 0.95).

    Args:
        lr: α₀, > 0.
        base: in (0, 1] (1 means constant).
    """

    name = "exponential"
    _fields = ("base",)

    def __init__(self, lr: float, base: float = 0.95):
        super().__init__(lr)
        base = check.positive("base", base)
        if base > 1.0:
            raise ValueError(f"base must be in (0, 1], got {base}")
        self.base = base

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
    _fields = ("k",)

    def __init__(self, lr: float, k: float = 1.0):
        super().__init__(lr)
        self.k = check.positive("k", k)

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
    _fields = ("factor", "every")

    def __init__(self, lr: float, factor: float = 0.5, every: int = 10):
        super().__init__(lr)
        self.factor = check.number("factor", factor, low=0, high=1, low_open=True)
        self.every = check.integer("every", every, minimum=1)

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
#: class has ``name``, ``_fields`` (its arguments after ``lr``) and ``to_config``.
SCHEDULES: Registry[type[Schedule]] = Registry("schedule")
for _cls in (constant, inverse_time, exponential, inverse_sqrt, staircase, manual):
    SCHEDULES.register(_cls.name, _cls)


def schedule_arguments(cls: type[Schedule]) -> dict[str, object]:
    """A schedule's arguments after ``lr`` with their defaults (for the key reference)."""
    import inspect

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
