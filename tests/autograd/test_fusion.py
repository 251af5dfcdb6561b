"""Capture-time fusion: a linear op feeding only an activation replays as one op, bit for bit
equal to the eager step; a pre-activation read twice is left alone."""

import numpy as np
import pytest

import honed.autograd as ag
from honed.autograd import Parameter, Tensor
from honed.autograd.capture import Tape, build_program
from honed.autograd.functional import ELU, LeakyReLU, Linear, MemberLinear, ReLU, Sigmoid, Tanh
from honed.autograd.fusion import LinearActivation

from .helpers import check_op

ACTIVATIONS = {
    "relu": (ag.relu, ReLU, {}),
    "leaky_relu": (lambda z: ag.leaky_relu(z, 0.2), LeakyReLU, {"slope": 0.2}),
    "tanh": (ag.tanh, Tanh, {}),
    "sigmoid": (ag.sigmoid, Sigmoid, {}),
    "elu": (lambda z: ag.elu(z, 0.7), ELU, {"alpha": 0.7}),
}


def _params(dtype, members: int | None):
    rng = np.random.default_rng(0)
    lead = () if members is None else (members,)
    bias = (6,) if members is None else (members, 1, 6)
    return [
        Parameter(rng.normal(size=lead + (4, 6)).astype(dtype)),
        Parameter(rng.normal(size=bias).astype(dtype)),
        Parameter(rng.normal(size=lead + (6, 1)).astype(dtype)),
    ]


def _cost(out, y):
    return ag.sigmoid_cross_entropy(out, y).sum()


def _record(forward, params, X, y, fuse=True, cost=_cost):
    with Tape() as tape:
        x = Tensor(X)
        out = forward(x, params)
        tape.mark_loss()
        J = cost(out, y)
    return build_program(tape, x, y, params, out, J, fuse=fuse)


def _eager(forward, params, X, y, cost=_cost):
    out = forward(Tensor(X), params)
    J = cost(out, y)
    J.backward()
    grads = [p.grad for p in params]
    for p in params:
        p.grad = None
    return out.data, J.data, grads


def _replay(program, params, X, y):
    replay = program.forward(X, y)
    outputs, cost = replay.outputs, replay.cost
    replay.backward()
    grads = [p.grad for p in params]
    for p in params:
        p.grad = None
    return outputs, cost, grads


@pytest.mark.parametrize("members", [None, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_a_fused_replay_equals_the_eager_step_bit_for_bit(name, dtype, members):
    act, cls, options = ACTIVATIONS[name]

    def forward(x, params):
        W, b, V = params
        return ag.linear(act(ag.linear(x, W, b)), V)

    params = _params(dtype, members)
    rng = np.random.default_rng(1)
    X0, y0 = rng.normal(size=(5, 4)).astype(dtype), rng.integers(0, 2, 5)
    program = _record(forward, params, X0, y0)
    fused = program.ops[0]
    assert [op.cls for op in program.ops][:2] == [
        LinearActivation,
        Linear if not members else MemberLinear,
    ]
    assert fused.kwargs == {
        "linear": Linear if members is None else MemberLinear,
        "activation": cls,
        **options,
    }
    assert len(_record(forward, params, X0, y0, fuse=False).ops) == len(program.ops) + 1
    for _ in range(3):
        X, y = rng.normal(size=(5, 4)).astype(dtype), rng.integers(0, 2, 5)
        outputs, cost, grads = _eager(forward, params, X, y)
        r_outputs, r_cost, r_grads = _replay(program, params, X, y)
        assert np.array_equal(r_outputs, outputs) and np.array_equal(r_cost, cost)
        for a, b in zip(r_grads, grads):
            assert a.dtype == dtype and np.array_equal(a, b)


def test_a_pre_activation_read_twice_or_returned_is_not_fused():
    params = _params(np.float64, None)
    X, y = np.random.default_rng(2).normal(size=(5, 4)), np.array([0, 1, 1, 0, 1])

    def used_twice(x, params):
        W, b, V = params
        z = ag.linear(x, W, b)
        return ag.linear(ag.relu(z) + z, V)

    def as_outputs(x, params):  # the model's outputs z, the cost's first op tanh(z)
        W, b, V = params
        return ag.linear(x, W, b)

    def tanh_cost(out, y):
        return ag.tanh(out).sum()

    for forward, cost in ((used_twice, _cost), (as_outputs, tanh_cost)):
        program = _record(forward, params, X, y, cost=cost)
        assert LinearActivation not in [op.cls for op in program.ops]
        outputs, cost, grads = _eager(forward, params, X, y, cost=cost)
        r_outputs, r_cost, r_grads = _replay(program, params, X, y)
        assert np.array_equal(r_outputs, outputs) and np.array_equal(r_cost, cost)
        assert all(np.array_equal(a, b) for a, b in zip(r_grads, grads))


def test_an_activation_that_is_the_outputs_is_fused_and_the_outputs_found():
    params = _params(np.float64, 2)
    X, y = np.random.default_rng(3).normal(size=(5, 4)), np.array([0, 1, 1, 0, 1])

    def forward(x, params):
        W, b, V = params
        return ag.sigmoid(ag.linear(ag.tanh(ag.linear(x, W, b)), V))

    program = _record(forward, params, X, y)
    assert [op.cls for op in program.ops][:2] == [LinearActivation, LinearActivation]
    assert program.outputs_index == 1
    outputs, cost, grads = _eager(forward, params, X, y)
    r_outputs, r_cost, r_grads = _replay(program, params, X, y)
    assert np.array_equal(r_outputs, outputs) and np.array_equal(r_cost, cost)
    assert all(np.array_equal(a, b) for a, b in zip(r_grads, grads))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_the_fused_op_passes_the_gradient_check(name):
    _, cls, options = ACTIVATIONS[name]
    check_op(
        lambda x, W, b: LinearActivation.apply(x, W, b, linear=Linear, activation=cls, **options),
        (5, 4),
        (4, 3),
        (3,),
        away_from=0.0,
    )
    check_op(
        lambda x, W, b: LinearActivation.apply(
            x, W, b, linear=MemberLinear, activation=cls, **options
        ),
        (2, 5, 4),
        (2, 4, 3),
        (2, 1, 3),
        away_from=0.0,
    )
