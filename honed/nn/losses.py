"""Losses (each returns the mean cost J over the m examples) and accuracy helpers.

Losses take the network's raw outputs: logits for the cross-entropies with logits (stable,
fused), probabilities for :func:`binary_cross_entropy`. Rows are examples.

Outputs with a member axis, (P, m, d) from a stacked model (:mod:`honed.nn.members`), give
each member's cost ``J`` (P,), member k's equal to its standalone model's; targets are
shared (one member's shape) or per member (a leading P). Back-propagate ``J.sum()``: member
k's parameters get ∂J_k/∂θ_k. Every loss here takes a member axis.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from honed import validation as check
from honed.autograd import Tensor, abs, clip, log, sigmoid_cross_entropy  # noqa: A004
from honed.autograd import softmax_cross_entropy as _softmax_ce
from honed.autograd.ops import as_tensor
from honed.registry import Option, Registry


def _target_like(targets, ref: Tensor) -> Tensor:
    """Targets shaped like the predictions ``ref``; with a member axis (``ref`` (P, m, d)),
    targets of one member's size are shared by all (kept (m, d), broadcast by the ops)."""
    y = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if y.shape != ref.shape:
        if y.size == ref.size:
            y = y.reshape(ref.shape)
        elif ref.ndim == 3 and y.size * ref.shape[0] == ref.size:
            y = y.reshape(ref.shape[1:])
        else:
            raise ValueError(f"targets have shape {y.shape}, predictions have {ref.shape}")
    return Tensor(y.astype(ref.dtype, copy=False))


def _per_example_sum(t: Tensor) -> tuple[Tensor, int]:
    """``(Σ t, m)``: the sum over all entries and the number of rows m; with a member axis
    (``t`` (P, m, d)), each member's sum (P,) over its own m rows."""
    if t.ndim == 3:
        return t.sum(axis=(1, 2)), t.shape[1]
    return t.sum(), (t.shape[0] if t.ndim else 1)


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
    p = clip(p, eps, 1.0 - eps)
    total, m = _per_example_sum(-(y * log(p) + (1.0 - y) * log(1.0 - p)))
    return total / m


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
    diff = p - y
    total, n = _per_example_sum(diff * diff)
    return total / (2.0 * n)


def mean_absolute_error(pred, target) -> Tensor:
    """J = (1/N) Σ_i ‖ŷ_i − y_i‖₁ over the N rows (absolute errors summed over the d targets).

    Note:
        PyTorch's ``l1_loss`` averages over all N·d elements: ours is ``d`` times theirs
        (equal for one target). The gradient at ŷ = y is taken as 0.
    """
    p = as_tensor(pred)
    y = _target_like(target, p)
    total, n = _per_example_sum(abs(p - y))
    return total / n


def huber(pred, target, delta: float = 1.0) -> Tensor:
    """J = (1/N) Σ_i Σ_j h_δ(ŷ_ij − y_ij) with ``h_δ(r) = ½ r²`` for ``|r| ≤ δ`` and
    ``δ (|r| − ½ δ)`` beyond: quadratic near 0 like :func:`mean_squared_error`, linear (so
    outliers pull less) beyond δ.

    Written as ``q = min(|r|, δ)``: ``h_δ(r) = ½ q² + δ (|r| − q)``.

    Note:
        PyTorch's ``huber_loss(delta=δ)`` is the same h_δ averaged over all N·d elements:
        ours is ``d`` times theirs (equal for one target).
    """
    p = as_tensor(pred)
    y = _target_like(target, p)
    a = abs(p - y)
    q = clip(a, None, delta)
    total, n = _per_example_sum(0.5 * (q * q) + delta * (a - q))
    return total / n


