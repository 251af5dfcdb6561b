"""Weight penalties: L2 (weight decay), L1 and elastic net.

Applied to weight matrices only: each layer lists its penalized parameters in
``_regularized`` (``Dense.W``, ``Maxout.W``); biases and batch norm's γ, β are never
penalized (notes: b adds one number per unit, it hardly matters, so it is left out).

With the cost ``J = (1/m) Σ L(ŷ, y) + penalty``:

* L2: ``λ/(2m) Σ_l ‖W[l]‖²_F``. Its gradient is ``(λ/m)·W``, so one gradient-descent step
  is ``W := (1 − αλ/m)·W − α·dW_loss``: "weight decay".
* L1: ``λ/m Σ_l Σ |W[l]|`` (gradient ``(λ/m)·sign(W)``), which drives some weights to exactly
  zero (sparse, compressible models).
* Elastic net: both, with their own λ.

With a stacked model (:mod:`honed.nn.members`) each member k has its own λ₁_k, λ₂_k (a (P,)
array, or one number for all) and the penalty is each member's, a (P,) vector added to the
members' costs J (P,): ``λ₂_k/(2m) Σ‖W_k‖²_F + λ₁_k/m Σ|W_k|``.

Note:
    The notes also write L1 as ``λ/(2m) Σ|W|``; that is our L1 with λ halved. PyTorch and
    Keras know no ``m``: PyTorch's ``weight_decay=wd`` adds ``wd·W`` to the gradient (our
    ``l2 = wd·m``), Keras' ``l2(c)`` adds ``c·Σ W²`` to the loss (our ``l2 = 2·c·m``).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from honed import validation as check
from honed.autograd import Tensor, sum_of_squares
from honed.autograd import abs as t_abs


def _weights(model_or_weights) -> list[Tensor]:
    if hasattr(model_or_weights, "named_weights"):
        return [w for _, w in model_or_weights.named_weights()]
    return list(model_or_weights)


def _check_lambdas(l1, l2) -> None:
    for name, value in (("l1", l1), ("l2", l2)):
        if np.ndim(value):
            for v in np.asarray(value, dtype=object).reshape(-1):
                check.non_negative(name, v)
        else:
            check.non_negative(name, value)


def _member_lambdas(model_or_weights, l1, l2):
    """``(P, l1, l2)``: for a stacked model (:mod:`honed.nn.members`) P and λ₁, λ₂ as (P,)
    float64 arrays (one λ per member, or one for all); for a standalone model None and the
    floats. A λ per member for a standalone model is a ValueError."""
    P = getattr(model_or_weights, "members", None)
    if P is None:
        for name, value in (("l1", l1), ("l2", l2)):
            if np.ndim(value):
                raise ValueError(
                    f"{name} has one value per member ({np.shape(value)}), but the model is "
                    "not a stacked model (honed.nn.members.stack)"
                )
        return None, float(l1), float(l2)
    out = []
    for name, value in (("l1", l1), ("l2", l2)):
        lam = np.asarray(value, dtype=np.float64)
        if lam.ndim and lam.shape != (P,):
            raise ValueError(f"{name} must be one number or {P} (one per member), got {lam.shape}")
        out.append(np.broadcast_to(lam, (P,)).copy())
    return P, out[0], out[1]


def _per_member(lam: np.ndarray, W: np.ndarray) -> np.ndarray:
    """λ (P,) shaped to broadcast against W (P, ...) in W's dtype."""
    return lam.astype(W.dtype).reshape((-1,) + (1,) * (W.ndim - 1))


def _check_m(m) -> float:
    if m is None or not m >= 1:
        raise ValueError(f"m (the number of examples the loss averages over) must be >= 1, got {m}")
    return float(m)


def l2_penalty(weights: Iterable[Tensor], l2: float, m: int) -> Tensor:
    """``λ/(2m) Σ ‖W‖²_F`` over ``weights`` (λ = ``l2``)."""
    return penalty(weights, l2=l2, m=m)


def l1_penalty(weights: Iterable[Tensor], l1: float, m: int) -> Tensor:
    """``λ/m Σ |W|`` over ``weights`` (λ = ``l1``)."""
    return penalty(weights, l1=l1, m=m)


def elastic_net(weights: Iterable[Tensor], l1: float, l2: float, m: int) -> Tensor:
    """``λ₁/m Σ|W| + λ₂/(2m) Σ‖W‖²_F``."""
    return penalty(weights, l1=l1, l2=l2, m=m)


