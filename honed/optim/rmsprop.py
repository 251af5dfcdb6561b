"""RMSprop: divide the step by a running root mean square of the gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from honed.optim.optimizer import OPTIMIZERS, MemberCoefficients, Optimizer
from honed.optim.options import BETA2, EPS

__all__ = ["RMSprop"]


@OPTIMIZERS.register("rmsprop")
class RMSprop(Optimizer):
    """RMSprop, in the notes' form (squares elementwise)::

        s_dW := β₂ s_dW + (1 - β₂) dW²      (s_dW starts at 0)
        W    := W - α dW / (√s_dW + ε)

    Directions with large gradients (the oscillating ones) are damped, small ones sped up.
    ``ε`` keeps the division finite where ``s_dW`` is 0.

    Args:
        params: Parameters (or a module with ``.parameters()``).
        lr: α, a float > 0 or a schedule ``epoch -> lr``.
        beta2: β₂ in [0, 1), default 0.999 (the notes' name, to tell it from momentum's β).
        eps: ε > 0, default 1e-8.

    Note:
        Equals ``torch.optim.RMSprop(params, lr, alpha=beta2, eps=eps)`` (torch's default
        ``alpha`` is 0.99). Keras' ``RMSprop(rho=β₂)`` is the same update with defaults
        ρ = 0.9, ε = 1e-7.
    """

    options = (BETA2, EPS)
    population = True

    def __init__(
        self,
        params,
        lr: float | Callable[[int], float] = 0.001,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ):
        super().__init__(params, lr, beta2=beta2, eps=eps)

    def init_state(self, param) -> dict:
        return {"s": np.zeros_like(param.data), "_scratch": np.empty_like(param.data)}

    @staticmethod
    def member_coefficients(lr, t, beta2, eps) -> MemberCoefficients:
        """``v := g``, ``s := β₂ s + ((1 − β₂) g) g``, ``W := W − α v / (√s + ε)``."""
        return MemberCoefficients(b1=0.0, c1=1.0, b2=beta2, c2=1.0 - beta2, step=lr, e=eps)

    def update(self, param, grad, state, lr) -> None:
        s, scratch = state["s"], state["_scratch"]
        beta2 = self.beta2
        np.multiply(s, beta2, out=s)
        # (1-β₂)·g·g in torch's addcmul order, so float64 trajectories agree to the last bits.
        np.multiply(grad, 1.0 - beta2, out=scratch)
        np.multiply(scratch, grad, out=scratch)
        np.add(s, scratch, out=s)
        np.sqrt(s, out=scratch)
        np.add(scratch, self.eps, out=scratch)
        np.divide(grad, scratch, out=scratch)
        np.multiply(scratch, lr, out=scratch)
        np.subtract(param.data, scratch, out=param.data)
