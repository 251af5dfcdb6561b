"""Fused ops: gradient check, and agreement with their composition from primitives."""

import numpy as np
import pytest

import honed.autograd as ag
from honed.autograd import Parameter, Tensor

from .helpers import check_op, random_inputs


def composed_softmax_ce(logits, labels):
    m = logits.shape[0]
    return -(ag.log_softmax(logits, axis=1)[np.arange(m), labels]).sum() / m


def composed_batch_norm(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    return (x - mu) / ag.sqrt(var + eps) * gamma + beta


def test_softmax_cross_entropy_gradient_and_composition():
    labels = np.array([0, 2, 1, 2, 3])
    check_op(lambda z: ag.softmax_cross_entropy(z, labels), (5, 4))
    z1, z2 = random_inputs([(5, 4)]) * 2
    z2 = Parameter(z1.data.copy())
    ag.softmax_cross_entropy(z1, labels).backward()
    composed_softmax_ce(z2, labels).backward()
    np.testing.assert_allclose(z1.grad, z2.grad, rtol=1e-12, atol=1e-15)


def test_softmax_cross_entropy_backward_is_yhat_minus_y_over_m():
    z = Parameter(np.random.default_rng(0).normal(size=(4, 3)), dtype=np.float64)
    y = np.array([2, 0, 1, 1])
    ag.softmax_cross_entropy(z, y).backward()
    expected = (ag.softmax(Tensor(z.data), axis=1).data - np.eye(3)[y]) / 4
    np.testing.assert_allclose(z.grad, expected, rtol=1e-12)


def test_softmax_cross_entropy_one_hot_equals_integer_labels():
    z = np.random.default_rng(1).normal(size=(6, 3))
    y = np.array([0, 1, 2, 2, 1, 0])
    a = ag.softmax_cross_entropy(Tensor(z), y).item()
    b = ag.softmax_cross_entropy(Tensor(z), np.eye(3)[y]).item()
    assert a == pytest.approx(b, rel=1e-12)
    check_op(lambda t: ag.softmax_cross_entropy(t, np.eye(3)[y]), (6, 3))


def test_softmax_is_stable_for_huge_logits():
    z = Tensor(np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]]))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        p = ag.softmax(z, axis=1).data
        lp = ag.log_softmax(z, axis=1).data
        loss = ag.softmax_cross_entropy(z, np.array([1, 0])).item()
    np.testing.assert_allclose(p[0], [1, 0, 0])
    np.testing.assert_allclose(p[1], [1 / 3] * 3)
    assert lp[0, 1] == pytest.approx(-2000.0)
    assert loss == pytest.approx((2000 + np.log(3)) / 2)


def test_softmax_example_of_the_notes():
    p = ag.softmax(Tensor([5.0, 2.0, -1.0, 3.0])).data
    np.testing.assert_allclose(np.round(p, 3), [0.842, 0.042, 0.002, 0.114])


def test_softmax_cross_entropy_rejects_bad_labels():
    z = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\), got 3"):
        ag.softmax_cross_entropy(z, np.array([0, 3]))
    with pytest.raises(ValueError, match="labels has 3 entries"):
        ag.softmax_cross_entropy(z, np.array([0, 1, 2]))


def test_sigmoid_cross_entropy_gradient_composition_and_stability():
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    check_op(lambda z: ag.sigmoid_cross_entropy(z, y), (4, 1))
    z = np.random.default_rng(2).normal(size=(4, 1))
    s = ag.sigmoid(Tensor(z))
    composed = -(y * ag.log(s) + (1 - y) * ag.log(1 - s)).sum() / 4
    assert ag.sigmoid_cross_entropy(Tensor(z), y).item() == pytest.approx(
        composed.item(), rel=1e-12
    )
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        big = ag.sigmoid_cross_entropy(
            Tensor([[1000.0], [-1000.0]]), np.array([[0.0], [1.0]])
        ).item()
    assert big == pytest.approx(1000.0)


def test_batch_norm_gradient_and_composition():
    check_op(lambda x, g, b: ag.batch_norm(x, g, b), (6, 3), (3,), (3,))
    x, g, b = random_inputs([(6, 3), (3,), (3,)], seed=3)
    fused = ag.batch_norm(x, g, b)
    weights = np.random.default_rng(0).normal(size=(6, 3))
    (fused * weights).sum().backward()
    grads = [t.grad.copy() for t in (x, g, b)]
    for t in (x, g, b):
        t.grad = None
    composed = composed_batch_norm(x, g, b)
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12, atol=1e-12)
    (composed * weights).sum().backward()
    for got, want in zip(grads, (x.grad, g.grad, b.grad)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_batch_norm_statistics_and_batch_of_one():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(50, 2))
    _, mu, var = ag.batch_norm(Tensor(x), np.ones(2), np.zeros(2), return_stats=True)
    np.testing.assert_allclose(mu, x.mean(axis=0))
    np.testing.assert_allclose(var, x.var(axis=0))  # 1/m, as in the notes
    with pytest.raises(ValueError, match="at least 2 examples"):
        ag.batch_norm(Tensor(np.ones((1, 2))), np.ones(2), np.zeros(2))


def test_linear_gradient_and_mismatch():
    check_op(lambda x, W, b: ag.linear(x, W, b), (5, 3), (3, 4), (4,))
    check_op(lambda x, W: ag.linear(x, W), (5, 3), (3, 4))
    with pytest.raises(ValueError, match=r"\(5, 3\) @ weight \(4, 2\)"):
        ag.linear(Tensor(np.ones((5, 3))), Tensor(np.ones((4, 2))))


def test_inverted_dropout_scales_and_validates():
    rng = np.random.default_rng(0)
    x = Tensor(np.ones((2000, 50), dtype=np.float32))
    out = ag.dropout(x, 0.8, rng).data
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.8)}
    assert out.mean() == pytest.approx(1.0, abs=0.01)
    assert ag.dropout(x, 1.0, rng) is x
    with pytest.raises(ValueError, match=r"keep_prob must be in \(0, 1\], got 0"):
        ag.dropout(x, 0, rng)


def test_dropout_op_gradient_and_its_composition():
    # The same mask at every evaluation: a fresh generator with one seed each time.
    check_op(lambda x: ag.dropout(x, 0.7, np.random.default_rng(3)), (6, 5))
    # Bit for bit the composition it replaced: x · (d / keep_prob) with d drawn from rng.
    for dtype in (np.float32, np.float64):
        x = Parameter(np.random.default_rng(1).normal(size=(40, 7)).astype(dtype))
        fused = ag.dropout(x, 0.6, np.random.default_rng(5))
        mask = np.random.default_rng(5).random(x.shape, dtype=np.float32) < 0.6
        composed = x * Tensor(mask.astype(dtype) * np.asarray(1 / 0.6, dtype))
        assert np.array_equal(fused.data, composed.data) and fused.dtype == dtype
        g = np.random.default_rng(2).normal(size=x.shape).astype(dtype)
        fused.backward(g)
        first, x.grad = x.grad, None
        composed.backward(g)
        assert np.array_equal(first, x.grad)
