"""The notes' logic gates as perceptrons, and XOR from two layers of them.

    AND:  w = (2, 2),   b = −3        OR:  w = (2, 2), b = −1
    NAND: w = (−2, −2), b = 3         XOR(x) = AND(NAND(x), OR(x))

No single perceptron computes XOR: its decision boundary is one line, and XOR's positive
examples (0,1), (1,0) are not linearly separable from (0,0), (1,1). Two layers are enough.
"""

from __future__ import annotations

import numpy as np

from honed.nn.layers import Perceptron

AND = Perceptron([2.0, 2.0], -3.0)
OR = Perceptron([2.0, 2.0], -1.0)
NAND = Perceptron([-2.0, -2.0], 3.0)

#: the four inputs of a two-input truth table, in the notes' order.
INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def XOR(x):
    """XOR by a two-layer perceptron network: s1 = NAND(x), s2 = OR(x), y = AND(s1, s2)."""
    x = np.asarray(x, np.float64)
    single = x.ndim == 1
    x = np.atleast_2d(x)
    hidden = np.stack([NAND(x), OR(x)], axis=1)
    y = AND(hidden)
    return y[0] if single else y


def truth_table(gate) -> np.ndarray:
    """Rows ``(x1, x2, y)`` of ``gate`` over :data:`INPUTS`."""
    y = np.asarray(gate(INPUTS), np.float64).reshape(-1, 1)
    return np.hstack([INPUTS, y]).astype(np.int64)


__all__ = ["AND", "INPUTS", "NAND", "OR", "XOR", "truth_table"]
