"""XOR: the notes' perceptron gates, why one perceptron fails, and a 2-2-1 net that learns it.

    python examples/xor.py

1. AND (2, 2, −3), OR (2, 2, −1), NAND (−2, −2, 3) as perceptrons with the step function, and
   XOR = AND(NAND(x), OR(x)): two layers of perceptrons.
2. No single perceptron fits XOR (a grid search over (w1, w2, b) finds none).
3. A 2-2-1 sigmoid network trained with plain gradient descent, the update written by hand:
   ``p.data -= lr * p.grad``.
"""

from __future__ import annotations

import itertools

import numpy as np

import honed.nn as nn
from honed.nn import gates


def show_gates() -> None:
    for name in ("AND", "OR", "NAND", "XOR"):
        table = gates.truth_table(getattr(gates, name))
        print(f"{name:>4}: " + "  ".join(f"{x1}{x2}->{y}" for x1, x2, y in table))


def single_perceptron_search() -> int:
    target = gates.truth_table(gates.XOR)[:, 2]
    grid = np.linspace(-5, 5, 21)
    found = sum(
        np.array_equal(nn.Perceptron([w1, w2], b)(gates.INPUTS), target)
        for w1, w2, b in itertools.product(grid, grid, grid)
    )
    print(f"single perceptrons fitting XOR on a {len(grid)}^3 grid: {found}")
    return found


def train_xor(seed: int = 0, epochs: int = 1000, lr: float = 3.0, verbose: bool = True):
    X = gates.INPUTS
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(
        nn.Dense(2, 2, init="normal", scale=0.5, rng=seed),
        nn.Sigmoid(),
        nn.Dense(2, 1, init="normal", scale=0.5, rng=seed + 100),
    ).to(np.float64)
    params = model.parameters()
    for epoch in range(epochs + 1):
        for p in params:
            p.grad = None
        logits = model(X)
        J = nn.binary_cross_entropy_with_logits(logits, y)
        J.backward()
        for p in params:
            p.data -= lr * p.grad  # plain gradient descent
        if verbose and epoch % 200 == 0:
            print(f"epoch {epoch:4d}  J = {J.item():.4f}  accuracy = {nn.accuracy(logits, y):.2f}")
    return model, nn.accuracy(model(X), y)


def main() -> None:
    show_gates()
    single_perceptron_search()
    model, acc = train_xor()
    probs = 1 / (1 + np.exp(-model(gates.INPUTS).data[:, 0]))
    print(
        "2-2-1 network:",
        "  ".join(f"{int(a)}{int(b)}->{p:.3f}" for (a, b), p in zip(gates.INPUTS, probs)),
    )
    solved = sum(train_xor(seed, verbose=False)[1] == 1.0 for seed in range(10))
    print(f"learned XOR from {solved} of 10 seeds (a 2-2-1 net can stop in a local minimum)")


if __name__ == "__main__":
    main()
