"""P networks of one architecture as stacked arrays, with a hand-written batched forward and
backward pass.

Layout (P members, mini-batch of B rows, layer l maps n_in to n_out):

* the first Dense's weights are stored *wide*, ``W0`` of shape ``(n_in, P·n_out)``: member k
  owns the columns ``k·n_out … (k+1)·n_out − 1``. With a common mini-batch ``X`` (B, n_in)
  the first layer of all members is then one GEMM ``X @ W0`` (B, P·n_out);
* every other weight matrix is ``(P, n_in, n_out)`` and its layer is one batched
  ``np.matmul`` of ``(P, B, n_in)`` by it; biases, γ, β are ``(P, n)``. All of these are
  views into one ``(P, R)`` block, and W0 and that block are views into one 1-D ``buffer``
  (so the optimizer can treat every trainable number at once); the batch-norm running
  averages are separate ``(P, n)`` arrays.

Per member k and hidden layer l, in training mode (rows are examples; the notes write
columns)::

    z = a_prev·W + b                                   (no b when batch norm follows)
    μ = (1/B) Σ z,  σ² = (1/B) Σ (z − μ)²,  ẑ = (z − μ)/√(σ² + ε),  z̃ = γ ẑ + β   [BN]
    a = g(z̃) · d / keep_prob,  d = (u < keep_prob),  u ~ U[0, 1) from member k's generator

and the output layer gives logits. Backward (``dz̃ = da · d/keep_prob · g'(z̃)``)::

    dγ = Σ dz̃·ẑ,  dβ = Σ dz̃,
    dz = (1/B)(1/√(σ²+ε)) (B·dz̃γ − Σ dz̃γ − ẑ Σ(dz̃γ·ẑ))
    dW = a_prevᵀ·dz (+ (λ₂/B) W + (λ₁/B) sign W),  db = Σ dz,  da_prev = dz·Wᵀ

the same formulas as honed's autograd functions (``BatchNorm``, ``Linear``, the activations,
``dropout``), so a member computes what an ``honed.nn.mlp`` would, to rounding.
"""

from __future__ import annotations

import numpy as np

from honed.nn.layers import ELU, BatchNorm, LeakyReLU, declared_default
from honed.nn.losses import population_losses

# the defaults honed.nn's layers declare: a member computes what honed.nn.mlp's layers do
_LEAKY_SLOPE = declared_default(LeakyReLU, "slope")
_ELU_ALPHA = declared_default(ELU, "alpha")
BN_EPS = declared_default(BatchNorm, "eps")
BN_MOMENTUM = declared_default(BatchNorm, "momentum")


def wide(a: np.ndarray, P: int) -> np.ndarray:
    """The ``(n_in, P, n_out)`` view of a wide weight ``(n_in, P·n_out)`` (no copy)."""
    return a.reshape(a.shape[0], P, -1)


def member_shape(kind: str, ndim: int, P: int) -> tuple[int, ...]:
    """Shape that broadcasts a per-member vector (P,) against a parameter's op view."""
    if kind == "wide":
        return (1, P, 1)
    return (P,) + (1,) * (ndim - 1)