def penalty(model_or_weights, l1: float = 0.0, l2: float = 0.0, m: int | None = None) -> Tensor:
    """The weight penalty ``λ₁/m Σ|W| + λ₂/(2m) Σ‖W‖²_F`` as a scalar Tensor.

    Args:
        model_or_weights: a Module (its ``named_weights()``: weight matrices only) or an
            iterable of weight tensors.
        l1, l2: λ₁ and λ₂ (≥ 0); for a stacked model one number or a (P,) array, one λ
            per member.
        m: the number of examples the mean loss is taken over (the mini-batch size).

    Returns:
        A scalar Tensor to add to the mean loss (for a stacked model a (P,) Tensor, each
        member's, to add to its costs J). When both λ are 0 it is a constant zero and
        builds no graph (``m`` is then not needed).
    """
    _check_lambdas(l1, l2)
    P, l1, l2 = _member_lambdas(model_or_weights, l1, l2)
    weights = _weights(model_or_weights)
    dtype = weights[0].dtype if weights else np.float32
    if P is not None:
        return _member_penalty(weights, l1, l2, m, P, dtype)
    if l1 == 0 and l2 == 0:
        return Tensor(np.zeros((), dtype))
    m = _check_m(m)
    total = None
    for W in weights:
        term = None
        if l2:
            term = sum_of_squares(W) * (l2 / (2.0 * m))
        if l1:
            t1 = t_abs(W).sum() * (l1 / m)
            term = t1 if term is None else term + t1
        total = term if total is None else total + term
    if total is None:
        return Tensor(np.zeros((), dtype))
    return total


def _member_penalty(weights, l1: np.ndarray, l2: np.ndarray, m, P: int, dtype) -> Tensor:
    """Each member's ``λ₁_k/m Σ|W_k| + λ₂_k/(2m) Σ‖W_k‖²_F`` as a (P,) Tensor."""
    if not l1.any() and not l2.any():
        return Tensor(np.zeros(P, dtype))
    m = _check_m(m)
    total = None
    for W in weights:
        axes = tuple(range(1, W.ndim))
        term = None
        if l2.any():
            term = (W * W).sum(axis=axes) * (l2 / (2.0 * m)).astype(W.dtype)
        if l1.any():
            t1 = t_abs(W).sum(axis=axes) * (l1 / m).astype(W.dtype)
            term = t1 if term is None else term + t1
        total = term if total is None else total + term
    return Tensor(np.zeros(P, dtype)) if total is None else total


class WeightPenalty:
    """The same penalty as :func:`penalty`, applied outside the autograd graph.

    ``value(m)`` is ``λ₁/m Σ|W| + λ₂/(2m) Σ‖W‖²_F`` (a float) and ``add_gradient(m)`` adds its
    gradient ``(λ₁/m)·sign(W) + (λ₂/m)·W`` to each ``W.grad`` in place, after
    ``cost.backward()`` on the loss alone. The numbers are those of the graph path; the work
    is less: the graph builds the penalty's nodes at every step, allocates ``(λ₂/m)·W`` and
    then a new array for ``dW_loss + (λ₂/m)·W``, where this makes two passes into a reused
    scratch array and ``W.grad``. The :class:`~honed.train.Trainer` uses it.

    Args:
        model_or_weights: a Module (its weight matrices) or an iterable of weight tensors.
        l1, l2: λ₁ and λ₂ (≥ 0).
    """

    def __init__(self, model_or_weights, l1=0.0, l2=0.0):
        _check_lambdas(l1, l2)
        self.weights = _weights(model_or_weights)
        self.members, self.l1, self.l2 = _member_lambdas(model_or_weights, l1, l2)
        self._scratch: dict[int, np.ndarray] = {}

    def value(self, m: int):
        """``λ₁/m Σ|W| + λ₂/(2m) Σ‖W‖²_F`` for a mini-batch of ``m`` examples: a float, or
        for a stacked model each member's (a (P,) float64 array, λ per member)."""
        m = _check_m(m)
        if self.members is not None:
            return self._member_value(m)
        total = 0.0
        for W in self.weights:
            flat = W.data.reshape(-1)
            if self.l2:
                total += float(np.dot(flat, flat)) * (self.l2 / (2.0 * m))
            if self.l1:
                total += float(np.abs(flat).sum()) * (self.l1 / m)
        return total

    def _member_value(self, m: float) -> np.ndarray:
        total = np.zeros(self.members)
        for W in self.weights:
            flat = W.data.reshape(self.members, -1)
            if self.l2.any():
                total += np.einsum("ij,ij->i", flat, flat) * (self.l2 / (2.0 * m))
            if self.l1.any():
                total += np.abs(flat).sum(axis=1) * (self.l1 / m)
        return total

    def add_gradient(self, m: int) -> None:
        """``W.grad += (λ₁/m)·sign(W) + (λ₂/m)·W`` for every weight matrix (in place); for a
        stacked model member k's λ on member k's ``W_k``."""
        m = _check_m(m)
        members = self.members is not None
        l1 = self.l1.any() if members else self.l1
        l2 = self.l2.any() if members else self.l2
        for W in self.weights:
            scratch = self._scratch.get(id(W))
            if scratch is None or scratch.shape != W.data.shape or scratch.dtype != W.data.dtype:
                scratch = self._scratch[id(W)] = np.empty_like(W.data)
            if W.grad is None:  # the loss did not reach W: its gradient is the penalty's alone
                W.grad = np.zeros_like(W.data)
            if l2:
                coef = _per_member(self.l2 / m, W.data) if members else self.l2 / m
                np.multiply(W.data, coef, out=scratch)
                W.grad += scratch
            if l1:
                np.sign(W.data, out=scratch)
                scratch *= _per_member(self.l1 / m, W.data) if members else self.l1 / m
                W.grad += scratch


__all__ = ["WeightPenalty", "elastic_net", "l1_penalty", "l2_penalty", "penalty"]
