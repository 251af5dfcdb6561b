"""Gradient descent with momentum (an exponentially weighted average of the gradients)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from honed.optim.optimizer import OPTIMIZERS, MemberCoefficients, Optimizer
from honed.optim.options import BETA

__all__ = ["Momentum"]


@OPTIMIZERS.register("momentum")
class Momentum(Optimizer):
    """Gradient descent with momentum, in the notes' form::

        v_dW := β v_dW + (1 - β) dW        (v_dW starts at 0)
        W    := W - α v_dW

    ``v`` is the EWMA of the gradients over about ``1/(1-β)`` steps: the oscillating
    components average out, the consistent direction accumulates. No bias correction (the
    notes: it is rarely used for momentum), so the first steps are short by a factor
    ``1 - β^t``.

    Args:
        params: Parameters (or a module with ``.parameters()``).
        lr: α, a float > 0 or a schedule ``epoch -> lr``.
        beta: β in [0, 1), default 0.9 (β = 0 is plain gradient descent).

    Note:
        PyTorch's ``SGD(momentum=β)`` drops the ``(1-β)``: ``b := β b + g`` and ``W -= α b``,
        so its α must be ``1/(1-β)`` times smaller (10x for β = 0.9) to take the same steps.
        ``SGD(momentum=β, dampening=β)`` does compute ``β b + (1-β) g`` but starts the buffer
        at the first gradient ``b₁ = g₁``, while here ``v₁ = (1-β) g₁``; after that the two
        recursions are the same, so they differ by the first step only (torch's is 1/(1-β)
        times longer).
    """

    options = (BETA,)
    population = True

    def __init__(self, params, lr: float | Callable[[int], float] = 0.01, beta: float = 0.9):
        super().__init__(params, lr, beta=beta)

    def init_state(self, param) -> dict:
        return {"v": np.zeros_like(param.data), "_scratch": np.empty_like(param.data)}

    @staticmethod
    def member_coefficients(lr, t, beta) -> MemberCoefficients:
        """``v := β v + (1 − β) g``, ``W := W − α v`` (no second moment: divisor 1)."""
        return MemberCoefficients(b1=beta, c1=1.0 - beta, b2=0.0, c2=0.0, step=lr, e=1.0)

    def update(self, param, grad, state, lr) -> None:
        v, scratch = state["v"], state["_scratch"]
        beta = self.beta
        np.multiply(v, beta, out=v)
        np.multiply(grad, 1.0 - beta, out=scratch)
        np.add(v, scratch, out=v)
        np.multiply(v, lr, out=scratch)
        np.subtract(param.data, scratch, out=param.data)
