"""The hand-written NumPy MLP that benchmarks/mlp_vs_torch.py times honed against must do the
same work as honed's Trainer step: the same cost, gradients and Adam updates."""

import sys
from pathlib import Path

import numpy as np

from honed.autograd import Tensor, softmax_cross_entropy
from honed.nn import mlp
from honed.optim import Adam

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from numpy_mlp import NumpyMLP  # noqa: E402

SIZES = [12, 9, 7, 4]


def test_numpy_reference_matches_honed_steps_in_float64():
    reference = NumpyMLP(SIZES, seed=1, lr=1e-2, dtype=np.float64)
    model = mlp(SIZES, activation="relu", seed=0).to(np.float64)
    weights = [p for p in model.parameters() if p.data.ndim == 2]
    biases = [p for p in model.parameters() if p.data.ndim == 1]
    for p, W in zip(weights, reference.W):
        p.data[...] = W
    optimizer = Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(3)
    for _ in range(4):
        x, y = rng.standard_normal((10, SIZES[0])), rng.integers(0, SIZES[-1], 10)
        logits = model(Tensor(x))
        expected_error = np.mean(logits.data.argmax(axis=1) != y)
        cost = softmax_cross_entropy(logits, y)
        optimizer.zero_grad()
        cost.backward()
        ref_cost, ref_error = reference.train_step(x, y)
        assert abs(ref_cost - float(cost.data)) < 1e-12
        assert ref_error == expected_error
        for p, g in zip(weights + biases, reference.gW + reference.gb):
            np.testing.assert_allclose(p.grad, g, rtol=1e-10, atol=1e-13)
        optimizer.step()
        for p, value in zip(weights + biases, reference.W + reference.b):
            np.testing.assert_allclose(p.data, value, rtol=1e-10, atol=1e-13)
    assert reference.error(x, y) == np.mean(model(Tensor(x)).data.argmax(axis=1) != y)
