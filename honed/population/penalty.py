"""Weight penalties with one λ per member, outside the autograd graph.

Member k of a model with a member axis (every weight ``W`` is ``(P, ...)``)::

    value_k    = λ₁_k/m Σ_W Σ|W_k| + λ₂_k/(2m) Σ_W ‖W_k‖²_F
    dW_k      += (λ₁_k/m)·sign(W_k) + (λ₂_k/m)·W_k

the numbers of :class:`honed.nn.regularizers.WeightPenalty` for each member's standalone
model (the same products, the same order of additions into ``W.grad``).
"""

from __future__ import annotations

import numpy as np


class MemberPenalty:
    """L1/L2 on a member-axis model's weight matrices (``named_weights``), λ per member.

    Args:
        model: the stacked model.
        l1, l2: (P,) λ₁ and λ₂ of each member (≥ 0; checked by the members' validation).
    """

    def __init__(self, model, l1, l2):
        self.weights = [w for _, w in model.named_weights()]
        self.set(l1, l2)

    def set(self, l1, l2) -> None:
        """New λ per member (after members were removed, or PBT changed them)."""
        self.l1 = np.asarray(l1, dtype=np.float64)
        self.l2 = np.asarray(l2, dtype=np.float64)
        self.any_l1, self.any_l2 = bool((self.l1 > 0).any()), bool((self.l2 > 0).any())

    def __bool__(self) -> bool:
        return self.any_l1 or self.any_l2

    def value(self, m: int) -> np.ndarray:
        """(P,) ``λ₁_k/m Σ|W_k| + λ₂_k/(2m) Σ‖W_k‖²`` in float64."""
        total = np.zeros(len(self.l1))
        for W in self.weights:
            flat = W.data.reshape(W.data.shape[0], -1)
            if self.any_l2:
                squares = np.einsum("ij,ij->i", flat, flat).astype(np.float64)
                total += squares * (self.l2 / (2.0 * m))
            if self.any_l1:
                total += np.abs(flat).sum(axis=1).astype(np.float64) * (self.l1 / m)
        return total

    def add_gradient(self, m: int) -> None:
        """``W.grad += (λ₁/m)·sign(W) + (λ₂/m)·W``, member by member's λ, in place."""
        for W in self.weights:
            shape = (-1,) + (1,) * (W.data.ndim - 1)
            if W.grad is None:
                W.grad = np.zeros_like(W.data)
            if self.any_l2:
                W.grad += W.data * (self.l2 / m).astype(W.data.dtype).reshape(shape)
            if self.any_l1:
                W.grad += np.sign(W.data) * (self.l1 / m).astype(W.data.dtype).reshape(shape)


__all__ = ["MemberPenalty"]
