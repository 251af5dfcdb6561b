"""Argument checks for the whole package: one place, one wording.

Every check takes the argument's name first (a dotted path such as ``train.lr`` when the
value comes from an experiment file) and returns the normalized value:

* ``TypeError`` when the value has the wrong type (a string where a number is asked, or a
  ``bool``: ``True`` is an ``int`` to Python but never a learning rate);
* ``ValueError`` when it has the right type and a bad value, naming the rule and the value:
  ``train.lr must be > 0, got -1``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np


def _fmt(value) -> str:
    return f"{value:g}" if isinstance(value, float) else repr(value)


def real(name: str, value) -> float:
    """``value`` as a float; ``TypeError`` unless it is a real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    return float(value)


def number(
    name: str,
    value,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number in ``[low, high]`` (either end open on request, or absent)."""
    x = real(name, value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    below = low is not None and (x < low or (low_open and x == low))
    above = high is not None and (x > high or (high_open and x == high))
    if below or above:
        if high is None:
            rule = f"> {low:g}" if low_open else f">= {low:g}"
        elif low is None:
            rule = f"< {high:g}" if high_open else f"<= {high:g}"
        else:
            rule = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be {rule}, got {_fmt(value)}")
    return x


def positive(name: str, value) -> float:
    """A finite number > 0 (learning rates, ε, scales)."""
    return number(name, value, low=0, low_open=True)


def non_negative(name: str, value) -> float:
    """A finite number >= 0 (λ of L1/L2, noise levels)."""
    return number(name, value, low=0)


def init_scale(name: str, value) -> float:
    """The factor on an initializer's standard deviation: a finite number > 0 (0 would give
    every unit of a layer the same zero weights, and nothing would break the symmetry)."""
    return positive(name, value)


def fraction(name: str, value) -> float:
    """A number in [0, 1] (error rates, probabilities)."""
    return number(name, value, low=0, high=1)


def beta(name: str, value) -> float:
    """An averaging coefficient β in [0, 1) (momentum, RMSprop, Adam, EWMA, batch norm)."""
    return number(name, value, low=0, high=1, high_open=True)


def keep_prob(name: str, value) -> float:
    """A dropout keep probability in (0, 1]; 1 switches dropout off."""
    return number(name, value, low=0, high=1, low_open=True)


def integer(name: str, value, minimum: int | None = None) -> int:
    """An integer (an integral float such as ``3.0`` from TOML counts) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if not (isinstance(value, numbers.Integral) or (math.isfinite(value) and value == int(value))):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {int(value)}")
    return int(value)


def epoch(value) -> int:
    """An epoch number: an integer >= 0 (epochs are numbered from 0)."""
    return integer("epoch", value, minimum=0)


def one_of(name: str, value, options: Iterable[Any]) -> Any:
    """``value`` if it is one of ``options``; the message lists them."""
    options = list(options)
    if value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(str, options))}, got {value!r}")
    return value


def boolean(name: str, value) -> bool:
    """``True`` or ``False`` (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be true or false, got {value!r}")
    return value


def text(name: str, value) -> str:
    """A string."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r}")
    return value


def as_rng(rng: np.random.Generator | int | None, name: str = "rng") -> np.random.Generator:
    """A ``Generator``: ``rng`` itself, or a new one seeded with the int (or SeedSequence).

    ``None`` gives a generator seeded from OS entropy (never the global ``np.random`` state).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, (numbers.Integral, np.random.SeedSequence)) and not isinstance(rng, bool):
        return np.random.default_rng(rng if isinstance(rng, np.random.SeedSequence) else int(rng))
    raise TypeError(
        f"{name} must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}"
    )


__all__ = [
    "as_rng",
    "beta",
    "boolean",
    "epoch",
    "fraction",
    "integer",
    "keep_prob",
    "non_negative",
    "number",
    "one_of",
    "positive",
    "real",
    "text",
]
