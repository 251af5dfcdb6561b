"""Small argument checks shared by the data modules.

Every check raises ``ValueError`` naming the argument, the rule and the bad value, e.g.
``batch_size must be an int >= 1, got 0``.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_rng(rng: np.random.Generator | int | None, name: str = "rng") -> np.random.Generator:
    """Return a ``Generator``: ``rng`` itself, or a new one seeded with the int ``rng``.

    ``None`` gives a generator seeded from OS entropy (never the global ``np.random`` state).
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    if isinstance(rng, np.random.SeedSequence):
        return np.random.default_rng(rng)
    raise ValueError(
        f"{name} must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}"
    )


def check_int(value, name: str, minimum: int | None = None) -> int:
    """Check that ``value`` is an int (not a bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        rule = f"an int >= {minimum}" if minimum is not None else "an int"
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_number(
    value,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check that ``value`` is a finite real number in the given (closed or open) range."""
    lo_b, hi_b = ("(" if low_open else "["), (")" if high_open else "]")
    rule = f"in {lo_b}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi_b}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number {rule}, got {value!r}")
    bad = (low is not None and (value < low or (low_open and value == low))) or (
        high is not None and (value > high or (high_open and value == high))
    )
    if bad:
        raise ValueError(f"{name} must be {rule}, got {value!r}")
    return float(value)
