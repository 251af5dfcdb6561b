import itertools

import numpy as np

import honed.nn as nn
from honed.nn import gates

# The notes' truth tables (x1, x2, y).
AND = [[0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 1]]
OR = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]]
NAND = [[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 0]]
XOR = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]


def test_gates_reproduce_truth_tables():
    assert gates.truth_table(gates.AND).tolist() == AND
    assert gates.truth_table(gates.OR).tolist() == OR
    assert gates.truth_table(gates.NAND).tolist() == NAND
    assert gates.truth_table(gates.XOR).tolist() == XOR
    assert gates.AND([1, 1]) == 1 and gates.XOR([1, 1]) == 0


def test_xor_hidden_layer_matches_notes():
    # s1 = NAND, s2 = OR, then AND(s1, s2) (notes' second table)
    s = np.stack([gates.NAND(gates.INPUTS), gates.OR(gates.INPUTS)], axis=1)
    assert s.tolist() == [[1, 0], [1, 1], [1, 1], [0, 1]]


def test_single_perceptron_cannot_represent_xor():
    grid = np.linspace(-5, 5, 21)
    target = np.array([row[2] for row in XOR])
    X = gates.INPUTS
    for w1, w2, b in itertools.product(grid, grid, grid):
        if np.array_equal(nn.Perceptron([w1, w2], b)(X), target):
            raise AssertionError(f"perceptron ({w1}, {w2}, {b}) fits XOR")
    # the same search does find AND, so the grid is not the limitation
    assert np.array_equal(nn.Perceptron([2, 2], -3)(X), [0, 0, 0, 1])


def _train_xor(seed, epochs=1000, lr=3.0):
    X = gates.INPUTS
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    # N(0, 0.5²) weights: small enough to start in sigmoid's linear region. A 2-2-1 network
    # still lands in a local minimum from some starts (about 1 in 5 over 40 seeds).
    model = nn.Sequential(
        nn.Dense(2, 2, init="normal", scale=0.5, rng=seed),
        nn.Sigmoid(),
        nn.Dense(2, 1, init="normal", scale=0.5, rng=seed + 100),
    )
    model.to(np.float64)
    params = model.parameters()
    for _ in range(epochs):
        for p in params:
            p.grad = None
        J = nn.binary_cross_entropy_with_logits(model(X), y)
        J.backward()
        for p in params:
            p.data -= lr * p.grad  # plain gradient descent
    return nn.accuracy(model(X), y)


def test_sigmoid_network_learns_xor_from_most_seeds():
    solved = sum(_train_xor(seed) == 1.0 for seed in range(10))
    assert solved >= 8, solved
