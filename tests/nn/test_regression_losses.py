"""Regression losses (mse, mae, huber): float64 gradient checks, PyTorch's values and
gradients, the registry, and the RMSE / MAE / R² metrics against scikit-learn."""

import numpy as np
import pytest

import honed.nn as nn
from honed.autograd import Parameter, gradcheck


def _pred_target(shape=(12, 3), seed=0):
    rng = np.random.default_rng(seed)
    target = rng.normal(size=shape)
    # residuals kept ≥ 0.1 away from the kinks of |r| (0) and of Huber (±δ = ±1)
    r = rng.uniform(0.15, 2.5, size=shape) * rng.choice([-1, 1], size=shape)
    r[np.abs(np.abs(r) - 1.0) < 0.1] += 0.3
    return Parameter(target + r, dtype=np.float64, name="pred"), target


@pytest.mark.parametrize(
    "loss",
    [nn.mean_squared_error, nn.mean_absolute_error, nn.huber, lambda p, y: nn.huber(p, y, 0.5)],
    ids=["mse", "mae", "huber", "huber-0.5"],
)
def test_regression_losses_pass_a_float64_gradient_check(loss):
    pred, target = _pred_target()
    result = gradcheck(lambda: loss(pred, target), [pred])
    assert result.error < 1e-7, result


@pytest.mark.parametrize("name", ["mse", "mae", "huber"])
def test_regression_losses_are_registered_and_built_by_name(name):
    loss = nn.build_loss(name)
    assert loss.task == "regression" and loss.metric == "rmse"
    assert name in nn.LOSSES


def test_huber_delta_is_a_parameter_and_bad_values_are_refused():
    assert nn.build_loss("huber", {"delta": 2.5}).delta == 2.5
    assert nn.build_loss("huber", {"delta": 2.5}).to_config() == {"name": "huber", "delta": 2.5}
    with pytest.raises(ValueError, match="delta must be > 0, got -1"):
        nn.build_loss("huber", {"delta": -1})
    with pytest.raises(ValueError, match="takes delta only, got beta"):
        nn.build_loss("huber", {"beta": 1})
    with pytest.raises(ValueError, match="takes no arguments, got delta"):
        nn.build_loss("mse", {"delta": 1})


def test_huber_is_half_squared_within_delta_and_linear_beyond():
    # r = 0.5 (inside δ = 1): ½·0.25; r = −3 (beyond): 1·(3 − ½) = 2.5; mean over 2 rows
    value = nn.huber(np.array([[0.5], [-3.0]]), np.zeros((2, 1)), delta=1.0).item()
    assert value == pytest.approx((0.125 + 2.5) / 2)


torch = pytest.importorskip("torch")
F = torch.nn.functional


@pytest.mark.parametrize(
    "ours, theirs, factor",
    [
        # ours = factor × PyTorch's, with one target column (d = 1): the docstrings say why
        (nn.mean_squared_error, lambda p, y: F.mse_loss(p, y), 0.5),
        (nn.mean_absolute_error, lambda p, y: F.l1_loss(p, y), 1.0),
        (nn.huber, lambda p, y: F.huber_loss(p, y, delta=1.0), 1.0),
        (lambda p, y: nn.huber(p, y, 0.3), lambda p, y: F.huber_loss(p, y, delta=0.3), 1.0),
    ],
    ids=["mse", "mae", "huber", "huber-0.3"],
)
def test_regression_losses_match_pytorch_value_and_gradient(ours, theirs, factor):
    pred, target = _pred_target(shape=(20, 1), seed=3)
    J = ours(pred, target)
    J.backward()
    t_pred = torch.tensor(pred.data, requires_grad=True)
    t_J = theirs(t_pred, torch.tensor(target))
    t_J.backward()
    assert J.item() == pytest.approx(factor * t_J.item(), rel=1e-12)
    np.testing.assert_allclose(pred.grad, factor * t_pred.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_regression_metrics_match_scikit_learn_in_the_targets_units():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(1)
    y = rng.normal(size=(50, 2)) * [3.0, 10.0] + [1.0, -5.0]
    p = y + rng.normal(size=y.shape) * [1.0, 4.0]
    mean, sigma = y.mean(0), y.std(0)
    got = nn.regression_metrics((p - mean) / sigma, (y - mean) / sigma, scale=sigma)
    assert got["rmse"] == pytest.approx(np.sqrt(metrics.mean_squared_error(y, p)))
    assert got["mae"] == pytest.approx(metrics.mean_absolute_error(y, p))
    assert got["r2"] == pytest.approx(metrics.r2_score(y, p))