def regression_metrics(pred, target, scale=None) -> dict[str, float]:
    """RMSE, MAE and R² of predictions, in the targets' units.

    ``scale`` (σ per target column) turns standardized values back into the targets' units
    first: ``e = (ŷ − y) · σ``. Then, over the N rows and d target columns,

        RMSE = sqrt(mean e²),  MAE = mean |e|,
        R²   = mean_j [1 − Σ_i e_ij² / Σ_i (y_ij − ȳ_j)²]

    (R² per column, averaged, as scikit-learn's ``r2_score``; it does not depend on ``σ``.
    A column whose targets do not vary has no R² and is left out of the mean.)
    """
    p = np.asarray(pred, dtype=np.float64)
    y = np.asarray(target, dtype=np.float64)
    if len(y) == 0:
        return {"rmse": math.nan, "mae": math.nan, "r2": math.nan}
    p = p.reshape(len(p), -1)
    y = y.reshape(len(y), -1)
    e = p - y
    if scale is not None:
        e = e * np.asarray(scale, dtype=np.float64).reshape(1, -1)
    ss_res = ((p - y) ** 2).sum(axis=0)
    ss_tot = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
    spread = ss_tot > 0
    r2 = float(np.mean(1.0 - ss_res[spread] / ss_tot[spread])) if spread.any() else math.nan
    return {
        "rmse": float(np.sqrt(np.mean(e * e))),
        "mae": float(np.mean(np.abs(e))),
        "r2": r2,
    }


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
        metric: the name of what :meth:`error` measures (``"error"`` or ``"rmse"``).
        task: ``"classification"`` or ``"regression"``: which targets and model outputs
            the loss goes with (checked before a run starts).
    """

    name = "loss"
    output = "identity"
    #: ``__call__`` runs the same ops for all targets of the same shape (see
    #: ``honed.nn.Module.capturable``); declared by each class itself.
    capturable = False
    metric = "error"
    task = "classification"
    #: True when ``honed.population`` trains it (the engine has its cost and gradient)
    population = False
    #: its arguments, declared once (:class:`~honed.registry.Option`)
    options: tuple = ()

    def __call__(self, outputs: Tensor, targets) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def error(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        """The fraction of wrong predictions (``nan`` for no examples); for outputs with a
        member axis (P, m, C), each member's (a (P,) array)."""
        if len(targets) == 0:
            return math.nan
        if np.ndim(outputs) == 3:
            return _member_error_rate(self.predict(outputs), outputs, targets)
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

    population = True  # honed.population has it
    capturable = True
    name = "softmax_cross_entropy"
    output = "softmax"

    def __call__(self, outputs, targets):
        return _softmax_ce(outputs, targets)

    def error(self, outputs, targets):
        if len(targets) == 0:
            return math.nan
        if (
            targets.ndim == 1 and outputs.ndim == 2
        ):  # the hot path: once per mini-batch, no np.mean wrapper
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

    population = True  # honed.population has it
    capturable = True
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

    capturable = True
    name = "binary_cross_entropy"
    output = "identity"

    def __call__(self, outputs, targets):
        return binary_cross_entropy(outputs, targets)

    def predict(self, outputs):
        return predict_labels(outputs, threshold=0.5)


class RegressionLoss(Loss):
    """A loss on real targets (identity outputs, one per target column).

    Its :meth:`error` is the RMSE ``sqrt(mean (ŷ − y)²)`` over all entries. Training sees
    targets standardized on the training set, so there it is the RMSE in units of the
    training targets' standard deviation: 1 is the constant predictor (the training mean),
    0 a perfect fit. Reports convert it to the targets' own units.
    """

    output = "identity"
    metric = "rmse"
    task = "regression"

    def error(self, outputs, targets):
        if len(targets) == 0:
            return math.nan
        outputs = np.asarray(outputs)
        if outputs.ndim == 3:  # a member axis: each member's RMSE, targets shared or not
            y = np.asarray(targets)
            y = y.reshape(outputs.shape if y.size == outputs.size else outputs.shape[1:])
            diff = outputs - y
            return np.sqrt(np.mean(diff * diff, axis=(1, 2)))
        diff = outputs.reshape(np.shape(targets)) - targets
        return float(np.sqrt(np.mean(diff * diff)))

    def predict(self, outputs):
        return np.asarray(outputs)


@LOSSES.register("mse", aliases=("mean_squared_error",))
class MeanSquaredError(RegressionLoss):
    """``J = 1/(2m) Σ_i ‖ŷ_i − y_i‖²`` (the notes' form, see :func:`mean_squared_error`:
    half of PyTorch's ``mse_loss`` for one target)."""

    population = True  # honed.population has it
    capturable = True
    name = "mse"

    def __call__(self, outputs, targets):
        return mean_squared_error(outputs, targets)


@LOSSES.register("mae", aliases=("mean_absolute_error", "l1"))
class MeanAbsoluteError(RegressionLoss):
    """``J = 1/m Σ_i ‖ŷ_i − y_i‖₁`` (see :func:`mean_absolute_error`): robust to outliers,
    a constant-size gradient ``sign(ŷ − y)/m``."""

    population = True  # honed.population has it
    capturable = True
    name = "mae"

    def __call__(self, outputs, targets):
        return mean_absolute_error(outputs, targets)


