import numpy as np
import pytest

import honed.nn as nn
from honed.autograd import Tensor, no_grad


# -- dropout --------------------------------------------------------------------------------
def test_dropout_preserves_mean_in_expectation():
    x = np.full((2000, 50), 3.0, np.float32)
    layer = nn.Dropout(0.8, rng=0)
    out = layer(x).data
    kept = out != 0
    assert abs(kept.mean() - 0.8) < 0.01  # fraction kept ≈ keep_prob
    np.testing.assert_allclose(out[kept], 3.0 / 0.8, rtol=1e-6)  # survivors scaled by 1/keep
    assert abs(out.mean() - 3.0) < 0.02  # mean preserved (3σ ≈ 0.017 here)


def test_dropout_eval_and_keep_prob_one_are_identity():
    x = Tensor(np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32))
    assert nn.Dropout(0.5, rng=0).eval()(x) is x
    assert nn.Dropout(1.0)(x) is x


@pytest.mark.parametrize("bad", [0, 0.0, -0.5, 1.5, float("nan"), "x"])
def test_dropout_keep_prob_validated(bad):
    if isinstance(bad, str):  # a wrong type is a TypeError, a bad number a ValueError
        with pytest.raises(TypeError, match="keep_prob must be a number, got 'x'"):
            nn.Dropout(bad)
        return
    with pytest.raises(ValueError, match=f"keep_prob must be .*, got {bad:g}"):
        nn.Dropout(bad)


def test_dropout_rng_is_seedable_and_resumable():
    x = np.ones((4, 6), np.float32)
    a, b = nn.Dropout(0.5, rng=7), nn.Dropout(0.5, rng=7)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    state = a.rng.bit_generator.state
    first = a(x).data
    a.rng.bit_generator.state = state
    np.testing.assert_array_equal(a(x).data, first)


def test_dropout_gradient_uses_the_same_mask():
    x = Tensor(np.ones((3, 5)), requires_grad=True)
    out = nn.Dropout(0.6, rng=1)(x)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)  # d/dx (x·d/keep) = d/keep, x = 1


# -- batch norm -----------------------------------------------------------------------------
def _trained_bn(seed=0):
    bn = nn.BatchNorm(3, momentum=0.8)
    rng = np.random.default_rng(seed)
    bn.gamma.data[:] = [1.5, 0.5, 2.0]
    bn.beta.data[:] = [0.1, -0.2, 0.3]
    for _ in range(20):
        bn(rng.standard_normal((16, 3)).astype(np.float32) * 3 + 5)
    return bn


def test_batchnorm_training_normalizes_batch():
    bn = nn.BatchNorm(4)
    x = np.random.default_rng(0).standard_normal((64, 4)) * 5 + 2
    y = bn(x).data
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-6)
    np.testing.assert_allclose(y.var(axis=0), 1, atol=1e-3)


def test_batchnorm_running_stats_are_ewma_of_biased_batch_stats():
    bn = nn.BatchNorm(2, momentum=0.9)
    rng = np.random.default_rng(0)
    mean, var = np.zeros(2), np.ones(2)
    for _ in range(3):
        x = rng.standard_normal((10, 2)) * 2 + 1
        bn(x)
        mean = 0.9 * mean + 0.1 * x.mean(axis=0)
        var = 0.9 * var + 0.1 * x.var(axis=0)  # 1/m
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, var, rtol=1e-5)


def test_batchnorm_eval_single_example_equals_batch():
    bn = _trained_bn().eval()
    batch = np.random.default_rng(1).standard_normal((10, 3)).astype(np.float32) * 3 + 5
    with no_grad():
        full = bn(batch).data
        alone = bn(batch[4:5]).data
    np.testing.assert_array_equal(alone[0], full[4])
    expected = (batch - bn.running_mean) / np.sqrt(
        bn.running_var + bn.eps
    ) * bn.gamma.data + bn.beta.data
    np.testing.assert_allclose(full, expected, rtol=1e-5, atol=1e-6)


def test_batchnorm_training_batch_of_one_raises():
    bn = nn.BatchNorm(3)
    with pytest.raises(ValueError, match="at least 2 examples"):
        bn(np.ones((1, 3), np.float32))


def test_batchnorm_eval_does_not_update_running_stats():
    bn = _trained_bn().eval()
    before = bn.running_mean.copy()
    bn(np.ones((4, 3), np.float32))
    np.testing.assert_array_equal(bn.running_mean, before)


def test_batchnorm_validates_arguments():
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm(3, momentum=1.0)
    with pytest.raises(ValueError, match="eps"):
        nn.BatchNorm(3, eps=0)


def test_sequential_drops_dense_bias_before_batchnorm():
    seq = nn.Sequential(nn.Dense(3, 4, rng=0), nn.BatchNorm(4), nn.ReLU(), nn.Dense(4, 2, rng=1))
    assert seq[0].b is None and seq[3].b is not None
    assert "layers.0.b" not in seq.state_dict()
    assert seq[0].to_config()["bias"] is False
