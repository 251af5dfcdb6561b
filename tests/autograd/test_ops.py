"""Every primitive op: float64 gradient check, broadcasting, and hypothesis-generated shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import honed.autograd as ag
from honed.autograd import Parameter, Tensor

from .helpers import check_op

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "maximum": ag.maximum,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (2, 3))],
)
def test_binary_ops_gradients_with_broadcasting(name, shape_a, shape_b):
    check_op(BINARY[name], shape_a, shape_b)


UNARY = {
    "neg": (lambda a: -a, {}),
    "exp": (ag.exp, {}),
    "log": (lambda a: ag.log(a), {"low": 0.5, "high": 3.0}),
    "abs": (ag.abs, {"away_from": 0.0}),
    "sqrt": (ag.sqrt, {"low": 0.5, "high": 3.0}),
    "pow_const": (lambda a: a**3, {}),
    "pow_frac": (lambda a: a**1.5, {"low": 0.5, "high": 3.0}),
    "clip": (lambda a: ag.clip(a, -1.0, 1.0), {"away_from": 1.0}),
    "sigmoid": (ag.sigmoid, {}),
    "tanh": (ag.tanh, {}),
    "relu": (ag.relu, {"away_from": 0.0}),
    "leaky_relu": (lambda a: ag.leaky_relu(a, 0.1), {"away_from": 0.0}),
    "elu": (lambda a: ag.elu(a, 0.7), {"away_from": 0.0}),
    "softmax": (lambda a: ag.softmax(a, axis=-1), {}),
    "softmax_axis0": (lambda a: ag.softmax(a, axis=0), {}),
    "log_softmax": (lambda a: ag.log_softmax(a, axis=-1), {}),
    "sum_all": (lambda a: a.sum(), {}),
    "sum_axis": (lambda a: a.sum(axis=1), {}),
    "sum_keepdims": (lambda a: a.sum(axis=0, keepdims=True), {}),
    "mean_axis": (lambda a: a.mean(axis=(0, 1)), {}),
    "mean_all": (lambda a: a.mean(), {}),
    "max_axis": (lambda a: a.max(axis=1), {}),
    "max_all": (lambda a: a.max(), {}),
    "reshape": (lambda a: a.reshape(-1, 2), {}),
    "transpose": (lambda a: a.T, {}),
    "transpose_axes": (lambda a: a.transpose((1, 0, 2)), {}),
    "slice": (lambda a: a[1:, ::2], {}),
    "int_index": (lambda a: a[0], {}),
    "fancy_index_repeats": (lambda a: a[np.array([0, 0, 1, 2])], {}),
    "maxout": (lambda a: ag.maxout(a, 2), {}),
    "where": (lambda a: ag.where(a.data > 0, a * 2, a * a), {"away_from": 0.0}),
    "cast_roundtrip": (lambda a: ag.cast(a, np.float64) * 2, {}),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_gradients(name):
    op, kwargs = UNARY[name]
    shape = (3, 4, 2) if name == "transpose_axes" else (3, 4)
    check_op(op, shape, **kwargs)


def test_pow_gradient_with_tensor_exponent():
    check_op(lambda a, b: a**b, (3,), (3,), low=0.5, high=2.0)


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [((3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 2))],
)
def test_matmul_gradients(shape_a, shape_b):
    check_op(lambda a, b: a @ b, shape_a, shape_b)


def test_concatenate_gradients():
    check_op(lambda a, b, c: ag.concatenate([a, b, c], axis=1), (2, 3), (2, 1), (2, 2))


def test_max_routes_gradient_to_argmax_and_splits_ties():
    x = Parameter(np.array([[1.0, 3.0, 3.0], [5.0, 0.0, 2.0]]), dtype=np.float64)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [1, 0, 0]])


def test_maximum_splits_ties_evenly():
    a = Parameter(np.array([1.0, 2.0, 3.0]), dtype=np.float64)
    b = Parameter(np.array([1.0, 5.0, 0.0]), dtype=np.float64)
    ag.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0, 1])
    np.testing.assert_array_equal(b.grad, [0.5, 1, 0])


def test_local_rules_add_distributes_mul_switches():
    x, y = Parameter(3.0, dtype=np.float64), Parameter(-4.0, dtype=np.float64)
    (x * y).backward()
    assert (x.grad, y.grad) == (-4.0, 3.0)
    x.grad = y.grad = None
    (x + y).backward()
    assert (x.grad, y.grad) == (1.0, 1.0)


def test_sigmoid_derivative_is_at_most_a_quarter():
    z = Parameter(np.linspace(-10, 10, 2001), dtype=np.float64)
    ag.sigmoid(z).sum().backward()
    assert z.grad.max() == pytest.approx(0.25)
    assert np.all(z.grad <= 0.25)


shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@settings(max_examples=25, deadline=None)
@given(shape=shapes, data=st.data())
def test_broadcast_binary_ops_on_generated_shapes(shape, data):
    # A second shape that broadcasts against the first: some axes set to 1, some dropped.
    other = list(shape)
    for i in range(len(other)):
        if data.draw(st.booleans()):
            other[i] = 1
    drop = data.draw(st.integers(0, len(other) - 1))
    other = tuple(other[drop:])
    name = data.draw(st.sampled_from(sorted(BINARY)))
    check_op(BINARY[name], shape, other, seed=len(shape))


@settings(max_examples=20, deadline=None)
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data())
def test_reductions_on_generated_shapes(shape, data):
    axis = data.draw(st.integers(0, len(shape) - 1))
    keepdims = data.draw(st.booleans())
    check_op(lambda a: a.sum(axis=axis, keepdims=keepdims) * 1.5, shape)
    check_op(lambda a: a.mean(axis=axis, keepdims=keepdims), shape)
    check_op(lambda a: ag.softmax(a, axis=axis), shape)


def test_float32_by_default_and_float64_on_request():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(1.0).dtype == np.float32
    assert Tensor(np.arange(3)).dtype == np.float32
    assert Tensor([1.0], dtype=np.float64).dtype == np.float64
    assert Tensor(np.ones(2)).dtype == np.float64  # a float64 array keeps its dtype
    t = Tensor([1.0, 2.0])
    assert (t * 2).dtype == np.float32 and (2.5 - t).dtype == np.float32


def test_mixed_precision_promotes_and_gradients_keep_each_dtype():
    a = Parameter([1.0, 2.0])  # float32
    b = Parameter([3.0, 4.0], dtype=np.float64)
    out = a * b
    assert out.dtype == np.float64
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad, [3.0, 4.0])


def test_ndarray_and_scalar_operands_on_both_sides():
    x = Parameter([1.0, 2.0], dtype=np.float64)
    y = np.array([3.0, 4.0]) * x + 1 - x / 2.0
    y = 10 / (y + 0.0) + 2**x
    y.sum().backward()
    c = np.array([3.0, 4.0]) - 0.5  # dy/dx of the inner expression
    expected = -10 / (c * x.data + 1) ** 2 * c + np.log(2) * 2**x.data
    np.testing.assert_allclose(x.grad, expected)


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\)"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_log_of_negative_is_nan_with_numpy_warning():
    with pytest.warns(RuntimeWarning):
        out = ag.log(Tensor([-1.0]))
    assert np.isnan(out.data[0])


def test_clip_rejects_inverted_bounds():
    with pytest.raises(ValueError, match="low <= high"):
        ag.clip(Tensor([1.0]), 2.0, 1.0)
