"""Losses (each returns the mean cost J over the m examples) and accuracy helpers.

Losses take the network's raw outputs: logits for the cross-entropies with logits (stable,
fused), probabilities for :func:`binary_cross_entropy`. Rows are examples.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from honed.autograd import Tensor, clip, log, sigmoid_cross_entropy
from honed.autograd import softmax_cross_entropy as _softmax_ce
from honed.autograd.ops import as_tensor
from honed.registry import Registry


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


# -- losses as objects ---------------------------------------------------------------------
class Loss:
    """A loss as the Trainer uses it: the cost J from the network's outputs, the output
    activation that turns outputs into probabilities for ``predict_proba``, and the error
    metric reported per epoch.

    Subclass and register (``@LOSSES.register("name")``) to add one; a registered loss can be
    named in an experiment file (``train.loss``).

    Attributes:
        name: the registered name.
        output: ``"softmax"``, ``"sigmoid"`` or ``"identity"``: what ``predict_proba``
            applies to the network's outputs.
        metric: the name of what :meth:`error` measures (``"error"`` or ``"mse"``).
    """

    name = "loss"
    output = "identity"
    metric = "error"

    def __call__(self, outputs: Tensor, targets) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def error(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        """The fraction of wrong predictions (``nan`` for no examples)."""
        if len(targets) == 0:
            return math.nan
        return np.count_nonzero(self.predict(outputs) != _labels(targets)) / len(targets)

    def predict(self, outputs: np.ndarray) -> np.ndarray:
        """Class labels from outputs."""
        return predict_labels(outputs)

    def to_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Loss:
        extra = sorted(set(config) - {"name"})
        if extra:
            raise ValueError(f"loss {cls.name!r} takes no arguments, got {', '.join(extra)}")
        return cls()

    def __eq__(self, other) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


#: Registered losses (``train.loss`` in an experiment file).
LOSSES: Registry[type[Loss]] = Registry("loss")


@LOSSES.register("softmax_cross_entropy", aliases=("cross_entropy", "categorical_cross_entropy"))
class SoftmaxCrossEntropy(Loss):
    """Softmax regression's cost on logits; labels are integers (or one-hot rows).

    ``J = −(1/m) Σ_i log softmax(z_i)_{y_i}``, fused and stable; backward ``(ŷ − y)/m``.
    """

    name = "softmax_cross_entropy"
    output = "softmax"

    def __call__(self, outputs, targets):
        return _softmax_ce(outputs, targets)

    def error(self, outputs, targets):
        if len(targets) == 0:
            return math.nan
        if targets.ndim == 1:  # the hot path: once per mini-batch, no np.mean wrapper
            return np.count_nonzero(outputs.argmax(axis=1) != targets) / len(targets)
        return super().error(outputs, targets)


@LOSSES.register(
    "sigmoid_cross_entropy", aliases=("binary_cross_entropy_with_logits", "bce_with_logits")
)
class SigmoidCrossEntropy(Loss):
    """Logistic regression's cost on one logit per example; labels 0/1.

    ``J = (1/m) Σ [max(z, 0) − z·y + log(1 + e^(−|z|))] = BCE(σ(z), y)``, never overflowing.
    A prediction is 1 where ``z > 0`` (``σ(z) > 0.5``).
    """

    name = "sigmoid_cross_entropy"
    output = "sigmoid"

    def __call__(self, outputs, targets):
        return sigmoid_cross_entropy(outputs, targets)

    def predict(self, outputs):
        return predict_labels(outputs, threshold=0.0)


@LOSSES.register("binary_cross_entropy", aliases=("bce",))
class BinaryCrossEntropy(Loss):
    """The binary cross-entropy of probabilities p (the network ends in a sigmoid):
    ``J = −(1/m) Σ [y log p + (1 − y) log(1 − p)]``, p clipped to [1e-7, 1 − 1e-7].
    A prediction is 1 where ``p > 0.5``. Prefer ``sigmoid_cross_entropy`` on logits."""

    name = "binary_cross_entropy"
    output = "identity"

    def __call__(self, outputs, targets):
        return binary_cross_entropy(outputs, targets)

    def predict(self, outputs):
        return predict_labels(outputs, threshold=0.5)


@LOSSES.register("mse", aliases=("mean_squared_error",))
class MeanSquaredError(Loss):
    """``J = 1/(2m) Σ_i ‖ŷ_i − y_i‖²`` (the notes' form); its metric is the mean squared error
    over all entries (no ½), reported where classifiers report their error."""

    name = "mse"
    output = "identity"
    metric = "mse"

    def __call__(self, outputs, targets):
        return mean_squared_error(outputs, targets)

    def error(self, outputs, targets):
        if len(targets) == 0:
            return math.nan
        diff = outputs.reshape(targets.shape) - targets
        return float(np.mean(diff * diff))

    def predict(self, outputs):
        return np.asarray(outputs)


def get_loss(name: str | Loss | Callable[..., Tensor]) -> Loss | Callable[..., Tensor]:
    """The registered loss called ``name`` (a :class:`Loss` object), or ``name`` itself if it
    is already a loss object or a callable ``(outputs, targets) -> J``."""
    if isinstance(name, Loss) or callable(name) and not isinstance(name, type):
        return name
    if isinstance(name, type) and issubclass(name, Loss):
        return name()
    return LOSSES.get(str(name))()


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
    "BinaryCrossEntropy",
    "Loss",
    "MeanSquaredError",
    "SigmoidCrossEntropy",
    "SoftmaxCrossEntropy",
    "accuracy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "error_rate",
    "get_loss",
    "mean_squared_error",
    "predict_labels",
    "softmax_cross_entropy",
]
