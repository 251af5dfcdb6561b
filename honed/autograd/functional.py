"""Activations, softmax and the fused ops (softmax cross-entropy, batch norm, linear).

Fused ops have a hand-derived backward; the tests check each against its composition from
primitives and against PyTorch.
"""

from __future__ import annotations

import numpy as np

from honed.autograd import ops
from honed.autograd.function import Function, is_grad_enabled
from honed.autograd.ops import as_tensor
from honed.autograd.tensor import Tensor


# -- activations --------------------------------------------------------------------------
class Sigmoid(Function):
    """σ(z) = 1/(1+e^(−z)); σ'(z) = σ(z)(1−σ(z)) ≤ 1/4 — the vanishing factor of the notes."""

    def forward(self, z):
        # Two branches so that e^(−z) never overflows: for z < 0 use e^z/(1+e^z).
        e = np.exp(-np.abs(z))
        self.out = np.where(z >= 0, 1.0, e) / (1.0 + e)
        return self.out

    def backward(self, g):
        s = self.out
        return (g * s * (1.0 - s),)


class Tanh(Function):
    """tanh(z); derivative 1 − tanh²(z)."""

    def forward(self, z):
        self.out = np.tanh(z)
        return self.out

    def backward(self, g):
        return (g * (1.0 - self.out * self.out),)


class ReLU(Function):
    """max(0, z); derivative 1 for z > 0 and 0 otherwise (0 at z = 0, as PyTorch)."""

    def forward(self, z):
        self.positive = z > 0
        return np.maximum(z, 0)

    def backward(self, g):
        return (g * self.positive,)


class LeakyReLU(Function):
    """z for z > 0, slope·z otherwise."""

    def forward(self, z, slope):
        self.factor = np.where(z > 0, np.ones((), z.dtype), np.asarray(slope, z.dtype))
        return z * self.factor

    def backward(self, g):
        return (g * self.factor,)


class ELU(Function):
    """z for z > 0, α(e^z − 1) otherwise; derivative 1 or α·e^z."""

    def forward(self, z, alpha):
        self.positive = z > 0
        self.negative_part = alpha * np.exp(np.minimum(z, 0))
        return np.where(self.positive, z, self.negative_part - alpha)

    def backward(self, g):
        return (g * np.where(self.positive, np.ones((), g.dtype), self.negative_part),)


class Heaviside(Function):
    """Step function: 1 where z > 0, else 0 (the perceptron's activation)."""

    def forward(self, z):
        return (z > 0).astype(z.dtype)

    def backward(self, g):  # pragma: no cover - apply refuses to record it
        raise RuntimeError("heaviside has no gradient")


def sigmoid(z):
    return Sigmoid.apply(as_tensor(z))


def tanh(z):
    return Tanh.apply(as_tensor(z))


def relu(z):
    return ReLU.apply(as_tensor(z))


def leaky_relu(z, slope: float = 0.01):
    """Leaky ReLU with the given negative ``slope`` (the notes use 0.01)."""
    if slope < 0:
        raise ValueError(f"slope must be >= 0, got {slope}")
    return LeakyReLU.apply(as_tensor(z), slope=slope)


def elu(z, alpha: float = 1.0):
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    return ELU.apply(as_tensor(z), alpha=alpha)


def heaviside(z):
    """The step function, forward only.

    Its derivative is zero almost everywhere, so no gradient can flow through it; using it
    where a gradient is needed raises a ``RuntimeError`` instead of silently training nothing.
    """
    z = as_tensor(z)
    if z.requires_grad and is_grad_enabled():
        raise RuntimeError(
            "heaviside (the step function) has no useful gradient: it is 0 almost everywhere. "
            "Use it under honed.no_grad() or on tensors that do not require grad, and train "
            "with sigmoid or another differentiable activation."
        )
    return Heaviside.apply(z)


