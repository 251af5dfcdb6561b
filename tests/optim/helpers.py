"""Shared pieces of the optimizer tests: a least-squares problem and the notes' formulas."""

from __future__ import annotations

import math

import numpy as np

from honed.autograd import Parameter


def least_squares(seed: int = 0, dtype=np.float64):
    """A random problem ``J(W, b) = mean((X W + b - Y)²)`` and a function giving its gradients.

    Returns ``(init, grads)``: the initial values ``[W, b]`` and ``grads(values) -> [dW, db]``,
    computed with honed's autograd at the given values.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((32, 5)).astype(dtype)
    Y = rng.standard_normal((32, 3)).astype(dtype)
    init = [rng.standard_normal((5, 3)).astype(dtype), rng.standard_normal(3).astype(dtype)]

    def cost(W, b):
        return ((X @ W + b - Y) ** 2).mean()

    def grads(values):
        W, b = (Parameter(v.copy()) for v in values)
        cost(W, b).backward()
        return [W.grad, b.grad]

    return init, grads, cost


def params_of(values):
    return [Parameter(np.array(v, copy=True)) for v in values]


def run(opt_cls, values, steps, **kwargs):
    """``steps`` updates of a honed optimizer on the least-squares problem, from ``values``."""
    init, grads, _ = least_squares()
    params = params_of(values)
    opt = opt_cls(params, **kwargs)
    for _ in range(steps):
        for p, g in zip(params, grads([p.data for p in params])):
            p.grad = g
        opt.step()
    return [p.data for p in params]


# -- the notes' formulas, transcribed line by line in plain NumPy (test oracles) -------------
def notes_momentum(values, grad_fn, steps, lr, beta):
    W = [np.array(v, copy=True) for v in values]
    v = [np.zeros_like(w) for w in W]
    for _ in range(steps):
        dW = grad_fn(W)
        for i in range(len(W)):
            v[i] = beta * v[i] + (1 - beta) * dW[i]
            W[i] = W[i] - lr * v[i]
    return W


def notes_rmsprop(values, grad_fn, steps, lr, beta2, eps):
    W = [np.array(v, copy=True) for v in values]
    s = [np.zeros_like(w) for w in W]
    for _ in range(steps):
        dW = grad_fn(W)
        for i in range(len(W)):
            s[i] = beta2 * s[i] + (1 - beta2) * dW[i] ** 2
            W[i] = W[i] - lr * dW[i] / (np.sqrt(s[i]) + eps)
    return W


def notes_adam(values, grad_fn, steps, lr, beta1, beta2, eps):
    W = [np.array(v, copy=True) for v in values]
    v = [np.zeros_like(w) for w in W]
    s = [np.zeros_like(w) for w in W]
    for t in range(1, steps + 1):
        dW = grad_fn(W)
        for i in range(len(W)):
            v[i] = beta1 * v[i] + (1 - beta1) * dW[i]
            s[i] = beta2 * s[i] + (1 - beta2) * dW[i] ** 2
            v_hat = v[i] / (1 - beta1**t)
            s_hat = s[i] / (1 - beta2**t)
            W[i] = W[i] - lr * v_hat / (np.sqrt(s_hat) + eps)
    return W


def quadratic_grad(values):
    """The notes' ``J(w) = w² - 10w + 25``: ``dJ/dw = 2w - 10``."""
    return [2.0 * values[0] - 10.0]


def python_adam_quadratic(steps, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam on the notes' quadratic from w = 0 in pure Python floats (for golden values)."""
    w, v, s, out = 0.0, 0.0, 0.0, []
    for t in range(1, steps + 1):
        g = 2 * w - 10
        v = beta1 * v + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * g * g
        w -= lr * (v / (1 - beta1**t)) / (math.sqrt(s / (1 - beta2**t)) + eps)
        out.append(w)
    return out


def quadratic_trajectory(opt_cls, steps: int = 5, **kwargs) -> list[float]:
    """w after each of ``steps`` ``minimize`` calls on the notes' J = w² − 10w + 25, from w = 0
    (float64)."""
    w = Parameter(0.0, dtype=np.float64)
    opt = opt_cls([w], **kwargs)
    trajectory = []
    for _ in range(steps):
        opt.minimize(w**2 - 10 * w + 25)
        trajectory.append(float(w.data))
    return trajectory