@LOSSES.register("huber", aliases=("smooth_l1",))
class Huber(RegressionLoss):
    """``J = 1/m Σ_i Σ_j h_δ(ŷ_ij − y_ij)`` (see :func:`huber`): squared error within δ of
    the target, absolute error beyond it.

    Args:
        delta: δ > 0, where the quadratic part turns linear, in standardized target units
            (training standardizes the targets: δ = 1 is one standard deviation). Default 1.
    """

    population = True  # honed.population has it
    capturable = True
    name = "huber"

    options = (
        Option("delta", "float", 1.0, check.positive, "δ > 0 where the quadratic turns linear"),
    )

    def __init__(self, delta: float = 1.0):
        self.delta = self.options[0].validate(delta)

    def __call__(self, outputs, targets):
        return huber(outputs, targets, self.delta)

    def to_config(self) -> dict:
        return {"name": self.name, "delta": self.delta}

    @classmethod
    def from_config(cls, config: dict) -> Huber:
        extra = sorted(set(config) - {"name", "delta"})
        if extra:
            raise ValueError(f"loss 'huber' takes delta only, got {', '.join(extra)}")
        return cls(**{k: v for k, v in config.items() if k == "delta"})

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.delta == self.delta

    def __hash__(self) -> int:
        return hash((type(self), self.delta))

    def __repr__(self) -> str:
        return f"Huber(delta={self.delta:g})"


def population_losses(task: str | None = None) -> list[str]:
    """The registered losses that declare ``population = True`` (of ``task``:
    ``"classification"`` or ``"regression"``), in registration order."""
    return [
        n
        for n, cls in LOSSES.items()
        if getattr(cls, "population", False) and task in (None, cls.task)
    ]


def loss_arguments(name: str) -> dict[str, float]:
    """The arguments the registered loss ``name`` takes, with their defaults."""
    import inspect

    cls = LOSSES.get(name)
    if LOSSES.options(name):
        return {o.name: o.default for o in LOSSES.options(name)}
    if cls.__init__ is Loss.__init__ or cls.__init__ is object.__init__:
        return {}
    params = inspect.signature(cls.__init__).parameters
    return {k: p.default for k, p in params.items() if k != "self"}


def build_loss(name: str, arguments: dict | None = None) -> Loss:
    """The registered loss ``name`` built with ``arguments`` (``{"delta": 2.0}``).

    Raises:
        ValueError: an unknown name, or arguments the loss does not take (named).
    """
    from honed.registry import build

    return build(LOSSES, {"name": name, **(arguments or {})})


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
    ``score > threshold`` (0 for logits, 0.5 for probabilities). Scores with a member axis
    (P, m, C) give (P, m) predictions."""
    s = np.asarray(scores.data if isinstance(scores, Tensor) else scores)
    if s.ndim == 3:
        if s.shape[2] > 1:
            return s.argmax(axis=2)
        return (s[:, :, 0] > threshold).astype(np.int64)
    if s.ndim == 2 and s.shape[1] > 1:
        return s.argmax(axis=1)
    return (s.reshape(len(s)) > threshold).astype(np.int64)


def _member_error_rate(predicted: np.ndarray, outputs: np.ndarray, targets) -> np.ndarray:
    """Each member's error rate, predictions (P, m) against labels shared by the members
    ((m,) integers, (m, C) one-hot) or per member ((P, m), (P, m, C))."""
    P, m, c = outputs.shape
    y = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if c > 1:
        if y.ndim == 3 or y.ndim == 2 and not (y.dtype.kind in "iub" and y.shape == (P, m)):
            y = y.argmax(axis=-1)  # one-hot rows
    else:
        y = y.reshape((P, m) if y.size == P * m and P > 1 else (m,)).astype(np.int64)
    return np.count_nonzero(predicted != y, axis=1) / m


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
    "Huber",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "RegressionLoss",
    "SigmoidCrossEntropy",
    "SoftmaxCrossEntropy",
    "accuracy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "build_loss",
    "huber",
    "loss_arguments",
    "population_losses",
    "mean_absolute_error",
    "regression_metrics",
    "error_rate",
    "get_loss",
    "mean_squared_error",
    "predict_labels",
    "softmax_cross_entropy",
]
