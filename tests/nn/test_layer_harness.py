"""One harness for every layer kind: shapes, train vs eval, state_dict round trip, gradcheck."""

import numpy as np
import pytest

import honed.nn as nn
from honed.autograd import Tensor, gradcheck, no_grad

N_IN = 4


def _layers():
    return {
        "dense": lambda: nn.Dense(N_IN, 3, rng=0),
        "dense_he_nobias": lambda: nn.Dense(N_IN, 3, init="he", bias=False, rng=1),
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(0.1),
        "elu": lambda: nn.ELU(0.7),
        "softmax": nn.Softmax,
        "maxout": lambda: nn.Maxout(N_IN, 3, pieces=3, rng=2),
        "batchnorm": lambda: nn.BatchNorm(N_IN),
        "dropout": lambda: nn.Dropout(0.5, rng=3),
        "flatten": nn.Flatten,
        "identity": nn.Identity,
        "sequential": lambda: nn.Sequential(
            nn.Dense(N_IN, 5, rng=4), nn.BatchNorm(5), nn.Tanh(), nn.Dense(5, 2, rng=5)
        ),
    }


LAYERS = _layers()
OUT_SHAPE = {"dense": 3, "dense_he_nobias": 3, "maxout": 3, "sequential": 2}


@pytest.fixture(params=sorted(LAYERS))
def kind(request):
    return request.param


def _x(dtype=np.float32, m=6, seed=0):
    return np.random.default_rng(seed).standard_normal((m, N_IN)).astype(dtype)


def test_shapes_and_dtype(kind):
    layer = LAYERS[kind]()
    out = layer(Tensor(_x()))
    assert out.shape == (6, OUT_SHAPE.get(kind, N_IN))
    assert out.dtype == np.float32


def test_train_vs_eval(kind):
    layer = LAYERS[kind]()
    assert layer.training
    x = Tensor(_x())
    layer.eval()
    assert all(not m.training for m in layer.modules())
    with no_grad():
        a = layer(x).data
        b = layer(x).data
    np.testing.assert_array_equal(a, b)  # eval is deterministic
    if kind == "dropout":
        np.testing.assert_array_equal(a, x.data)
    layer.train()
    assert all(m.training for m in layer.modules())
    if kind in ("dropout", "batchnorm", "sequential"):
        assert not np.allclose(layer(x).data, a)


def test_state_dict_round_trip(kind):
    layer = LAYERS[kind]()
    layer(Tensor(_x()))  # updates running statistics where there are any
    state = layer.state_dict()
    fresh = LAYERS[kind]()
    for p in fresh.parameters():
        p.data = p.data + 1.0
    fresh.load_state_dict(state)
    for key, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value, state[key])
    layer.eval(), fresh.eval()
    with no_grad():
        np.testing.assert_array_equal(
            layer(Tensor(_x(seed=1))).data, fresh(Tensor(_x(seed=1))).data
        )
    # state_dict holds copies
    for value in state.values():
        value += 1
    assert all(
        not np.shares_memory(v, s) for v, s in zip(layer.state_dict().values(), state.values())
    )


def test_gradcheck_float64(kind):
    layer = LAYERS[kind]().to(np.float64)
    if kind == "dropout":
        layer.eval()  # a random mask changes J between evaluations
    x = Tensor(_x(np.float64), requires_grad=True)
    weights = np.random.default_rng(9).standard_normal(OUT_SHAPE.get(kind, N_IN))

    def cost():
        return (layer(x) * weights).sum()

    params = dict(layer.named_parameters())
    params["x"] = x
    result = gradcheck(cost, params)
    assert result.verdict == "correct", str(result)


def test_to_float64_casts_params_and_buffers(kind):
    layer = LAYERS[kind]().astype(np.float64)
    for p in layer.parameters():
        assert p.data.dtype == np.float64
    for b in layer.buffers():
        assert b.dtype == np.float64
    assert layer(Tensor(_x(np.float64))).dtype == np.float64
