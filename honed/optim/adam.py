"""Adam: momentum and RMSprop together, with bias correction."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from honed.optim import _validate as check
from honed.optim.optimizer import Optimizer

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam (adaptive moment estimation), in the notes' form (squares elementwise)::

        v_dW := β₁ v_dW + (1 - β₁) dW          (both start at 0)
        s_dW := β₂ s_dW + (1 - β₂) dW²
        v̂ = v_dW / (1 - β₁ᵗ)                  (bias correction; t = 1, 2, ... steps)
        ŝ = s_dW / (1 - β₂ᵗ)
        W    := W - α v̂ / (√ŝ + ε)

    The bias corrections are folded into two scalars, so the hot loop makes no temporaries:
    ``W -= (α √(1-β₂ᵗ) / (1-β₁ᵗ)) · v / (√s + ε √(1-β₂ᵗ))`` — the same number as above.

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

    def __init__(
        self,
        params,
        lr: float | Callable[[int], float] = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ):
        super().__init__(
            params,
            lr,
            beta1=check.beta("beta1", beta1),
            beta2=check.beta("beta2", beta2),
            eps=check.positive("eps", eps),
        )

    def init_state(self, param) -> dict:
        return {
            "v": np.zeros_like(param.data),
            "s": np.zeros_like(param.data),
            "_scratch": np.empty_like(param.data),
        }

    def update(self, param, grad, state, lr) -> None:
        v, s, scratch = state["v"], state["s"], state["_scratch"]
        beta1, beta2, t = self.beta1, self.beta2, state["t"]
        # Scalars in Python floats (float64), so a float32 parameter stays float32.
        bc1 = 1.0 - beta1**t
        bc2_sqrt = math.sqrt(1.0 - beta2**t)
        step = lr * bc2_sqrt / bc1
        np.multiply(v, beta1, out=v)
        np.multiply(grad, 1.0 - beta1, out=scratch)
        np.add(v, scratch, out=v)
        np.multiply(s, beta2, out=s)
        np.multiply(grad, 1.0 - beta2, out=scratch)
        np.multiply(scratch, grad, out=scratch)
        np.add(s, scratch, out=s)
        np.sqrt(s, out=scratch)
        np.add(scratch, self.eps * bc2_sqrt, out=scratch)
        np.divide(v, scratch, out=scratch)
        np.multiply(scratch, step, out=scratch)
        np.subtract(param.data, scratch, out=param.data)
