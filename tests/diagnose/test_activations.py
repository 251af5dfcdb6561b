import numpy as np
import pytest

import honed.nn as nn
from honed.diagnose.activations import activation_stats, deep_stack, format_stats, init_experiment


@pytest.fixture(scope="module")
def results():
    return init_experiment(m=300)


def test_sigmoid_std1_saturates_and_std001_collapses(results):
    std1 = results[("sigmoid", "std 1")]
    small = results[("sigmoid", "std 0.01")]
    xavier = results[("sigmoid", "xavier")]
    assert len(std1) == 5
    assert all(s.saturated > 0.3 for s in std1)  # piled up at 0 and 1
    assert all(s.std < 0.03 and abs(s.mean - 0.5) < 0.01 for s in small)  # all ≈ 0.5
    assert all(s.saturated < 0.01 and 0.08 < s.std < 0.3 for s in xavier)  # healthy spread


def test_tanh_and_relu_patterns(results):
    assert results[("tanh", "std 1")][-1].saturated > 0.5
    assert results[("tanh", "std 0.01")][-1].std < 1e-3  # vanishes layer after layer
    relu_he = [s.std for s in results[("relu", "he")]]
    relu_big = [s.std for s in results[("relu", "std 1")]]
    relu_small = [s.std for s in results[("relu", "std 0.01")]]
    assert max(relu_he) / min(relu_he) < 2  # He keeps the scale
    assert relu_big[-1] > 1000 * relu_big[0] / 100  # explodes
    assert relu_small[-1] < 1e-4  # collapses
    assert all(0.3 < s.saturated < 0.7 for s in results[("relu", "he")])  # ~half inactive


def test_activation_stats_on_any_sequential_restores_mode():
    model = nn.mlp([10, 8, 8, 2], activation="tanh", keep_prob=0.5)
    X = np.random.default_rng(0).standard_normal((50, 10)).astype(np.float32)
    stats = activation_stats(model, X)
    assert [s.kind for s in stats] == ["Tanh", "Tanh"]
    assert stats[0].values.shape == (50, 8)
    assert model.training
    assert "saturated" in format_stats(stats)


def test_deep_stack_validates():
    with pytest.raises(ValueError, match="weights must be one of"):
        deep_stack("relu", "std 2")
