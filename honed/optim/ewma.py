"""Exponentially weighted (moving) averages, with optional bias correction.

The notes' formula, with ``V₀ = 0`` and ``0 <= β < 1``::

    V_t = β V_{t-1} + (1 - β) θ_t
    V̂_t = V_t / (1 - βᵗ)                 (bias correction)

``V_t`` averages roughly the last ``1/(1-β)`` values (10 for β = 0.9, 1000 for β = 0.999):
a larger β is smoother and slower to react. Starting at 0 makes the first values too small;
the correction fixes that and fades out as ``βᵗ -> 0``. It keeps one number (or array) of
memory, which is why momentum, RMSprop, Adam and batch norm's running statistics use it.

The notes' example (temperatures 40, 42, 44, 46, 48 with β = 0.9):

>>> ewma([40, 42, 44, 46, 48], beta=0.9).round(6).tolist()
[4.0, 7.8, 11.42, 14.878, 18.1902]
>>> ewma([40, 42, 44, 46, 48], beta=0.9, bias_correction=True).round(6).tolist()
[40.0, 41.052632, 42.140221, 43.262576, 44.419428]

One value at a time:

>>> avg = EWMA(beta=0.9, bias_correction=True)
>>> round(avg.update(40), 6), round(avg.update(42), 6)
(40.0, 41.052632)
>>> round(avg.effective_window, 9)      # 1 / (1 - 0.9)
10.0
"""

from __future__ import annotations

import numpy as np

from honed import validation as check

__all__ = ["EWMA", "ewma"]


class EWMA:
    """A running exponentially weighted average of scalars or equally shaped arrays.

    Args:
        beta: β in [0, 1).
        bias_correction: report ``V_t / (1 - βᵗ)`` instead of ``V_t``.

    Attributes:
        t: number of values seen.
        raw: ``V_t`` without correction (``0.0`` before the first value).
    """

    def __init__(self, beta: float = 0.9, bias_correction: bool = False):
        self.beta = check.beta("beta", beta)
        self.bias_correction = bool(bias_correction)
        self.t = 0
        self.raw = 0.0

    @property
    def effective_window(self) -> float:
        """About how many recent values are averaged: ``1 / (1 - β)``."""
        return 1.0 / (1.0 - self.beta)

    def update(self, theta):
        """Add ``θ_t`` and return the current average (corrected if asked)."""
        if isinstance(theta, np.ndarray):
            theta = theta.astype(np.result_type(theta, np.float32), copy=False)
        self.t += 1
        # A new value each time, never in place: the caller may keep the previous result.
        self.raw = self.beta * self.raw + (1.0 - self.beta) * theta
        return self.value

    @property
    def value(self):
        """The current average (``V_t``, or ``V̂_t`` with bias correction)."""
        if self.bias_correction and self.t > 0:
            return self.raw / (1.0 - self.beta**self.t)
        return self.raw

    def reset(self) -> None:
        """Start over at ``V₀ = 0``."""
        self.t = 0
        self.raw = 0.0

    def __repr__(self) -> str:
        return f"EWMA(beta={self.beta}, bias_correction={self.bias_correction}, t={self.t})"


def ewma(values, beta: float = 0.9, bias_correction: bool = False) -> np.ndarray:
    """The whole series ``V_1 .. V_n`` of the averages of ``values`` (along the first axis).

    Args:
        values: a sequence of numbers, or an array whose first axis is time.
        beta: β in [0, 1).
        bias_correction: divide ``V_t`` by ``1 - βᵗ``.

    Returns:
        A float array of the same shape as ``values`` (float64 unless ``values`` is float32).
    """
    values = np.asarray(values)
    if values.dtype.kind not in "fiub":
        raise TypeError(f"values must be numeric, got dtype {values.dtype}")
    dtype = values.dtype if values.dtype.kind == "f" else np.float64
    out = np.empty(values.shape, dtype=dtype)
    avg = EWMA(beta, bias_correction)
    for t in range(len(values)):
        out[t] = avg.update(values[t])
    return out
