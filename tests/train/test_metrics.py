"""honed.train.metrics.error_rate: the per-batch error the Trainer reports."""

import math

import numpy as np

from honed.train.metrics import error_rate


def test_softmax_error_is_the_fraction_of_wrong_argmax():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [1.0, 0.0, 0.0]])
    labels = np.array([0, 2, 2, 1])
    assert error_rate(logits, labels, "softmax_cross_entropy") == 0.5
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((129, 10)), rng.integers(0, 10, 129)
    assert error_rate(logits, labels, "softmax_cross_entropy") == float(
        np.mean(logits.argmax(1) != labels)
    )


def test_binary_and_regression_errors():
    assert (
        error_rate(np.array([[0.3], [-2.0], [1.0]]), np.array([1, 0, 0]), "binary_cross_entropy")
        == 1 / 3
    )
    assert error_rate(np.array([1.0, 3.0]), np.array([1.0, 1.0]), "mse") == 2.0


def test_no_examples_gives_nan_not_a_division_error():
    assert math.isnan(
        error_rate(np.empty((0, 3)), np.empty(0, dtype=np.int64), "softmax_cross_entropy")
    )
