"""Search spaces: each hyperparameter is sampled uniformly on *its own* scale.

The course notes' rule (week 3, "Using an appropriate scale to pick hyperparameters"):
sampling uniformly on the raw value wastes the budget.  For a learning rate in
[0.0001, 1], 90 % of uniform draws fall in [0.1, 1].  Instead pick a scale on which the
interesting region is spread out, sample uniformly *there* and map back:

============================  =====================================  ======================
distribution                  internal (transformed) value ``u``     value
============================  =====================================  ======================
``Uniform(a, b)``             ``u = x``,  ``u ~ U[a, b]``            ``x = u``
``Int(a, b)``                 ``u = x``,  ``u ~ U[a-1/2, b+1/2]``    ``x = round(u)``
``LogUniform(a, b)``          ``u = log10 x``, ``u ~ U[log a, log b]`` ``x = 10**u``
``LogInt(a, b)``              ``u = log10 x``                        ``x = round(10**u)``
``OneMinusLogUniform(a, b)``  ``u = log10(1-x)``,                    ``x = 1 - 10**u``
                              ``u ~ U[log(1-b), log(1-a)]``
``Choice([c0, c1, ...])``     ``u = index``, ``u ~ U[-1/2, n-1/2]``  ``x = c[round(u)]``
============================  =====================================  ======================

The notes' examples: ``α`` in [1e-4, 1] is ``r = -4·rand(); α = 10**r`` (``LogUniform``);
``β`` in [0.9, 0.999] is ``r ~ U[-3, -1]; β = 1 - 10**r`` (``OneMinusLogUniform``), so
0.9..0.99 and 0.99..0.999 get the same share of trials -- right, because ``β`` averages
over about ``1/(1-β)`` values and that number is what matters.

Samplers (random, grid, coarse-to-fine) and plots work on the internal scale through
``internal_bounds``, ``to_internal`` and ``from_internal``; nothing else needs to know
which scale a parameter lives on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "Choice",
    "Distribution",
    "Int",
    "LogInt",
    "LogUniform",
    "OneMinusLogUniform",
    "SearchSpace",
    "Uniform",
    "distribution_from_json",
]


def _finite(name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


class Distribution:
    """A one-dimensional search range with its own sampling scale.

    Subclasses define ``internal_bounds`` (a closed interval on the transformed scale) and
    the maps ``to_internal`` / ``from_internal`` between a value and that scale.  Sampling
    is always uniform on the internal scale, which is what makes "the right scale" the
    only thing a distribution has to say.
    """

    kind: str = ""
    #: True when values are plotted on a logarithmic axis.
    log_axis: bool = False

    @property
    def internal_bounds(self) -> tuple[float, float]:
        raise NotImplementedError

    def to_internal(self, value: Any) -> float:
        raise NotImplementedError

    def from_internal(self, u: float) -> Any:
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        raise NotImplementedError

    def sample(self, rng: np.random.Generator) -> Any:
        """One draw: ``from_internal(u)`` with ``u`` uniform in ``internal_bounds``."""
        lo, hi = self.internal_bounds
        return self.from_internal(float(rng.uniform(lo, hi)))

    def grid(self, k: int) -> list[Any]:
        """``k`` values evenly spaced on the internal scale, ends included, duplicates kept."""
        lo, hi = self._grid_bounds()
        if k == 1:
            return [self.from_internal((lo + hi) / 2)]
        return [self.from_internal(float(u)) for u in np.linspace(lo, hi, k)]

    def _grid_bounds(self) -> tuple[float, float]:
        return self.internal_bounds

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Distribution) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_json(), sort_keys=True))

    def __repr__(self) -> str:
        args = ", ".join(repr(a) for a in self.to_json()[self.kind])
        return f"{type(self).__name__}({args})"


class _Range(Distribution):
    """Shared validation for ``[low, high]`` distributions."""

    def __init__(self, low: float, high: float) -> None:
        low = _finite("low", low)
        high = _finite("high", high)
        if not low < high:
            raise ValueError(f"low must be < high, got low={low!r}, high={high!r}")
        self.low, self.high = low, high

    def to_json(self) -> dict[str, Any]:
        return {self.kind: [self.low, self.high]}

    def _clip(self, x: float) -> float:
        # 10**log10(x) is not always x to the last bit; keep values inside the bounds.
        return min(max(x, self.low), self.high)

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            return False
        return self.low <= float(value) <= self.high


class Uniform(_Range):
    """Linear scale: ``x ~ U[low, high]``."""

    kind = "uniform"

    @property
    def internal_bounds(self) -> tuple[float, float]:
        return (self.low, self.high)

    def to_internal(self, value: Any) -> float:
        return float(value)

    def from_internal(self, u: float) -> float:
        return self._clip(float(u))


class LogUniform(_Range):
    """Log scale: ``r ~ U[log10 low, log10 high]``, ``x = 10**r``.

    Each decade gets the same share of draws: over [1e-4, 1] a quarter in each of
    [1e-4, 1e-3), [1e-3, 1e-2), [1e-2, 1e-1), [1e-1, 1].
    """

    kind = "log"
    log_axis = True

    def __init__(self, low: float, high: float) -> None:
        super().__init__(low, high)
        if self.low <= 0:
            raise ValueError(f"low must be > 0 on a log scale, got {low!r}")

    @property
    def internal_bounds(self) -> tuple[float, float]:
        return (math.log10(self.low), math.log10(self.high))

    def to_internal(self, value: Any) -> float:
        return math.log10(float(value))

    def from_internal(self, u: float) -> float:
        return self._clip(10.0 ** float(u))


class OneMinusLogUniform(_Range):
    """Log scale on ``1 - x``, for averaging coefficients such as momentum ``β``.

    ``r ~ U[log10(1 - high), log10(1 - low)]``, ``x = 1 - 10**r``.  For [0.9, 0.999],
    ``r ~ U[-3, -1]``: half the draws in [0.9, 0.99], half in [0.99, 0.999].
    Bounds must lie in [0, 1).
    """

    kind = "one_minus_log"
    log_axis = True

    def __init__(self, low: float, high: float) -> None:
        super().__init__(low, high)
        for name, v in (("low", self.low), ("high", self.high)):
            if not 0.0 <= v < 1.0:
                raise ValueError(f"{name} must be in [0, 1) for a 1-β scale, got {v!r}")

    @property
    def internal_bounds(self) -> tuple[float, float]:
        return (math.log10(1.0 - self.high), math.log10(1.0 - self.low))

    def to_internal(self, value: Any) -> float:
        return math.log10(1.0 - float(value))

    def from_internal(self, u: float) -> float:
        return self._clip(1.0 - 10.0 ** float(u))


class Int(_Range):
    """Integers ``low..high`` (both included), uniform on the linear scale.

    Internally ``u ~ U[low - 1/2, high + 1/2]`` and ``x = round(u)``, so every integer gets
    the same width and a box on the internal scale (coarse-to-fine) maps to whole numbers.
    """

    kind = "int"

    def __init__(self, low: int, high: int) -> None:
        for name, v in (("low", low), ("high", high)):
            if isinstance(v, bool) or not float(_finite(name, v)).is_integer():
                raise ValueError(f"{name} must be an integer, got {v!r}")
        super().__init__(int(low), int(high))
        self.low, self.high = int(low), int(high)

    @property
    def internal_bounds(self) -> tuple[float, float]:
        return (self.low - 0.5, self.high + 0.5)

    def _grid_bounds(self) -> tuple[float, float]:
        return (float(self.low), float(self.high))

    def to_internal(self, value: Any) -> float:
        return float(value)

    def from_internal(self, u: float) -> int:
        return int(min(max(int(np.floor(float(u) + 0.5)), self.low), self.high))

    def contains(self, value: Any) -> bool:
        return super().contains(value) and float(value).is_integer()


class LogInt(Int):
    """Integers sampled on a log scale: ``u ~ U[log10(low - 1/2), log10(high + 1/2)]``,
    ``x = round(10**u)``.  Useful for widths spanning decades (16..1024).  ``low >= 1``.
    """

    kind = "log_int"
    log_axis = True

    def __init__(self, low: int, high: int) -> None:
        super().__init__(low, high)
        if self.low < 1:
            raise ValueError(f"low must be >= 1 on a log scale, got {low!r}")

    @property
    def internal_bounds(self) -> tuple[float, float]:
        return (math.log10(self.low - 0.5), math.log10(self.high + 0.5))

    def _grid_bounds(self) -> tuple[float, float]:
        return (math.log10(self.low), math.log10(self.high))

    def to_internal(self, value: Any) -> float:
        return math.log10(float(value))

    def from_internal(self, u: float) -> int:
        return super().from_internal(10.0 ** float(u))


class Choice(Distribution):
    """One of a list of values (numbers, strings, booleans, None), each equally likely.

    Internally the index ``u ~ U[-1/2, n - 1/2]``, ``x = choices[round(u)]``; the choices
    are ordered as listed, which is what coarse-to-fine narrows (list ordered values,
    e.g. batch sizes, in order).
    """

    kind = "choice"

    def __init__(self, choices: Sequence[Any]) -> None:
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise ValueError(f"choices must be a list, got {choices!r}")
        if len(choices) == 0:
            raise ValueError("choices must be non-empty, got []")
        for c in choices:
            if c is not None and not isinstance(c, (bool, int, float, str)):
                raise ValueError(f"choices must be numbers, strings, booleans or None, got {c!r}")
        self.choices = list(choices)

    @property
    def internal_bounds(self) -> tuple[float, float]:
        return (-0.5, len(self.choices) - 0.5)

    def _grid_bounds(self) -> tuple[float, float]:
        return (0.0, float(len(self.choices) - 1))

    def grid(self, k: int) -> list[Any]:
        # A grid over choices is all of them, whatever k: anything else skips values.
        return list(self.choices)

    def _index(self, value: Any) -> int:
        for i, c in enumerate(self.choices):
            if type(c) is type(value) and c == value:
                return i
        for i, c in enumerate(self.choices):
            if c == value:
                return i
        raise ValueError(f"{value!r} is not one of the choices {self.choices!r}")

    def to_internal(self, value: Any) -> float:
        return float(self._index(value))

    def from_internal(self, u: float) -> Any:
        i = int(np.floor(float(u) + 0.5))
        return self.choices[min(max(i, 0), len(self.choices) - 1)]

    def contains(self, value: Any) -> bool:
        try:
            self._index(value)
        except ValueError:
            return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {self.kind: list(self.choices)}


_KINDS: dict[str, type[Distribution]] = {
    cls.kind: cls for cls in (Uniform, Int, LogUniform, LogInt, OneMinusLogUniform, Choice)
}
# Friendly aliases accepted in TOML files.
_ALIASES = {"loguniform": "log", "log_uniform": "log", "categorical": "choice", "linear": "uniform"}


def distribution_from_json(obj: Mapping[str, Any], name: str = "parameter") -> Distribution:
    """Parse ``{"log": [1e-4, 1]}`` (the TOML/JSON form) into a distribution.

    Raises:
        ValueError: naming ``name`` when the kind is unknown or the arguments are bad.
    """
    if not isinstance(obj, Mapping) or len(obj) != 1:
        raise ValueError(
            f"search space entry {name!r} must be a table with exactly one of "
            f"{sorted(_KINDS)}, got {obj!r}"
        )
    ((kind, args),) = obj.items()
    kind = _ALIASES.get(kind, kind)
    if kind not in _KINDS:
        raise ValueError(
            f"search space entry {name!r}: unknown kind {kind!r}; expected one of {sorted(_KINDS)}"
        )
    cls = _KINDS[kind]
    try:
        if cls is Choice:
            return Choice(args)
        if not isinstance(args, Sequence) or isinstance(args, str) or len(args) != 2:
            raise ValueError(f"expected [low, high], got {args!r}")
        return cls(*args)
    except ValueError as e:
        raise ValueError(f"search space entry {name!r} ({kind}): {e}") from None


class SearchSpace(Mapping[str, Distribution]):
    """An ordered mapping ``name -> Distribution``.

    Names are free-form; dotted names (``"train.lr"``, ``"model.hidden"``) let the objective
    route each value to its section of an experiment config.
    """

    def __init__(self, dists: Mapping[str, Distribution] | None = None) -> None:
        self._d: dict[str, Distribution] = {}
        for name, dist in (dists or {}).items():
            if not isinstance(name, str) or not name:
                raise ValueError(f"parameter names must be non-empty strings, got {name!r}")
            if not isinstance(dist, Distribution):
                dist = distribution_from_json(dist, name)
            self._d[name] = dist

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SearchSpace:
        """Parse the TOML form ``{"train.lr": {"log": [1e-4, 1]}, ...}``."""
        if not isinstance(config, Mapping):
            raise ValueError(f"search space must be a table, got {config!r}")
        return cls({name: distribution_from_json(v, name) for name, v in config.items()})

    def to_json(self) -> dict[str, Any]:
        return {name: d.to_json() for name, d in self._d.items()}

    def __getitem__(self, name: str) -> Distribution:
        return self._d[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._d)

    def __len__(self) -> int:
        return len(self._d)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"SearchSpace({self._d!r})"