class StackedMLP:
    """The active members' parameters and buffers, and one training step's arithmetic.

    Attributes:
        W, b: per Dense layer; ``W[0]`` wide (see the module docstring), ``b[l]`` (P, n) or
            None (a hidden Dense followed by batch norm has no bias).
        gamma, beta, running_mean, running_var: per hidden layer (P, n), when batch norm.
        keep: per hidden layer, the members' keep_prob (P,).
        rngs: per member, one Generator per hidden layer (its dropout masks).
    """

    def __init__(self, arch, states: list[dict], keeps: np.ndarray, rngs: list, dtype):
        self.arch, self.dtype = arch, np.dtype(dtype)
        self.P = len(states)
        sizes = arch.sizes
        self.n_layers = len(sizes) - 1
        P, L = self.P, self.n_layers
        # W0 wide; every other trainable array lives in one (P, R) buffer so the optimizer
        # makes a handful of passes per step whatever the depth (tiny networks are all
        # overhead otherwise).
        W0 = np.stack([s["W0"] for s in states]).astype(self.dtype)
        self.W0 = np.ascontiguousarray(W0.transpose(1, 0, 2)).reshape(sizes[0], -1)
        layout = []
        for i in range(1, L):
            layout.append(("W", i, (sizes[i], sizes[i + 1])))
        for i in range(L):
            if f"b{i}" in states[0]:
                layout.append(("b", i, (sizes[i + 1],)))
        if arch.batch_norm:
            for i in range(arch.n_hidden):
                layout.append(("gamma", i, (sizes[i + 1],)))
            for i in range(arch.n_hidden):
                layout.append(("beta", i, (sizes[i + 1],)))
        self._layout, offset = [], 0
        for name, i, shape in layout:
            size = int(np.prod(shape))
            self._layout.append((name, i, shape, offset, offset + size))
            offset += size
        self.W0, self.flat = self._join(self.W0, np.empty((P, offset), self.dtype))
        self._bind()
        for name, i, _shape, _a, _b in self._layout:
            key = {"W": "W", "b": "b", "gamma": "gamma", "beta": "beta"}[name] + str(i)
            target = self._view(self.flat, name, i)
            target[...] = np.stack([s[key] for s in states])
        self.running_mean, self.running_var = [], []
        if arch.batch_norm:
            for i in range(arch.n_hidden):
                self.running_mean.append(np.stack([s[f"rm{i}"] for s in states]).astype(self.dtype))
                self.running_var.append(np.stack([s[f"rv{i}"] for s in states]).astype(self.dtype))
        self.set_keep(np.array(keeps, dtype=np.float64).reshape(self.P, arch.n_hidden).T.copy())
        self.rngs = list(rngs)

    # -- parameter bookkeeping ----------------------------------------------------------
    def _view(self, buf: np.ndarray, name: str, i: int) -> np.ndarray:
        """The (P, ...) view of array ``name`` of layer ``i`` inside a (P, R) buffer."""
        for n, j, shape, a, b in self._layout:
            if n == name and j == i:
                return buf[:, a:b].reshape((buf.shape[0],) + shape)
        raise KeyError((name, i))

    def views(self, buf: np.ndarray) -> tuple[list, list, list, list]:
        """W (layers >= 1; index 0 is None), b, gamma, beta views into ``buf``."""
        L = self.n_layers
        W, b = [None] * L, [None] * L
        n_bn = self.arch.n_hidden if self.arch.batch_norm else 0
        gamma, beta = [None] * n_bn, [None] * n_bn
        lists = {"W": W, "b": b, "gamma": gamma, "beta": beta}
        P = buf.shape[0]
        for name, i, shape, a, c in self._layout:
            lists[name][i] = buf[:, a:c].reshape((P,) + shape)
        return W, b, gamma, beta

    def _join(self, W0: np.ndarray, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Copy W0 and the flat rest into one contiguous 1-D ``buffer``; return the views."""
        self.buffer = np.concatenate((W0.reshape(-1), flat.reshape(-1)))
        return self.split(self.buffer, W0.shape, flat.shape)

    def split(self, buf: np.ndarray, w0_shape=None, flat_shape=None):
        """The (W0, flat) views of a 1-D buffer laid out as :attr:`buffer`."""
        w0_shape = self.W0.shape if w0_shape is None else w0_shape
        flat_shape = self.flat.shape if flat_shape is None else flat_shape
        n = w0_shape[0] * w0_shape[1]
        return buf[:n].reshape(w0_shape), buf[n:].reshape(flat_shape)

    def member_index(self) -> np.ndarray:
        """For every entry of :attr:`buffer`, the position of the member it belongs to."""
        P = self.P
        if P == 0:
            return np.zeros(0, dtype=np.intp)
        members = np.arange(P, dtype=np.intp)
        n0 = self.W0.shape[1] // P
        first = np.broadcast_to(members[None, :, None], (self.W0.shape[0], P, n0)).reshape(-1)
        rest = np.repeat(members, self.flat.shape[1])
        return np.concatenate((first, rest))

    def _bind(self) -> None:
        self.W, self.b, self.gamma, self.beta = self.views(self.flat)
        # gradient buffers, reused by every step (the optimizer consumes them at once)
        self.grad_buffer = np.empty_like(self.buffer)
        self._gW0, self._gflat = self.split(self.grad_buffer)
        self._gviews = self.views(self._gflat)
        self._refresh_dropout()

    def _refresh_dropout(self) -> None:
        keep = getattr(self, "keep", [])
        self._dropping = [bool((k < 1.0).any()) for k in keep]
        # per hidden layer: (member, keep_prob, 1/keep_prob in the dtype) of those that drop
        self._droppers = [
            [
                (int(j), float(k[j]), np.asarray(1.0 / float(k[j]), self.dtype))
                for j in np.flatnonzero(k < 1.0)
            ]
            for k in keep
        ]

    def set_keep(self, keep: np.ndarray) -> None:
        """keep_prob per hidden layer and member, (n_hidden, P)."""
        self.keep = keep
        self._refresh_dropout()

    def params(self) -> list[tuple[str, np.ndarray]]:
        """(kind, array) of the trainable buffers: the wide W0 and the (P, R) rest."""
        return [("wide", self.W0), ("flat", self.flat)]

    def take(self, positions) -> None:
        """Keep only the members at ``positions`` (in that order): slices every array."""
        pos = np.asarray(positions, dtype=np.intp)
        self.W0, self.flat = self._join(
            wide(self.W0, self.P)[:, pos, :].reshape(self.W0.shape[0], -1), self.flat[pos]
        )
        self._bind()
        self.running_mean = [np.ascontiguousarray(a[pos]) for a in self.running_mean]
        self.running_var = [np.ascontiguousarray(a[pos]) for a in self.running_var]
        self.set_keep(self.keep[:, pos].copy())
        self.rngs = [self.rngs[k] for k in pos]
        self.P = len(pos)

    def copy_member(self, dst: int, src: int) -> None:
        """Member ``dst`` (a position) takes ``src``'s weights and batch-norm averages."""
        v = wide(self.W0, self.P)
        v[:, dst, :] = v[:, src, :]
        self.flat[dst] = self.flat[src]
        for a in self.running_mean + self.running_var:
            a[dst] = a[src]

    def weight(self, i: int) -> np.ndarray:
        """Layer ``i``'s weights as (P, n_in, n_out) (a view)."""
        return wide(self.W0, self.P).transpose(1, 0, 2) if i == 0 else self.W[i]

    def member_state(self, k: int) -> dict[str, np.ndarray]:
        """Copies of member ``k``'s arrays, keyed as :class:`Population` stores them."""
        out = {}
        for i in range(self.n_layers):
            out[f"W{i}"] = self.weight(i)[k].copy()
            if self.b[i] is not None:
                out[f"b{i}"] = self.b[i][k].copy()
        for i in range(len(self.gamma)):
            out[f"gamma{i}"] = self.gamma[i][k].copy()
            out[f"beta{i}"] = self.beta[i][k].copy()
            out[f"rm{i}"] = self.running_mean[i][k].copy()
            out[f"rv{i}"] = self.running_var[i][k].copy()
        return out

    # -- forward ------------------------------------------------------------------------
    # Activations are (P, B, n) arrays laid out in memory as (B, P, n): the wide GEMM of the
    # first layer produces that layout, reductions over the batch then run over the leading
    # memory axis (fast even for n = 2, where a reduction over a middle axis is ~20x slower),
    # and the batched matmuls write into it through ``out=``.
    @staticmethod
    def _bmm(a: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``a @ w`` per member, (P, B, k) @ (P, k, n), into a batch-major buffer."""
        P, B = a.shape[0], a.shape[1]
        out = np.empty((B, P, w.shape[2]), np.result_type(a, w))
        np.matmul(a, w, out=out.transpose(1, 0, 2))
        return out.transpose(1, 0, 2)

    def _dense(self, i: int, a: np.ndarray) -> np.ndarray:
        P = self.P
        if i == 0:
            if a.ndim == 2:  # common mini-batch: one wide GEMM for every member
                z = a @ self.W0
                if self.b[0] is not None:
                    z += self.b[0].reshape(-1)
                return z.reshape(a.shape[0], P, -1).transpose(1, 0, 2)
            z = self._bmm(a, self.weight(0))
        else:
            z = self._bmm(a, self.W[i])
        if self.b[i] is not None:
            z += self.b[i][:, None, :]
        return z

    def _activation(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """g(z) and what its derivative needs."""
        act = self.arch.activation
        if act == "relu":  # z is a fresh array of ours (dense or BN output): in place
            mask = z > 0
            return np.maximum(z, 0, out=z), mask
        if act == "tanh":
            out = np.tanh(z)
            return out, out
        if act == "sigmoid":
            e = np.exp(-np.abs(z))
            out = np.where(z >= 0, np.ones((), z.dtype), e) / (1.0 + e)
            return out, out
        if act == "leaky_relu":
            factor = np.where(z > 0, np.ones((), z.dtype), np.asarray(_LEAKY_SLOPE, z.dtype))
            return z * factor, factor
        # elu
        positive = z > 0
        negative_part = _ELU_ALPHA * np.exp(np.minimum(z, 0))
        out = np.where(positive, z, negative_part - _ELU_ALPHA)
        return out, np.where(positive, np.ones((), z.dtype), negative_part)

    def _activation_grad(self, g: np.ndarray, saved) -> np.ndarray:
        act = self.arch.activation
        if act == "tanh":
            return g * (1.0 - saved * saved)
        if act == "sigmoid":
            return g * saved * (1.0 - saved)
        np.multiply(g, saved, out=g)  # relu mask, leaky factor, elu factor; g is ours
        return g

    def _dropout_scale(self, i: int, B: int, n: int) -> np.ndarray | None:
        """d/keep_prob per member (P, B, n), drawn from each member's own generator exactly
        as ``honed.autograd.dropout`` draws it; None when no member drops units here."""
        if not self._dropping[i]:
            return None
        out = np.ones((B, self.P, n), self.dtype)
        mask = np.empty((B, n), bool)
        for k, kp, scale in self._droppers[i]:
            np.less(self.rngs[k][i].random((B, n), dtype=np.float32), kp, out=mask)
            np.multiply(mask, scale, out=out[:, k])  # mask·(1/keep_prob), as dropout's
        return out.transpose(1, 0, 2)

    def forward_train(self, x: np.ndarray) -> tuple[np.ndarray, list]:
        """Logits (P, B, C) in training mode, and the cache for :meth:`backward`.

        ``x`` is (B, n_in) for a common mini-batch or (P, B, n_in), one per member. Updates
        the batch-norm running averages (``β_run·avg + (1 − β_run)·batch``) in place.
        """
        cache = []
        a = x
        B = x.shape[-2]
        for i in range(self.n_layers):
            z = self._dense(i, a)
            if i == self.n_layers - 1:
                cache.append((a, None, None, None))
                return z, cache
            bn = None
            if self.arch.batch_norm:
                if B < 2:
                    raise ValueError(
                        "batch normalization in training mode needs at least 2 examples per "
                        f"batch (the variance of one example is undefined), got batch size {B}"
                    )
                mean = z.mean(axis=1, keepdims=True)
                centered = z - mean
                var = (centered * centered).mean(axis=1, keepdims=True)
                inv_std = 1.0 / np.sqrt(var + BN_EPS)
                x_hat = centered * inv_std
                z = x_hat * self.gamma[i][:, None, :] + self.beta[i][:, None, :]
                rm, rv = self.running_mean[i], self.running_var[i]
                rm *= BN_MOMENTUM
                rm += (1.0 - BN_MOMENTUM) * mean[:, 0, :]
                rv *= BN_MOMENTUM
                rv += (1.0 - BN_MOMENTUM) * var[:, 0, :]
                bn = (x_hat, inv_std)
            out, saved = self._activation(z)
            d = self._dropout_scale(i, B, out.shape[2])
            if d is not None:
                out = out * d
            cache.append((a, bn, saved, d))
            a = out
        raise AssertionError("unreachable")  # pragma: no cover

    def backward(self, dz: np.ndarray, cache: list) -> list[np.ndarray]:
        """Gradients of the members' mean losses given ``dz`` of the logits (P, B, C), as
        ``[gW0 (wide), g_flat (P, R)]`` in the layout of :meth:`params`."""
        P = self.P
        gW0, gflat = self._gW0, self._gflat
        gW, gb, ggamma, gbeta = self._gviews
        for i in range(self.n_layers - 1, -1, -1):
            a_prev = cache[i][0]
            if i > 0:
                np.matmul(a_prev.transpose(0, 2, 1), dz, out=gW[i])
            elif a_prev.ndim == 3:
                g = np.matmul(a_prev.transpose(0, 2, 1), dz)  # (P, n_in, n_out)
                wide(gW0, P)[...] = g.transpose(1, 0, 2)
            else:
                dz_wide = dz.transpose(1, 0, 2).reshape(dz.shape[1], -1)  # (B, P·n0)
                np.matmul(a_prev.T, dz_wide, out=gW0)
            if gb[i] is not None:
                np.sum(dz, axis=1, out=gb[i])
            if i == 0:
                break
            da = self._bmm(dz, self.W[i].transpose(0, 2, 1))
            _, bn, saved, d = cache[i - 1]
            if d is not None:
                da *= d
            dzt = self._activation_grad(da, saved)
            if bn is not None:
                x_hat, inv_std = bn
                j = i - 1
                np.sum(dzt * x_hat, axis=1, out=ggamma[j])
                np.sum(dzt, axis=1, out=gbeta[j])
                B = dzt.shape[1]
                dd = dzt * self.gamma[j][:, None, :]
                dz = (inv_std / B) * (
                    B * dd
                    - dd.sum(axis=1, keepdims=True)
                    - x_hat * (dd * x_hat).sum(axis=1, keepdims=True)
                )
            else:
                dz = dzt
        return [gW0, gflat]

    def forward_eval(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Logits (P, m, C) in eval mode: no dropout, batch norm with the running averages
        (``(z − μ_run)·(γ/√(σ²_run + ε)) + β``), in chunks of ``batch_size`` rows. ``x`` is
        (m, n_in), shared by all members, or (P, m, n_in), one set per member."""
        parts = []
        for start in range(0, x.shape[-2], batch_size):
            a = x[..., start : start + batch_size, :]
            for i in range(self.n_layers):
                z = self._dense(i, a)
                if i == self.n_layers - 1:
                    a = z
                    break
                if self.arch.batch_norm:
                    inv_std = 1.0 / np.sqrt(self.running_var[i] + BN_EPS)
                    scale = self.gamma[i] * inv_std
                    z = (z - self.running_mean[i][:, None, :]) * scale[:, None, :] + self.beta[i][
                        :, None, :
                    ]
                a, _ = self._activation(z)
            parts.append(a)
        if not parts:
            return np.empty((self.P, 0, self.arch.sizes[-1]), self.dtype)
        return np.concatenate(parts, axis=1)

    # -- penalty ------------------------------------------------------------------------
    def sum_squares(self) -> np.ndarray:
        """Σ_l ‖W_l‖²_F per member (P,)."""
        v = wide(self.W0, self.P)
        total = np.einsum("ipj,ipj->p", v, v)
        for w in self.W[1:]:
            total = total + np.einsum("pij,pij->p", w, w)
        return total

    def sum_abs(self) -> np.ndarray:
        """Σ_l Σ |W_l| per member (P,)."""
        total = np.abs(wide(self.W0, self.P)).sum(axis=(0, 2))
        for w in self.W[1:]:
            total = total + np.abs(w).sum(axis=(1, 2))
        return total

    def num_parameters(self) -> int:
        """Trainable numbers of one member."""
        return (self.W0.size + self.flat.size) // max(self.P, 1)


#: regression losses a population trains (linear outputs, standardized float targets): those
#: of honed.nn that declare population = True and task = "regression"
REGRESSION_LOSSES = tuple(population_losses("regression"))


def _regression_target(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Targets as (1, B, k) (a common batch, y (B, k)) or (P, B, k) (each member's rows)."""
    P, B, k = logits.shape
    shape = (1, B, k) if y.ndim <= 2 else (P, B, k)
    return y.reshape(shape).astype(logits.dtype, copy=False)


def regression_loss_and_grad(logits, y, loss: str, delta: float = 1.0):
    """Per-member cost (P,), ``B·RMSE`` (P,) (summed over batches and divided by m: the
    batch-weighted mean RMSE, as the Trainer reports) and dz (P, B, k), with r = z − y:

    mse ``J = Σ r² / (2B)``, ``dz = r / B``; mae ``J = Σ |r| / B``, ``dz = sign(r) / B``;
    huber ``J = Σ [½ q² + δ(|r| − q)] / B`` with ``q = min(|r|, δ)``, ``dz = clip(r, ±δ) / B``.
    """
    B = logits.shape[1]
    r = logits - _regression_target(logits, y)
    cost = _regression_cost(r, loss, delta) / B
    if loss == "mse":
        dz = r * (1.0 / B)
    elif loss == "mae":
        dz = np.sign(r) * (1.0 / B)
    else:
        dz = np.clip(r, -delta, delta) * (1.0 / B)
    rmse = np.sqrt(np.mean(r * r, axis=(1, 2)))
    return cost, rmse * B, dz


def _regression_cost(r: np.ndarray, loss: str, delta: float) -> np.ndarray:
    if loss == "mse":
        return 0.5 * (r * r).sum(axis=(1, 2))
    a = np.abs(r)
    if loss == "mae":
        return a.sum(axis=(1, 2))
    q = np.minimum(a, delta)
    return (0.5 * q * q + delta * (a - q)).sum(axis=(1, 2))


def loss_and_grad(logits: np.ndarray, y: np.ndarray, loss: str, delta: float = 1.0):
    """Per-member mean cost (P,), wrong-prediction count (P,) and dz = ∂J_k/∂z (P, B, C).

    softmax: ``J = (1/B) Σ_i (log Σ_c e^{z_ic − max} − (z_{i,y_i} − max))``, ``dz = (ŷ − y)/B``;
    sigmoid: ``J = (1/B) Σ [max(z, 0) − z·y + log(1 + e^{−|z|})]``, ``dz = (σ(z) − y)/B``.
    ``y`` is (B,) (common batch) or (P, B); regression losses: see
    :func:`regression_loss_and_grad`.
    """
    P, B, _ = logits.shape
    if loss in REGRESSION_LOSSES:
        return regression_loss_and_grad(logits, y, loss, delta)
    if loss == "softmax_cross_entropy":
        shifted = logits - logits.max(axis=2, keepdims=True)
        probs = np.exp(shifted)
        total = probs.sum(axis=2, keepdims=True)
        probs /= total
        log_norm = np.log(total)
        rows = np.arange(B)
        if y.ndim == 1:
            picked = shifted[:, rows, y]
            probs[:, rows, y] -= 1
            wrong = np.count_nonzero(logits.argmax(axis=2) != y[None, :], axis=1)
        else:
            members = np.arange(P)[:, None]
            picked = shifted[members, rows[None, :], y]
            probs[members, rows[None, :], y] -= 1
            wrong = np.count_nonzero(logits.argmax(axis=2) != y, axis=1)
        cost = (log_norm.sum(axis=(1, 2)) - picked.sum(axis=1)) / B
        probs *= 1.0 / B
        return cost, wrong, probs
    if loss == "sigmoid_cross_entropy":
        target = y.reshape((1, B, 1) if y.ndim == 1 else (P, B, 1)).astype(logits.dtype)
        e = np.exp(-np.abs(logits))
        s = np.where(logits >= 0, 1.0, e) / (1.0 + e)
        cost = (np.maximum(logits, 0) - logits * target + np.log1p(e)).sum(axis=(1, 2)) / B
        predicted = logits[:, :, 0] > 0
        wrong = np.count_nonzero(predicted != (target[:, :, 0] > 0.5), axis=1)
        return cost, wrong, (s - target) * (1.0 / B)
    raise ValueError(
        f"loss must be softmax_cross_entropy or binary_cross_entropy for a population, got {loss!r}"
    )


def eval_cost_error(logits: np.ndarray, y: np.ndarray, loss: str, delta: float = 1.0):
    """Per-member mean cost and error rate (regression: RMSE) on a whole set (no penalty,
    no gradient)."""
    P, m, _ = logits.shape
    if m == 0:
        return np.full(P, np.nan), np.full(P, np.nan)
    if loss in REGRESSION_LOSSES:
        r = logits.astype(np.float64) - _regression_target(logits, y)
        return _regression_cost(r, loss, delta) / m, np.sqrt(np.mean(r * r, axis=(1, 2)))
    if loss == "sigmoid_cross_entropy":
        z = logits[:, :, 0]
        target = y.reshape(1, m) if y.ndim == 1 else y.reshape(P, m)
        cost = (np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))).sum(axis=1) / m
        wrong = np.count_nonzero((z > 0) != (target > 0.5), axis=1)
        return cost, wrong / m
    shifted = logits - logits.max(axis=2, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=2))
    rows = np.arange(m)
    picked = shifted[:, rows, y] if y.ndim == 1 else shifted[np.arange(P)[:, None], rows, y]
    cost = (log_norm.sum(axis=1) - picked.sum(axis=1)) / m
    wrong = np.count_nonzero(logits.argmax(axis=2) != y, axis=1)
    return cost, wrong / m


__all__ = [
    "REGRESSION_LOSSES",
    "StackedMLP",
    "eval_cost_error",
    "loss_and_grad",
    "member_shape",
    "wide",
]
