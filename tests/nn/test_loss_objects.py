"""Losses as objects: cost from outputs, output activation for predict, and error metric."""

import math

import numpy as np
import pytest

from honed import nn
from honed.autograd import Tensor
from honed.nn.losses import LOSSES, Loss, get_loss


def error(name, outputs, targets):
    return get_loss(name).error(np.asarray(outputs), np.asarray(targets))


def test_softmax_error_is_the_fraction_of_wrong_argmax():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [1.0, 0.0, 0.0]])
    labels = np.array([0, 2, 2, 1])
    assert error("softmax_cross_entropy", logits, labels) == 0.5
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((129, 10)), rng.integers(0, 10, 129)
    assert error("softmax_cross_entropy", logits, labels) == float(
        np.mean(logits.argmax(1) != labels)
    )


def test_sigmoid_error_thresholds_logits_at_zero_and_bce_probabilities_at_half():
    outputs, labels = [[0.3], [-2.0], [1.0]], [1, 0, 0]
    # logits: predictions 1, 0, 1 -> one wrong; probabilities: 0, 0, 1 -> two wrong
    assert error("sigmoid_cross_entropy", outputs, labels) == pytest.approx(1 / 3)
    assert error("binary_cross_entropy", outputs, labels) == pytest.approx(2 / 3)
    assert error("mse", [1.0, 3.0], [1.0, 1.0]) == pytest.approx(np.sqrt(2.0))  # RMSE


def test_no_examples_gives_nan_not_a_division_error():
    assert math.isnan(error("softmax_cross_entropy", np.empty((0, 3)), np.empty(0, dtype=np.int64)))


def test_binary_cross_entropy_takes_probabilities_everywhere():
    z = np.array([[-1.5], [0.2], [2.0]])
    y = np.array([0.0, 1.0, 1.0])
    p = 1 / (1 + np.exp(-z))
    on_logits = get_loss("sigmoid_cross_entropy")(Tensor(z), y).item()
    on_probs = get_loss("binary_cross_entropy")(Tensor(p), y).item()
    assert on_logits == pytest.approx(on_probs, rel=1e-6)
    assert nn.get_loss("binary_cross_entropy")(Tensor(p), y).item() == pytest.approx(on_probs)


def test_names_aliases_outputs_and_config_round_trip():
    assert get_loss("bce_with_logits") == get_loss("sigmoid_cross_entropy")
    assert get_loss("cross_entropy").output == "softmax"
    assert get_loss("sigmoid_cross_entropy").output == "sigmoid"
    for name in LOSSES:
        loss = get_loss(name)
        assert type(Loss) is type(type(loss)) and LOSSES.get(loss.to_config()["name"]) is type(loss)
        assert type(loss).from_config(loss.to_config()) == loss
    with pytest.raises(ValueError, match="unknown loss 'hinge'; known: softmax_cross_entropy"):
        get_loss("hinge")
