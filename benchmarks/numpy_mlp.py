"""A ReLU MLP with softmax cross-entropy and Adam, written directly in NumPy.

The reference for honed's engine overhead in ``mlp_vs_torch.py``: the same mathematics
honed's ``Trainer`` runs (He-normal init, z = a·W + b, ReLU, softmax cross-entropy, Adam
with lr 1e-3, β₁ 0.9, β₂ 0.999, ε 1e-8), with no autograd graph, no modules and no
callbacks. Every array the step needs is allocated once and reused (``out=`` everywhere),
and Adam makes the same 10 in-place passes as ``honed.optim.Adam``. It also does the work
the Trainer does besides the step: the batch's cost (checked for NaN) and error, and a dev
evaluation at the end of each epoch.

Backward of one mini-batch of m rows (rows are examples)::

    dz_L = (softmax(z_L) − onehot(y)) / m
    dW_l = a_{l−1}ᵀ·dz_l,   db_l = Σ_rows dz_l,   dz_{l−1} = (dz_l·W_lᵀ) ⊙ [a_{l−1} > 0]
"""

from __future__ import annotations

import math

import numpy as np

from honed.data import minibatches


class NumpyMLP:
    def __init__(
        self,
        sizes,
        seed: int = 0,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        dtype=np.float32,
    ):
        rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        pairs = list(zip(sizes[:-1], sizes[1:]))
        self.W = [
            (rng.standard_normal((n_in, n_out)) * math.sqrt(2.0 / n_in)).astype(self.dtype)
            for n_in, n_out in pairs
        ]
        self.b = [np.zeros(n_out, self.dtype) for _, n_out in pairs]
        self.gW = [np.empty_like(W) for W in self.W]
        self.gb = [np.empty_like(b) for b in self.b]
        self.params = self.W + self.b
        self.grads = self.gW + self.gb
        self.m = [np.zeros_like(p) for p in self.params]
        self.u = [np.zeros_like(p) for p in self.params]
        self.scratch = [np.empty_like(p) for p in self.params]
        self.lr, self.beta1, self.beta2, self.eps, self.t = lr, beta1, beta2, eps, 0
        self._buffers: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    def _activations(self, rows: int):
        """(z, da) buffers for a batch of ``rows`` examples, allocated once per size."""
        if rows not in self._buffers:
            z = [np.empty((rows, W.shape[1]), self.dtype) for W in self.W]
            da = [np.empty((rows, W.shape[0]), self.dtype) for W in self.W]
            self._buffers[rows] = (z, da)
        return self._buffers[rows]

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        """Activations [x, a_1, ..., z_L] (hidden ReLU applied in place)."""
        z, _ = self._activations(len(x))
        acts = [x]
        for layer, (W, b) in enumerate(zip(self.W, self.b)):
            out = z[layer]
            np.matmul(acts[-1], W, out=out)
            out += b
            if layer < len(self.W) - 1:
                np.maximum(out, 0, out=out)
            acts.append(out)
        return acts

    def train_step(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        """One Adam step on (x, y); returns the batch's cost and error rate."""
        rows = len(x)
        acts = self.forward(x)
        logits = acts[-1]
        wrong = float(np.count_nonzero(logits.argmax(axis=1) != y)) / rows
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)  # now the softmax ŷ
        picked = np.arange(rows), y
        cost = -float(np.log(logits[picked]).sum()) / rows
        if not math.isfinite(cost):
            raise FloatingPointError(f"cost became {cost}")
        dz = logits
        dz[picked] -= 1.0
        dz *= 1.0 / rows
        _, da = self._activations(rows)
        for layer in reversed(range(len(self.W))):
            a_prev = acts[layer]
            np.matmul(a_prev.T, dz, out=self.gW[layer])
            np.sum(dz, axis=0, out=self.gb[layer])
            if layer > 0:
                np.matmul(dz, self.W[layer].T, out=da[layer])
                np.multiply(da[layer], a_prev > 0, out=da[layer])
                dz = da[layer]
        self._adam()
        return cost, wrong

    def _adam(self) -> None:
        """honed.optim.Adam's 10 in-place passes per parameter (see its docstring)."""
        self.t += 1
        b1, b2, t = self.beta1, self.beta2, self.t
        a = math.sqrt((1.0 - b2) / (1.0 - b2**t))
        c = self.lr * (1.0 - b1) / ((1.0 - b1**t) * a)
        eps = self.eps / a
        for p, g, m, u, s in zip(self.params, self.grads, self.m, self.u, self.scratch):
            np.multiply(m, b1, out=m)
            np.add(m, g, out=m)
            np.multiply(u, b2, out=u)
            np.multiply(g, g, out=s)
            np.add(u, s, out=u)
            np.sqrt(u, out=s)
            np.add(s, eps, out=s)
            np.divide(m, s, out=s)
            np.multiply(s, c, out=s)
            np.subtract(p, s, out=p)

    def error(self, X: np.ndarray, y: np.ndarray, batch: int = 4096) -> float:
        wrong = 0
        for i in range(0, len(X), batch):
            logits = X[i : i + batch] @ self.W[0] + self.b[0]
            for W, b in zip(self.W[1:], self.b[1:]):
                np.maximum(logits, 0, out=logits)
                logits = logits @ W + b
            wrong += int(np.count_nonzero(logits.argmax(axis=1) != y[i : i + batch]))
        return wrong / len(X)

    def fit_epoch(self, X, y, batch_size: int, rng: np.random.Generator, X_dev=None, y_dev=None):
        """One epoch over shuffled mini-batches, then the dev error (as the Trainer does)."""
        total_cost = total_wrong = 0.0
        for xb, yb in minibatches(X, y, batch_size, rng):
            cost, wrong = self.train_step(xb, yb)
            total_cost += cost * len(xb)
            total_wrong += wrong * len(xb)
        dev_error = self.error(X_dev, y_dev) if X_dev is not None else None
        return total_cost / len(X), total_wrong / len(X), dev_error


def main() -> None:
    import argparse
    import time

    from honed.data import Standardizer, fashion_mnist, train_dev_split

    parser = argparse.ArgumentParser(
        description="Train the hand-written NumPy MLP on Fashion-MNIST."
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    train, test = fashion_mnist()
    train, dev = train_dev_split(train, dev=5000, seed=0)
    scaler = Standardizer(per_feature=False).fit(train)
    train, dev, test = (scaler.transform(d) for d in (train, dev, test))
    net, rng = NumpyMLP([784, 256, 256, 10]), np.random.default_rng(0)
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        cost, error, dev_error = net.fit_epoch(train.X, train.y, args.batch_size, rng, dev.X, dev.y)
        print(
            f"epoch {epoch}: {time.perf_counter() - started:.3f} s, train cost {cost:.4f}, "
            f"train error {error:.4f}, dev error {dev_error:.4f}"
        )
    print(f"test accuracy {1 - net.error(test.X, test.y):.4f}")


if __name__ == "__main__":
    main()
