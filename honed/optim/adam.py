"""Adam: momentum and RMSprop together, with bias correction."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from honed.optim.optimizer import OPTIMIZERS, MemberCoefficients, Optimizer, exact_power
from honed.optim.options import BETA1, BETA2, EPS

__all__ = ["Adam"]


@OPTIMIZERS.register("adam")
class Adam(Optimizer):
    """Adam (adaptive moment estimation), in the notes' form (squares elementwise)::

        v_dW := β₁ v_dW + (1 - β₁) dW          (both start at 0)
        s_dW := β₂ s_dW + (1 - β₂) dW²
        v̂ = v_dW / (1 - β₁ᵗ)                  (bias correction; t = 1, 2, ... steps)
        ŝ = s_dW / (1 - β₂ᵗ)
        W    := W - α v̂ / (√ŝ + ε)

    Implementation (the hot path of training, so it makes no temporaries and as few passes
    over memory as it can: 10 in-place ufunc calls per parameter): the state keeps the sums
    without their ``(1-β)`` factors, ``m = v_dW / (1-β₁)`` and ``u = s_dW / (1-β₂)``, which
    saves a pass each::

        m := β₁ m + dW
        u := β₂ u + dW²
        W := W - c · m / (√u + ε')   with  a = √((1-β₂) / (1-β₂ᵗ)),
                                           c = α (1-β₁) / ((1-β₁ᵗ) a),  ε' = ε / a

    which is the update above exactly, up to rounding (all scalars in Python floats, so a
    float32 parameter stays float32).

    Args:
        params: Parameters (or a module with ``.parameters()``).
        lr: α, a float > 0 or a schedule ``epoch -> lr``; default 0.001.
        beta1: β₁ in [0, 1) (momentum), default 0.9.
        beta2: β₂ in [0, 1) (RMSprop), default 0.999.
        eps: ε > 0, default 1e-8.

    Note:
        Same algorithm as ``torch.optim.Adam`` (torch computes ``α/(1-β₁ᵗ) · v /
        (√s/√(1-β₂ᵗ) + ε)``; float64 trajectories agree to ~1e-15) and Keras' Adam with
        ``epsilon=1e-8`` (Keras' default ε is 1e-7). ``t`` counts the updates of each
        parameter (``state["t"]``), as in torch.
    """

    options = (BETA1, BETA2, EPS)
    population = True

    def __init__(
        self,
        params,
        lr: float | Callable[[int], float] = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ):
        super().__init__(params, lr, beta1=beta1, beta2=beta2, eps=eps)

    def init_state(self, param) -> dict:
        # "m" = v_dW / (1-β₁) and "u" = s_dW / (1-β₂): see the class docstring.
        return {
            "m": np.zeros_like(param.data),
            "u": np.zeros_like(param.data),
            "_scratch": np.empty_like(param.data),
        }

    member_coefficients_use_t = True

    @staticmethod
    def member_coefficients(lr, t, beta1, beta2, eps) -> MemberCoefficients:
        """``v = m``, ``s = u`` of :meth:`update` (``b1 = β₁, c1 = 1, b2 = β₂, c2 = 1``) and
        its scalars ``step = c = α(1−β₁)/((1−β₁ᵗ) a)``, ``e = ε' = ε/a``,
        ``a = √((1−β₂)/(1−β₂ᵗ))``, in :meth:`update`'s order of operations."""
        with np.errstate(divide="ignore", invalid="ignore"):  # t = 0: never used
            a = np.sqrt((1.0 - beta2) / (1.0 - exact_power(beta2, t)))
            step = lr * (1.0 - beta1) / ((1.0 - exact_power(beta1, t)) * a)
            return MemberCoefficients(b1=beta1, c1=1.0, b2=beta2, c2=1.0, step=step, e=eps / a)

    def update(self, param, grad, state, lr) -> None:
        m, u, scratch = state["m"], state["u"], state["_scratch"]
        beta1, beta2, t = self.beta1, self.beta2, state["t"]
        a = math.sqrt((1.0 - beta2) / (1.0 - beta2**t))  # √ŝ = a √u
        c = lr * (1.0 - beta1) / ((1.0 - beta1**t) * a)
        np.multiply(m, beta1, out=m)
        np.add(m, grad, out=m)
        np.multiply(u, beta2, out=u)
        np.multiply(grad, grad, out=scratch)
        np.add(u, scratch, out=u)
        np.sqrt(u, out=scratch)
        np.add(scratch, self.eps / a, out=scratch)
        np.divide(m, scratch, out=scratch)
        np.multiply(scratch, c, out=scratch)
        np.subtract(param.data, scratch, out=param.data)

    def moments(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """The notes' ``(v_dW, s_dW)`` of ``params[index]`` (new arrays; zeros before a step)."""
        state = self.state[index]
        if state is None:
            zeros = np.zeros_like(self.params[index].data)
            return zeros, zeros.copy()
        return (1.0 - self.beta1) * state["m"], (1.0 - self.beta2) * state["u"]
