import numpy as np
import pytest

import honed.nn as nn
from honed.autograd import Tensor, sigmoid, softmax


def test_notes_softmax_example():
    probs = nn.Softmax()(Tensor(np.array([[5.0, 2.0, -1.0, 3.0]]))).data[0]
    np.testing.assert_array_equal(np.round(probs, 3), [0.842, 0.042, 0.002, 0.114])


def test_two_class_softmax_is_logistic_regression():
    z = np.linspace(-6, 6, 13)
    logits = np.stack([z, np.zeros_like(z)], axis=1)
    np.testing.assert_allclose(
        softmax(Tensor(logits)).data[:, 0], sigmoid(Tensor(z)).data, rtol=1e-12
    )

    # Same data, same model z = x·w + b: softmax CE with logits [z, 0] and label 0 ↔ y = 1
    # equals the binary cross-entropy, and so do the gradients with respect to w and b.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 3))
    y = rng.integers(0, 2, 10)
    w0, b0 = rng.standard_normal(3), 0.3
    w1, b1 = Tensor(w0.copy(), requires_grad=True), Tensor(b0, dtype=np.float64, requires_grad=True)
    w2, b2 = Tensor(w0.copy(), requires_grad=True), Tensor(b0, dtype=np.float64, requires_grad=True)
    z1 = x @ w1 + b1
    J_logistic = nn.binary_cross_entropy_with_logits(z1, y)
    z2 = (x @ w2 + b2).reshape(10, 1)
    logits2 = Tensor.__add__(z2 * np.array([[1.0, 0.0]]), np.zeros((10, 2)))
    J_softmax = nn.softmax_cross_entropy(logits2, 1 - y)  # class 0 is "y = 1"
    np.testing.assert_allclose(J_softmax.item(), J_logistic.item(), rtol=1e-12)
    J_logistic.backward(), J_softmax.backward()
    np.testing.assert_allclose(w1.grad, w2.grad, rtol=1e-10)
    np.testing.assert_allclose(b1.grad, b2.grad, rtol=1e-10)


def test_binary_cross_entropy_matches_logit_form_and_clips():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((8, 1))
    y = rng.integers(0, 2, (8, 1)).astype(float)
    p = 1 / (1 + np.exp(-z))
    a = nn.binary_cross_entropy(p, y).item()
    b = nn.binary_cross_entropy_with_logits(z, y).item()
    np.testing.assert_allclose(a, b, rtol=1e-6)
    assert np.isfinite(nn.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0])).item())


def test_mean_squared_error_is_notes_form():
    pred = np.array([[1.0, 2.0], [0.0, 0.0], [3.0, 1.0]])
    target = np.zeros((3, 2))
    expected = (5 + 0 + 10) / (2 * 3)
    assert nn.mean_squared_error(pred, target).item() == pytest.approx(expected)


def test_softmax_cross_entropy_int_and_one_hot_agree():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((5, 3))
    y = rng.integers(0, 3, 5)
    a = nn.softmax_cross_entropy(logits, y).item()
    b = nn.softmax_cross_entropy(logits, np.eye(3)[y]).item()
    assert a == pytest.approx(b)


def test_get_loss_and_metrics():
    z, y = np.array([[0.5, -1.0], [2.0, 0.1]]), np.array([1, 0])
    assert nn.get_loss("cross_entropy")(z, y).item() == nn.softmax_cross_entropy(z, y).item()
    assert nn.get_loss("mse")(z, z * 0).item() == nn.mean_squared_error(z, z * 0).item()
    with pytest.raises(ValueError, match="unknown loss 'hinge'; known:"):
        nn.get_loss("hinge")
    scores = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.5], [0.2, 0.1]])
    labels = np.array([0, 1, 1, 0])
    assert nn.accuracy(scores, labels) == 0.75
    assert nn.error_rate(Tensor(scores), np.eye(2)[labels]) == pytest.approx(0.25)
    # one column: logits threshold 0, probabilities 0.5
    assert nn.accuracy(np.array([[-1.0], [2.0]]), np.array([0, 1])) == 1.0
    assert nn.accuracy(np.array([0.3, 0.7]), np.array([0, 1]), threshold=0.5) == 1.0
