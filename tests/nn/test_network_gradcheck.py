"""Float64 gradient check of a network with every layer kind (dropout off), and the penalty."""

import numpy as np

import honed.nn as nn
from honed.autograd import Tensor, gradcheck


def _network():
    return nn.Sequential(
        nn.Dense(4, 6, init="he", rng=0),
        nn.BatchNorm(6),  # training mode: batch statistics, gradient through μ and σ²
        nn.ReLU(),
        nn.Dropout(1.0),  # keep_prob = 1: off
        nn.Maxout(6, 5, pieces=2, rng=1),
        nn.Tanh(),
        nn.Dense(5, 5, rng=2),
        nn.LeakyReLU(0.05),
        nn.Dense(5, 5, rng=3),
        nn.ELU(0.8),
        nn.Dropout(0.5, rng=4),
        nn.Dense(5, 4, rng=5),
        nn.Sigmoid(),
        nn.Dense(4, 3, init="glorot", rng=6),
    ).to(np.float64)


def test_every_layer_kind_gradcheck_correct():
    model = _network()
    model[10].eval()  # the keep_prob 0.5 dropout: eval mode while checking
    assert model[0].b is None  # Sequential dropped the bias cancelled by BatchNorm
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4))
    y = rng.integers(0, 3, 8)

    def cost():
        return nn.softmax_cross_entropy(model(x), y) + model.penalty(l1=0.01, l2=0.1, m=8)

    result = gradcheck(cost, model)
    assert result.verdict == "correct", str(result)
    assert result.error < 1e-7
    names = {t.name for t in result.tensors}
    assert {"layers.0.W", "layers.1.gamma", "layers.1.beta", "layers.4.W", "layers.4.b"} <= names


def test_gradcheck_points_at_a_wrong_gradient():
    model = nn.Sequential(nn.Dense(3, 2, rng=0), nn.Tanh(), nn.Dense(2, 2, rng=1)).to(np.float64)
    x = np.random.default_rng(1).standard_normal((4, 3))

    def buggy_cost():
        h = model[1](model[0](x))
        # A "bug": the second layer's weights enter the cost through a detached copy.
        return (
            nn.mean_squared_error(h @ Tensor(model[2].W.data) + model[2].b, np.zeros((4, 2)))
            + (model[2].W * 0.0).sum()
        )

    result = gradcheck(buggy_cost, model)
    assert result.verdict != "correct"
    assert result.worst.name == "layers.2.W"
