"""Argument checks shared by optimizers, schedules and the EWMA (messages name the argument)."""

from __future__ import annotations

import math
import numbers


def _as_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    return float(value)


def positive(name: str, value) -> float:
    """``value`` as a float; ``ValueError`` unless it is finite and > 0."""
    x = _as_float(name, value)
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be > 0, got {value}")
    return x


def non_negative(name: str, value) -> float:
    """``value`` as a float; ``ValueError`` unless it is finite and >= 0."""
    x = _as_float(name, value)
    if not (math.isfinite(x) and x >= 0):
        raise ValueError(f"{name} must be >= 0, got {value}")
    return x


def beta(name: str, value) -> float:
    """An averaging coefficient: ``ValueError`` unless 0 <= value < 1."""
    x = _as_float(name, value)
    if not 0.0 <= x < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return x


def epoch(value) -> int:
    """An epoch number: an int >= 0 (epochs are numbered from 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"epoch must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"epoch must be >= 0, got {value}")
    return int(value)
