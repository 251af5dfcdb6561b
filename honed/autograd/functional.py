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


def _member_targets(labels, logits: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Labels for logits with a member axis (P, m, C): integers shared (m,) or per member
    (P, m), or one-hot rows shared (m, C) or per member (P, m, C), validated."""
    labels = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    P, m, c = logits.shape
    if labels.dtype.kind in "iu" and labels.shape in ((m,), (P, m)):
        if m and (np.minimum.reduce(labels, axis=None) < 0 or np.max(labels) >= c):
            bad = labels[(labels < 0) | (labels >= c)][0]
            raise ValueError(f"labels must be in [0, {c}), got {bad}")
        return labels, None
    if labels.shape in ((m, c), (P, m, c)):
        return None, labels.astype(logits.dtype, copy=False)
    raise ValueError(
        f"labels have shape {labels.shape}; for {P} members' logits {logits.shape} they must "
        f"be integers ({m},) or ({P}, {m}), or one-hot rows ({m}, {c}) or ({P}, {m}, {c})"
    )


class SoftmaxCrossEntropy(Function):
    """J = −(1/m) Σ_i Σ_k y_ik log ŷ_ik with ŷ = softmax(z) per row.

    Fused so that it is stable for any logits (log-sum-exp) and its backward is the notes'
    ``dz = (ŷ − y)/m``. With a member axis, z (P, m, C), it returns each member's cost,
    J (P,), and member k's gradient is ``g_k (ŷ_k − y_k)/m``.
    """

    def forward(self, z, labels=None):
        if z.ndim == 3:
            return self._members(z, labels)
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

    def _members(self, z, labels):
        """J_k = (1/m) Σ_i (log Σ_c e^{z_kic − max} − (z_{k,i,y_i} − max)) per member k."""
        index, y = _member_targets(labels, z)
        P, m, _ = z.shape
        shifted = z - z.max(axis=-1, keepdims=True)
        probs = np.exp(shifted)
        total = probs.sum(axis=-1, keepdims=True)
        probs /= total
        log_norm = np.log(total)
        self.probs, self.y, self.m = probs, y, m
        if index is not None:
            self.picked = (np.arange(P)[:, None], np.arange(m), index)
            return (log_norm.sum(axis=(1, 2)) - shifted[self.picked].sum(axis=1)) / m
        self.picked = None
        return -(y * (shifted - log_norm)).sum(axis=(1, 2)) / m

    def backward(self, g):
        dz = self.probs.copy(order="K")  # in the logits' layout (batch-major members)
        if self.picked is not None:
            dz[self.picked] -= 1
        else:
            dz -= self.y
        if dz.ndim == 3:  # per-member costs: g (P,)
            dz *= (g / self.m)[:, None, None]
        else:
            dz *= g / self.m
        return (dz,)


def softmax_cross_entropy(logits, labels):
    """Mean softmax cross-entropy of ``logits`` (m, C) against integer labels or one-hot rows.

    Logits with a member axis (P, m, C) give each member's cost J (P,); labels are then
    shared (m,) / (m, C) or per member (P, m) / (P, m, C).
    """
    logits = as_tensor(logits)
    if logits.ndim not in (2, 3):
        raise ValueError(f"logits must have shape (m, C) or (P, m, C), got {logits.shape}")
    return SoftmaxCrossEntropy.apply(logits, labels=labels)


class SigmoidCrossEntropy(Function):
    """Binary cross-entropy from logits, J = (1/m) Σ [max(z,0) − z·y + log(1 + e^(−|z|))].

    That is −(1/m) Σ [y log σ(z) + (1−y) log(1−σ(z))] written so no exponential overflows;
    backward ``dz = (σ(z) − y)/m``.
    """

    def forward(self, z, y=None, members=False):
        self.y, self.members = y, members
        e = np.exp(-np.abs(z))
        self.s = np.where(z >= 0, 1.0, e) / (1.0 + e)
        terms = np.maximum(z, 0) - z * y + np.log1p(e)
        if members:  # z (P, m, ...): J_k over member k's m rows
            self.m = z.shape[1]
            return terms.reshape(z.shape[0], -1).sum(axis=1) / self.m
        self.m = z.shape[0] if z.ndim else 1
        return terms.sum() / self.m

    def backward(self, g):
        if self.members:
            g = g.reshape(g.shape + (1,) * (self.s.ndim - 1))
        return ((self.s - self.y) * (g / self.m),)


def sigmoid_cross_entropy(logits, targets, members: bool | None = None):
    """Mean binary cross-entropy of ``logits`` against 0/1 (or soft) ``targets``.

    ``members`` (default: logits of 3 dimensions): the logits carry a member axis,
    (P, m, k); each member's cost J (P,) is returned, targets are shared (m, k) or per
    member (P, m, k) (any shape of that size).
    """
    logits = as_tensor(logits)
    if members is None:
        members = logits.ndim == 3
    y = np.asarray(targets.data if isinstance(targets, Tensor) else targets)
    if y.shape != logits.shape:
        if y.size == logits.size:
            y = y.reshape(logits.shape)
        elif members and y.size == logits.size // logits.shape[0]:
            y = y.reshape(logits.shape[1:])  # shared by the members
        else:
            raise ValueError(f"targets have shape {y.shape}, logits have {logits.shape}")
    y = y.astype(logits.dtype, copy=False)
    if members:
        return SigmoidCrossEntropy.apply(logits, y=y, members=True)
    return SigmoidCrossEntropy.apply(logits, y=y)


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


def row_sum(a: np.ndarray) -> np.ndarray:
    """Σ over the rows (axis -2) of a (P, m, n), kept as (P, 1, n), in the order a standalone
    layer's ``sum(axis=0)`` of its (m, n) array adds them, so a member's sums are its
    standalone model's bit for bit (float32 members would drift from theirs otherwise):

    * n > 1: row after row. Summed batch-major — the (P, m, n) view of an (m, P, n) array,
      as the member Linear writes its outputs; other arrays are copied to it first — each
      step adds a whole row of P·n numbers: fast. (NumPy's ``a.sum(axis=1)`` of a
      member-major array runs its inner loop over the short n and is ~10x slower; a GEMV
      ``1ᵀ·a_k`` is fast but adds in another order.)
    * n = 1: NumPy sums a contiguous column pairwise; so does this, member by member.
    """
    if a.shape[-1] == 1:
        return np.ascontiguousarray(a).sum(axis=-2, keepdims=True)
    rows = a.transpose(1, 0, 2)
    if not rows.flags.c_contiguous:
        rows = np.ascontiguousarray(rows)
    return rows.sum(axis=0)[:, None, :]


#: Largest n_in·n_out per member for which a shared input's Linear copies W to the wide
#: layout: below it one wide GEMM beats P tiny ones (moons' 2×5: 2x faster); above it the
#: copy of W costs more than it saves (784×256: the copy is ~12% of the GEMM, and P GEMMs on
#: the shared x run as fast as the wide one).
WIDE_COPY_LIMIT = 256


class MemberLinear(Function):
    """``z_k = x_k·W_k + b_k`` for P members at once: W (P, n_in, n_out), b (P, 1, n_out).

    A shared input x (B, n_in), one batch for every member, is one wide GEMM
    ``x · [W_1 … W_P]`` with the members' weights side by side, ``(n_in, P·n_out)``, when W
    is stored that way (``W.transpose(1, 0, 2)`` contiguous) or small (``WIDE_COPY_LIMIT``);
    the result (B, P·n_out) is returned as a (P, B, n_out) view (no copy). Otherwise, and
    for a per-member input x (P, B, n_in), a batched matmul. Backward, per member:
    ``dx_k = g_k·W_kᵀ`` (summed over k for a shared x), ``dW_k = x_kᵀ·g_k``, ``db_k = Σ_rows g_k``;
    dx is computed only when the input needs a gradient.
    """

    def forward(self, x, W, b=None):
        P, n_in, n_out = W.shape
        if x.shape[-1] != n_in or x.ndim == 3 and x.shape[0] != P:
            raise ValueError(
                f"linear shape mismatch: input {x.shape} @ member weights {W.shape} "
                f"(needs (B, {n_in}) or ({P}, B, {n_in}))"
            )
        self.x, self.W = x, W
        if x.ndim == 3:
            out = _batch_major_matmul(x, W)
            if b is not None:
                out += b
            return out
        wide = W.transpose(1, 0, 2)
        if not wide.flags.c_contiguous and n_in * n_out > WIDE_COPY_LIMIT:
            out = _batch_major_matmul(x, W)  # P GEMMs on the one x: no copy of W
            if b is not None:
                out += b
            return out
        B = x.shape[0]
        out = x @ wide.reshape(n_in, P * n_out)  # a view of W if it is stored wide, else a copy
        if b is not None:
            out += b.reshape(P * n_out)
        return out.reshape(B, P, n_out).transpose(1, 0, 2)

    def backward(self, g):
        needs, x, W = self.needs_grad, self.x, self.W
        dx = dW = None
        if x.ndim == 3:
            if needs[0]:
                dx = _batch_major_matmul(g, W.transpose(0, 2, 1))
            if needs[1]:
                dW = np.matmul(x.transpose(0, 2, 1), g)
        else:
            P, n_in, n_out = W.shape
            small = n_in * n_out <= WIDE_COPY_LIMIT
            if needs[0] or needs[1] and small:
                # (B, P·n_out): a view when g is batch-major, as this op's own outputs are
                g_wide = g.transpose(1, 0, 2).reshape(x.shape[0], P * n_out)
            if needs[0]:
                dx = g_wide @ W.transpose(0, 2, 1).reshape(P * n_out, n_in)
            if needs[1] and small:  # one wide GEMM for all members: xᵀ·[g_1 … g_P]
                dW = (x.T @ g_wide).reshape(n_in, P, n_out).transpose(1, 0, 2)
            elif needs[1]:  # P GEMMs as large as the wide one, dW contiguous (no copy)
                dW = np.matmul(x.T, g)
        if len(needs) == 2:
            return dx, dW
        return dx, dW, (row_sum(g) if needs[2] else None)


def _batch_major_matmul(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``a @ w`` per member, (P, B, k) or (B, k) @ (P, k, n), written batch-major: the (P, B, n) view
    of a (B, P, n) array. Activations of every layer then share the wide first layer's
    layout, so the elementwise ops run on contiguous memory and the sums over the rows
    (bias gradients, batch norm's statistics) add whole rows of P·n numbers.

    An inner dimension k = 1 (the dx of a layer with one output: g (P, B, 1) @ W_kᵀ (1, n))
    is an outer product, ``out_bik = a_bi·w_ik``, one rounded product per entry as in the GEMM:
    written as a broadcast multiply over rows of P·n (P GEMMs of rank 1 cost ~2x more)."""
    P, B, n = w.shape[0], a.shape[-2], w.shape[2]  # a: (P, B, k), or (B, k) shared
    if a.ndim == 3 and a.shape[2] == 1:
        out = np.repeat(a.transpose(1, 0, 2), n, axis=2)  # (B, P, n): a_bp repeated n times
        out = out.astype(np.result_type(a, w), copy=False)
        np.multiply(out, w.reshape(1, P, n), out=out)
        return out.transpose(1, 0, 2)
    out = np.empty((B, P, n), np.result_type(a, w))
    np.matmul(a, w, out=out.transpose(1, 0, 2))
    return out.transpose(1, 0, 2)


def linear(x, W, b=None):
    """Affine map ``x @ W + b`` for x of shape (m, n_in), W (n_in, n_out), b (n_out,).

    With a member axis (see :mod:`honed.nn.members`): W (P, n_in, n_out), b (P, 1, n_out),
    x shared (m, n_in) or per member (P, m, n_in); the result is (P, m, n_out).
    """
    x = as_tensor(x)
    W = as_tensor(W, x)
    if W.ndim == 3 and x.ndim in (2, 3):
        if b is None:
            return MemberLinear.apply(x, W)
        return MemberLinear.apply(x, W, as_tensor(b, x))
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
        m = x.shape[-2]
        if m < 2:
            raise ValueError(
                "batch normalization in training mode needs at least 2 examples per batch "
                f"(the variance of one example is undefined), got batch size {m}"
            )
        # Over the rows, axis -2: (m, n) gives (n,) statistics; with a member axis,
        # (P, m, n) gives each member's own, (P, 1, n) like its γ, β and running averages.
        keep = x.ndim == 3
        self.keep = keep
        self.mean = row_sum(x) / m if keep else x.mean(axis=0)
        centered = x - self.mean
        squares = centered * centered
        self.var = row_sum(squares) / m if keep else squares.mean(axis=0)
        self.inv_std = 1.0 / np.sqrt(self.var + eps)
        self.x_hat = centered * self.inv_std
        self.gamma = gamma
        if running is not None:
            # Inside forward, so that a replayed step updates the running averages too.
            running.update_running(self.mean, self.var, m)
        return self.x_hat * gamma + beta

    def backward(self, g):
        x_hat, m = self.x_hat, self.x_hat.shape[-2]
        # Σ over the rows: axis 0 of (m, n), or each member's (P, 1, n) with a member axis
        total = row_sum if self.keep else _column_sum
        dgamma = total(g * x_hat) if self.needs_grad[1] else None
        dbeta = total(g) if self.needs_grad[2] else None
        dx = None
        if self.needs_grad[0]:
            d = g * self.gamma
            dx = (self.inv_std / m) * (m * d - total(d) - x_hat * total(d * x_hat))
        return dx, dgamma, dbeta


def _column_sum(a: np.ndarray) -> np.ndarray:
    return a.sum(axis=0)


def batch_norm(x, gamma, beta, eps: float = 1e-5, return_stats: bool = False, running=None):
    """Training-mode batch norm; with ``return_stats`` also the batch μ and σ² (1/m) arrays.

    ``running``: an object whose ``update_running(mean, var, m)`` gets each forward's batch
    μ and σ² (the :class:`~honed.nn.BatchNorm` layer, for its running averages).
    """
    x = as_tensor(x)
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    gamma, beta = as_tensor(gamma, x), as_tensor(beta, x)
    if x.ndim == 3 or gamma.ndim == 3:  # a member axis: x (P, m, n), γ and β (P, 1, n)
        if gamma.ndim != 3 or x.ndim not in (2, 3):
            raise ValueError(
                f"batch_norm with member parameters needs x of shape (P, m, n) and gamma, "
                f"beta of shape (P, 1, n), got x {x.shape} and gamma {gamma.shape}"
            )
        if x.ndim == 2:  # a shared batch: every member normalizes the same rows
            x = x + Tensor(np.zeros((gamma.shape[0], 1, 1), x.dtype))
        expected = (x.shape[0], 1, x.shape[2])
    elif x.ndim != 2:
        raise ValueError(f"batch_norm expects input of shape (m, n), got {x.shape}")
    else:
        expected = x.shape[1:]
    for name, p in (("gamma", gamma), ("beta", beta)):
        if p.shape != expected:
            raise ValueError(f"{name} must have shape {expected}, got {p.shape}")
    if running is None:
        out = BatchNorm.apply(x, gamma, beta, eps=eps)
    else:
        out = BatchNorm.apply(x, gamma, beta, eps=eps, running=running)
    if not return_stats:
        return out
    node = out._ctx
    if node is None:  # no graph recorded: recompute the statistics cheaply
        keep = x.ndim == 3
        return out, x.data.mean(axis=-2, keepdims=keep), x.data.var(axis=-2, keepdims=keep)
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


class MemberDropout(Function):
    """Inverted dropout with a member axis: member k keeps a unit with its own probability
    ``keep_k`` and draws its mask from its own Generator ``rng_k``, exactly as its standalone
    layer does: ``d_k = rng_k.random((m, n), float32) < keep_k``, ``a_k = a_k·d_k / keep_k``.
    A member at keep_prob 1 draws nothing (its standalone model has no dropout layer).

    ``layer`` is the stacked :class:`~honed.nn.Dropout` (its ``keep_prob`` (P,) array and
    ``rng`` list of P Generators), read at every forward so that a replayed step sees the
    current values and draws from the same Generators in the same order.
    """

    def forward(self, x, layer):
        keep, rngs = layer.keep_prob, layer.rng
        P = len(keep)
        # u_k from member k's Generator (the one loop over members: one call each), then
        # d = u < keep and d/keep for all members at once; u = 0 where keep = 1 (kept).
        u = np.zeros((P, *x.shape[-2:]), np.float32)
        for k in np.flatnonzero(keep < 1.0).tolist():
            if rngs[k] is None:
                raise ValueError(
                    f"dropout member {k} has keep_prob {keep[k]:g} but no Generator (its "
                    "model had no Dropout layer): set layer.rng[k] = np.random.default_rng(seed)"
                )
            rngs[k].random(dtype=np.float32, out=u[k])
        col = (P,) + (1,) * (u.ndim - 1)
        # in float32, as the standalone layer's comparison with its Python float keep_prob
        mask = u < keep.astype(np.float32).reshape(col)
        # d/keep in x's layout (batch-major after a member Linear), not the masks' member-major
        # one: every elementwise op after this one, forward and backward, then runs on two
        # arrays of one layout (mixed layouts run NumPy's inner loops over the short n only,
        # several times slower)
        scaled = np.empty_like(x)  # x (P, m, n): member_dropout broadcasts a shared batch
        np.multiply(mask, (1.0 / keep).astype(x.dtype).reshape(col), out=scaled)
        self.scaled = scaled
        return x * scaled

    def backward(self, g):
        return (g * self.scaled,)


def member_dropout(x, layer):
    """Dropout with a member axis (see :class:`MemberDropout`); x (P, m, n) or shared (m, n)."""
    x = as_tensor(x)
    if x.ndim not in (2, 3) or x.ndim == 3 and x.shape[0] != len(layer.keep_prob):
        raise ValueError(
            f"dropout with {len(layer.keep_prob)} members needs input of shape "
            f"({len(layer.keep_prob)}, m, n) or (m, n), got {x.shape}"
        )
    if x.ndim == 2:  # a shared batch: each member drops its own units of it
        x = x + Tensor(np.zeros((len(layer.keep_prob), 1, 1), x.dtype))
    return MemberDropout.apply(x, layer=layer)


# Each op above computes only from its input arrays and keyword arguments (a Generator, a
# layer's running averages): a captured step may call its forward again.
for _op in (
    Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Heaviside, Softmax, LogSoftmax,
    SoftmaxCrossEntropy, SigmoidCrossEntropy, SumOfSquares, Linear, BatchNorm, Dropout,
    MemberLinear, MemberDropout,
):  # fmt: skip
    _op.replayable = True
