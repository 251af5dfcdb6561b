"""Tensor behaviour: backward over the graph, accumulation, no_grad, errors."""

import numpy as np
import pytest

import honed.autograd as ag
from honed.autograd import Parameter, Tensor, no_grad


def test_quadratic_of_the_notes_reaches_five():
    w = Parameter(0.0)
    for _ in range(1000):
        w.grad = None
        (w**2 - 10 * w + 25).backward()
        w.data -= 0.01 * w.grad
    assert w.item() == pytest.approx(5.0, abs=1e-3)


def test_coefficients_fed_as_data():
    x = np.array([[1.0], [-20.0], [25.0]], dtype=np.float32)
    w = Parameter(0.0)
    for _ in range(1000):
        w.grad = None
        (x[0] * w**2 + x[1] * w + x[2]).sum().backward()
        w.data -= 0.01 * w.grad
    assert w.item() == pytest.approx(10.0, abs=1e-3)


def test_tensor_used_twice_gets_both_contributions():
    x = Parameter(3.0, dtype=np.float64)
    y = x * x + x
    y.backward()
    assert x.grad == 7.0
    y = x * 2  # backward again accumulates with +=
    y.backward()
    assert x.grad == 9.0


def test_intermediate_used_by_several_nodes_gets_all_contributions_first():
    # z = (2y)(3y) + y with y = x²: dz/dx = (12y + 1)·2x = 196 at x = 2. Backward must
    # hand y's gradient on only after all three uses (made in a mixed order) added theirs.
    x = Parameter(2.0, dtype=np.float64)
    y = x * x
    b = y * 3
    a = y * 2
    z = a * b + y
    z.backward()
    assert x.grad == 196.0


def test_shared_gradient_arrays_are_not_aliased_between_leaves():
    a, b = Parameter(np.ones(3)), Parameter(np.ones(3))
    (a + b).sum().backward()
    a.grad += 1  # must not change b.grad
    np.testing.assert_array_equal(b.grad, np.ones(3))


def test_long_chain_does_not_hit_recursion_limit():
    x = Parameter(1.0, dtype=np.float64)
    y = x
    for _ in range(100_000):
        y = y + 1e-6
    y.backward()
    assert x.grad == 1.0
    del y  # freeing a 100k-deep graph must not overflow the C stack either


def test_no_grad_records_nothing():
    x = Parameter([1.0, 2.0])
    with no_grad():
        y = x * 2
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_backward_on_non_scalar_needs_gradient():
    x = Parameter([1.0, 2.0])
    with pytest.raises(ValueError, match=r"non-scalar tensor of shape \(2,\)"):
        (x * 2).backward()
    (x * 2).backward(np.array([1.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 6.0])


def test_backward_gradient_shape_is_checked():
    with pytest.raises(ValueError, match="gradient has shape"):
        (Parameter([1.0, 2.0]) * 2).backward(np.ones(3))


def test_heaviside_is_forward_only():
    out = ag.heaviside(Tensor([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(out.data, [0, 0, 1])
    with pytest.raises(RuntimeError, match="no useful gradient"):
        ag.heaviside(Parameter([1.0]))
    with no_grad():
        assert ag.heaviside(Parameter([1.0])).data[0] == 1


def test_tensor_accessors():
    t = Tensor(np.arange(6.0).reshape(2, 3), name="t")
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert t.numpy() is t.data
    assert Tensor([4.0]).item() == 4.0
    with pytest.raises(ValueError, match="one element"):
        t.item()
    assert "name='t'" in repr(t)


def test_leaf_gradients_never_alias_each_other_or_the_callers_array():
    a, b = Parameter(np.ones(3)), Parameter(np.ones(3))
    (a + b).sum().backward()
    assert a.grad is not b.grad
    c = Parameter(np.ones((2, 3)))
    c.reshape(6).sum().backward()
    d = Parameter(np.ones(2))
    g = np.array([1.0, 2.0])
    (d * 1.0).backward(g)
    d.grad += 1
    np.testing.assert_array_equal(g, [1.0, 2.0])
    e = Parameter(np.ones(2))
    e.backward(np.array([3.0, 4.0]))  # a leaf as the root of backward
    np.testing.assert_array_equal(e.grad, [3.0, 4.0])


def test_sum_of_squares_gradient():
    from .helpers import check_op

    check_op(lambda a: ag.sum_of_squares(a), (4, 3))
