"""Each member's error on a batch, from the outputs of a model with a member axis.

The numbers are those of the loss's own :meth:`~honed.nn.losses.Loss.error` on member k's
outputs alone (what its standalone ``Trainer`` reports), for all members in a few NumPy
passes: outputs ``(P, B, C)``, targets shared ``(B, ...)`` or per member ``(P, B, ...)``.

* classification: the fraction of wrong predictions, the arg-max of C > 1 logits, or
  ``z > 0`` for one logit (``sigmoid_cross_entropy``);
* regression: the RMSE ``sqrt(mean_ij (ŷ_kij − y_kij)²)``.
"""

from __future__ import annotations

import numpy as np


def member_errors(loss, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(P,) float64: each member's error (see the module docstring); NaN without rows."""
    P, B = outputs.shape[0], outputs.shape[1]
    if B == 0:
        return np.full(P, np.nan)
    y = np.asarray(targets)
    if getattr(loss, "task", "classification") == "regression":
        shape = (P, B, -1) if y.ndim == outputs.ndim or y.size == outputs.size else (1, B, -1)
        diff = outputs.reshape(P, B, -1) - y.reshape(shape)
        return np.sqrt(np.mean(diff * diff, axis=(1, 2))).astype(np.float64)
    if outputs.shape[2] > 1:
        predicted = outputs.argmax(axis=2)
    else:
        predicted = (outputs[:, :, 0] > 0.0).astype(np.int64)
    labels = y.reshape((P, B) if y.size == P * B else (1, B)).astype(np.int64, copy=False)
    return np.count_nonzero(predicted != labels, axis=1) / B


__all__ = ["member_errors"]
