"""Plain gradient descent."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from honed.optim.optimizer import OPTIMIZERS, MemberCoefficients, Optimizer

__all__ = ["GD"]


@OPTIMIZERS.register("gd")
class GD(Optimizer):
    """Gradient descent: ``W := W - α dW``.

    Batch, mini-batch or stochastic gradient descent is the same update; which one you get
    depends only on how many examples the cost that produced ``dW`` averaged over (all ``m``,
    a mini-batch, or one).

    Args:
        params: Parameters (or a module with ``.parameters()``).
        lr: α, a float > 0 or a schedule ``epoch -> lr``.

    Note:
        Same as ``torch.optim.SGD(params, lr)`` (no momentum, no weight decay); L2 "weight
        decay" is part of the cost in honed (``honed.nn``), not of the optimizer.

    Example (the notes' quadratic, minimum at w = 5)::

        w = Parameter(0.0)
        opt = GD([w], lr=0.01)
        for _ in range(1000):
            opt.minimize(w**2 - 10*w + 25)
    """

    population = True

    def __init__(self, params, lr: float | Callable[[int], float] = 0.01):
        super().__init__(params, lr)

    def init_state(self, param) -> dict:
        return {"_scratch": np.empty_like(param.data)}

    @staticmethod
    def member_coefficients(lr, t) -> MemberCoefficients:
        """``v := g``, ``W := W − α v`` (``s`` stays 0, the divisor √0 + 1 is exactly 1)."""
        return MemberCoefficients(b1=0.0, c1=1.0, b2=0.0, c2=0.0, step=lr, e=1.0)

    def update(self, param, grad, state, lr) -> None:
        scratch = state["_scratch"]
        np.multiply(grad, lr, out=scratch)
        np.subtract(param.data, scratch, out=param.data)