def maxout(z, pieces: int):
    """Maxout over ``pieces`` linear pieces: the last axis (n·k) becomes n maxima over k.

    Unit j takes ``max(z[..., j*k : (j+1)*k])``; composed from reshape and max, so the
    gradient goes to the winning piece (split evenly at ties).
    """
    z = as_tensor(z)
    if pieces < 1 or z.shape[-1] % pieces:
        raise ValueError(
            f"maxout needs the last dimension ({z.shape[-1]}) to be a multiple of pieces, "
            f"got pieces={pieces}"
        )
    grouped = ops.reshape(z, z.shape[:-1] + (z.shape[-1] // pieces, pieces))
    return ops.max(grouped, axis=-1)


# -- softmax ------------------------------------------------------------------------------
def _stable_softmax(z, axis):
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


class Softmax(Function):
    """softmax(z)_i = e^(z_i − max z) / Σ_j e^(z_j − max z); the shift avoids overflow.

    Backward: dz = y ⊙ (g − Σ_j g_j y_j).
    """

    def forward(self, z, axis=-1):
        self.axis = axis
        self.out = _stable_softmax(z, axis)
        return self.out

    def backward(self, g):
        y = self.out
        return (y * (g - (g * y).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """log softmax(z) = z − max z − log Σ e^(z − max z); backward g − softmax·Σg."""

    def forward(self, z, axis=-1):
        self.axis = axis
        shifted = z - z.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        self.out = out
        return out

    def backward(self, g):
        return (g - np.exp(self.out) * g.sum(axis=self.axis, keepdims=True),)


def softmax(z, axis: int = -1):
    return Softmax.apply(as_tensor(z), axis=axis)


def log_softmax(z, axis: int = -1):
    return LogSoftmax.apply(as_tensor(z), axis=axis)


def _targets(labels, logits: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Integer labels (m,) or a one-hot / probability matrix (m, C), validated."""
    labels = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    m, c = logits.shape
    if labels.ndim == 1:
        if labels.shape[0] != m:
            raise ValueError(f"labels has {labels.shape[0]} entries, logits has {m} rows")
        if labels.dtype.kind not in "iu":
            raise ValueError(f"integer labels must have an integer dtype, got {labels.dtype}")
        # ufunc reductions directly: ndarray.min()/max() add a Python wrapper per call.
        if m and (np.minimum.reduce(labels) < 0 or np.maximum.reduce(labels) >= c):
            bad = labels[(labels < 0) | (labels >= c)][0]
            raise ValueError(f"labels must be in [0, {c}), got {bad}")
        return labels, None
    if labels.shape != logits.shape:
        raise ValueError(f"one-hot labels have shape {labels.shape}, logits have {logits.shape}")
    return None, labels.astype(logits.dtype, copy=False)


class SoftmaxCrossEntropy(Function):
    """J = −(1/m) Σ_i Σ_k y_ik log ŷ_ik with ŷ = softmax(z) per row.

    Fused so that it is stable for any logits (log-sum-exp) and its backward is the notes'
    ``dz = (ŷ − y)/m``.
    """

    def forward(self, z, labels=None):
        index, y = _targets(labels, z)
        m = z.shape[0]
        shifted = z - z.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        total = probs.sum(axis=1, keepdims=True)  # Σ_k e^{z_k − max}, in [1, C]
        probs /= total
        log_norm = np.log(total)  # log ŷ_ik = shifted_ik − log_norm_i
        self.probs, self.y, self.m = probs, y, m
        if index is not None:
            self.picked = (np.arange(m), index)
            # J = (1/m) Σ_i (log_norm_i − shifted_{i, y_i})
            return (log_norm.sum() - shifted[self.picked].sum()) / m
        self.picked = None
        return -(y * (shifted - log_norm)).sum() / m

    def backward(self, g):
        dz = self.probs.copy()
        if self.picked is not None:
            dz[self.picked] -= 1
        else:
            dz -= self.y
        dz *= g / self.m
        return (dz,)


def softmax_cross_entropy(logits, labels):
    """Mean softmax cross-entropy of ``logits`` (m, C) against integer labels or one-hot rows."""
    logits = as_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (m, C), got {logits.shape}")
    return SoftmaxCrossEntropy.apply(logits, labels=labels)


class SigmoidCrossEntropy(Function):
    """Binary cross-entropy from logits, J = (1/m) Σ [max(z,0) − z·y + log(1 + e^(−|z|))].

    That is −(1/m) Σ [y log σ(z) + (1−y) log(1−σ(z))] written so no exponential overflows;
    backward ``dz = (σ(z) − y)/m``.
    """

    def forward(self, z, y=None):
        self.y = y
        self.m = z.shape[0] if z.ndim else 1
        e = np.exp(-np.abs(z))
        self.s = np.where(z >= 0, 1.0, e) / (1.0 + e)
        return (np.maximum(z, 0) - z * y + np.log1p(e)).sum() / self.m

    def backward(self, g):
        return ((self.s - self.y) * (g / self.m),)


def sigmoid_cross_entropy(logits, targets):
    """Mean binary cross-entropy of ``logits`` against 0/1 (or soft) ``targets``."""
    logits = as_tensor(logits)
    y = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if y.shape != logits.shape:
        if y.size == logits.size:
            y = y.reshape(logits.shape)
        else:
            raise ValueError(f"targets have shape {y.shape}, logits have {logits.shape}")
    return SigmoidCrossEntropy.apply(logits, y=y.astype(logits.dtype, copy=False))


class SumOfSquares(Function):
    """Σ x² over every entry, in one pass (np.vdot); backward 2·g·x.

    The L2 penalty λ/(2m) Σ‖W‖²_F runs this on every weight matrix at every step; composed
    as ``(W * W).sum()`` it costs three passes forward and two backward.
    """

    def forward(self, x):
        self.x = x
        flat = x.reshape(-1)
        return np.asarray(np.dot(flat, flat), dtype=x.dtype)

    def backward(self, g):
        return (self.x * (2 * g),)


def sum_of_squares(x):
    """Σ x² (the squared Frobenius norm ‖x‖²_F) as a scalar tensor."""
    return SumOfSquares.apply(as_tensor(x))


# -- fused layers -------------------------------------------------------------------------
class Linear(Function):
    """z = x·W + b (rows are examples); dx = g·Wᵀ, dW = xᵀ·g, db = Σ_rows g."""

    def forward(self, x, W, b=None):
        if x.shape[-1] != W.shape[0]:
            raise ValueError(
                f"linear shape mismatch: input {x.shape} @ weight {W.shape} "
                f"(inner dimensions {x.shape[-1]} and {W.shape[0]} differ)"
            )
        self.x, self.W = x, W
        out = x @ W
        if b is not None:
            out += b
        return out

    def backward(self, g):
        needs = self.needs_grad
        dx = g @ self.W.T if needs[0] else None
        dW = self.x.T @ g if needs[1] else None
        if len(needs) == 2:
            return dx, dW
        return dx, dW, (g.sum(axis=0) if needs[2] else None)


def linear(x, W, b=None):
    """Affine map ``x @ W + b`` for x of shape (m, n_in), W (n_in, n_out), b (n_out,)."""
    x = as_tensor(x)
    W = as_tensor(W, x)
    if x.ndim != 2 or W.ndim != 2:
        raise ValueError(f"linear needs 2-D input and weight, got {x.shape} and {W.shape}")
    if b is None:
        return Linear.apply(x, W)
    return Linear.apply(x, W, as_tensor(b, x))


class BatchNorm(Function):
    """Batch normalization, training form, over the rows of x (m, n):

        μ = (1/m) Σ x,  σ² = (1/m) Σ (x − μ)²,  x̂ = (x − μ)/√(σ² + ε),  y = γ x̂ + β.

    Hand-derived backward (with d = g·γ):
        dx = (1/m)·(1/√(σ²+ε))·(m·d − Σ d − x̂·Σ(d·x̂)),  dγ = Σ g·x̂,  dβ = Σ g.
    """

    def forward(self, x, gamma, beta, eps=1e-5, running=None):
        m = x.shape[0]
        if m < 2:
            raise ValueError(
                "batch normalization in training mode needs at least 2 examples per batch "
                f"(the variance of one example is undefined), got batch size {m}"
            )
        self.mean = x.mean(axis=0)
        centered = x - self.mean
        self.var = (centered * centered).mean(axis=0)
        self.inv_std = 1.0 / np.sqrt(self.var + eps)
        self.x_hat = centered * self.inv_std
        self.gamma = gamma
        if running is not None:
            # Inside forward, so that a replayed step updates the running averages too.
            running.update_running(self.mean, self.var, m)
        return self.x_hat * gamma + beta

    def backward(self, g):
        x_hat, m = self.x_hat, self.x_hat.shape[0]
        dgamma = (g * x_hat).sum(axis=0) if self.needs_grad[1] else None
        dbeta = g.sum(axis=0) if self.needs_grad[2] else None
        dx = None
        if self.needs_grad[0]:
            d = g * self.gamma
            dx = (self.inv_std / m) * (m * d - d.sum(axis=0) - x_hat * (d * x_hat).sum(axis=0))
        return dx, dgamma, dbeta


def batch_norm(x, gamma, beta, eps: float = 1e-5, return_stats: bool = False, running=None):
    """Training-mode batch norm; with ``return_stats`` also the batch μ and σ² (1/m) arrays.

    ``running``: an object whose ``update_running(mean, var, m)`` gets each forward's batch
    μ and σ² (the :class:`~honed.nn.BatchNorm` layer, for its running averages).
    """
    x = as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"batch_norm expects input of shape (m, n), got {x.shape}")
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    gamma, beta = as_tensor(gamma, x), as_tensor(beta, x)
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p.shape != x.shape[1:]:
            raise ValueError(f"{name} must have shape {x.shape[1:]}, got {p.shape}")
    if running is None:
        out = BatchNorm.apply(x, gamma, beta, eps=eps)
    else:
        out = BatchNorm.apply(x, gamma, beta, eps=eps, running=running)
    if not return_stats:
        return out
    node = out._ctx
    if node is None:  # no graph recorded: recompute the statistics cheaply
        return out, x.data.mean(axis=0), x.data.var(axis=0)
    return out, node.mean, node.var


def batch_norm_inference(x, gamma, beta, running_mean, running_var, eps: float = 1e-5):
    """Test-time batch norm with fixed μ, σ² (the running averages): works for one example."""
    x = as_tensor(x)
    inv_std = 1.0 / np.sqrt(np.asarray(running_var, x.dtype) + eps)
    scale = as_tensor(gamma, x) * inv_std
    return (x - np.asarray(running_mean, x.dtype)) * scale + beta


def dropout(x, keep_prob: float, rng: np.random.Generator):
    """Inverted dropout: keep each unit with probability keep_prob, then divide by keep_prob.

    ``d = rand < keep_prob; a = a·d / keep_prob`` so the expected activation is unchanged and
    nothing needs rescaling at test time.
    """
    if not 0 < keep_prob <= 1:
        raise ValueError(f"keep_prob must be in (0, 1], got {keep_prob}")
    x = as_tensor(x)
    if keep_prob == 1:
        return x
    return Dropout.apply(x, keep_prob=keep_prob, rng=rng)


class Dropout(Function):
    """``a·d / keep_prob`` with a fresh mask ``d = rand < keep_prob`` drawn from ``rng``.

    The mask is drawn inside ``forward`` so that a replayed (captured) step draws a new one
    from the same Generator, in the same order as the eager step; backward ``g·d / keep_prob``.
    """

    def forward(self, x, keep_prob, rng):
        mask = rng.random(x.shape, dtype=np.float32) < keep_prob
        self.scaled = mask.astype(x.dtype) * np.asarray(1.0 / keep_prob, x.dtype)
        return x * self.scaled

    def backward(self, g):
        return (g * self.scaled,)


# Each op above computes only from its input arrays and keyword arguments (a Generator, a
# layer's running averages): a captured step may call its forward again.
for _op in (
    Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Heaviside, Softmax, LogSoftmax,
    SoftmaxCrossEntropy, SigmoidCrossEntropy, SumOfSquares, Linear, BatchNorm, Dropout,
):  # fmt: skip
    _op.replayable = True
