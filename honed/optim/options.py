"""The optimizers' hyperparameters after ``lr``, declared once (``Optimizer.options``).

Several optimizers share one (RMSprop's and Adam's β₂ and ε): they share the declaration, so
the experiment file's key, its check and its default are the same for both.
"""

from __future__ import annotations

from honed import validation as check
from honed.registry import Option

__all__ = ["BETA", "BETA1", "BETA2", "EPS"]

#: momentum's β: v_dW := β v_dW + (1 - β) dW
BETA = Option("beta", "float", 0.9, check.beta, "β in [0, 1): averaging of dW")
#: Adam's β₁: v_dW := β₁ v_dW + (1 - β₁) dW
BETA1 = Option("beta1", "float", 0.9, check.beta, "β₁ in [0, 1): averaging of dW")
#: RMSprop's and Adam's β₂: s_dW := β₂ s_dW + (1 - β₂) dW²
BETA2 = Option("beta2", "float", 0.999, check.beta, "β₂ in [0, 1): averaging of dW²")
#: RMSprop's and Adam's ε in W := W - α dW / (√s_dW + ε)
EPS = Option("eps", "float", 1e-8, check.positive, "ε > 0 added to √s")
