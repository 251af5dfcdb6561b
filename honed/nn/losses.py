"""Losses (each returns the mean cost J over the m examples) and accuracy helpers.

Losses take the network's raw outputs: logits for the cross-entropies with logits (stable,
fused), probabilities for :func:`binary_cross_entropy`. Rows are examples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from honed.autograd import Tensor, clip, log, sigmoid_cross_entropy
from honed.autograd import softmax_cross_entropy as _softmax_ce
from honed.autograd.ops import as_tensor


def _target_like(targets, ref: Tensor) -> Tensor:
    y = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if y.shape != ref.shape:
        if y.size != ref.size:
            raise ValueError(f"targets have shape {y.shape}, predictions have {ref.shape}")
        y = y.reshape(ref.shape)
    return Tensor(y.astype(ref.dtype, copy=False))


def binary_cross_entropy(probs, targets, eps: float = 1e-7) -> Tensor:
    """J = −(1/m) Σ [y·log p + (1 − y)·log(1 − p)] from probabilities p.

    p is clipped to [eps, 1 − eps] so that log never sees 0 (where the gradient is 0, as
    with any clipping).

    Note:
        Prefer :func:`binary_cross_entropy_with_logits` when you have logits: it is exact
        and stable where σ(z) rounds to 0 or 1. PyTorch's ``BCELoss`` clamps log at −100
        instead of clipping p.
    """
    p = as_tensor(probs)
    y = _target_like(targets, p)
    m = p.shape[0] if p.ndim else 1
    p = clip(p, eps, 1.0 - eps)
    return -(y * log(p) + (1.0 - y) * log(1.0 - p)).sum() / m


def binary_cross_entropy_with_logits(logits, targets) -> Tensor:
    """J = (1/m) Σ [max(z, 0) − z·y + log(1 + e^(−|z|))] = BCE(σ(z), y), never overflowing;
    backward ``(σ(z) − y)/m``."""
    return sigmoid_cross_entropy(logits, targets)


def softmax_cross_entropy(logits, labels) -> Tensor:
    """J = −(1/m) Σ_i Σ_k y_ik log softmax(z_i)_k; labels are integers (m,) or one-hot (m, C).

    Fused: log-sum-exp keeps it stable, and backward is the notes' ``dz = (ŷ − y)/m``.
    """
    return _softmax_ce(logits, labels)


def mean_squared_error(pred, target) -> Tensor:
    """J = 1/(2N) Σ_i ‖ŷ_i − y_i‖² over the N rows (the notes' form).

    Note:
        PyTorch's ``MSELoss`` and Keras' ``mse`` are ``1/(N·d) Σ (ŷ − y)²``: no ½ and averaged
        over all N·d elements. Ours is ``d/2`` times theirs.
    """
    p = as_tensor(pred)
    y = _target_like(target, p)
    n = p.shape[0] if p.ndim else 1
    diff = p - y
    return (diff * diff).sum() / (2.0 * n)


LOSSES: dict[str, Callable[..., Tensor]] = {
    "softmax_cross_entropy": softmax_cross_entropy,
    "cross_entropy": softmax_cross_entropy,
    "categorical_cross_entropy": softmax_cross_entropy,
    "binary_cross_entropy": binary_cross_entropy,
    "bce": binary_cross_entropy,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "bce_with_logits": binary_cross_entropy_with_logits,
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
}


def get_loss(name: str | Callable[..., Tensor]) -> Callable[..., Tensor]:
    """The loss called ``name`` (or ``name`` itself if callable)."""
    if callable(name):
        return name
    fn = LOSSES.get(str(name).lower())
    if fn is None:
        raise ValueError(f"unknown loss {name!r}; valid names: {', '.join(sorted(LOSSES))}")
    return fn


# -- metrics (numpy, no graph) ----------------------------------------------------------------
def predict_labels(scores, threshold: float = 0.0) -> np.ndarray:
    """Class predictions from scores (m, C): the arg-max; from one column or (m,): 1 where
    ``score > threshold`` (0 for logits, 0.5 for probabilities)."""
    s = np.asarray(scores.data if isinstance(scores, Tensor) else scores)
    if s.ndim == 2 and s.shape[1] > 1:
        return s.argmax(axis=1)
    return (s.reshape(len(s)) > threshold).astype(np.int64)


def _labels(labels) -> np.ndarray:
    y = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(len(y)).astype(np.int64)


def accuracy(scores, labels, threshold: float = 0.0) -> float:
    """Fraction of examples whose predicted class equals the label (int or one-hot labels).

    ``threshold`` only matters for a single output column: 0 for logits, 0.5 for
    probabilities.
    """
    pred = predict_labels(scores, threshold)
    y = _labels(labels)
    if pred.shape != y.shape:
        raise ValueError(f"{len(pred)} predictions but {len(y)} labels")
    return float((pred == y).mean()) if len(y) else 0.0


def error_rate(scores, labels, threshold: float = 0.0) -> float:
    """1 − accuracy: the notes' train / dev error."""
    return 1.0 - accuracy(scores, labels, threshold)


__all__ = [
    "LOSSES",
    "accuracy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "error_rate",
    "get_loss",
    "mean_squared_error",
    "predict_labels",
    "softmax_cross_entropy",
]
