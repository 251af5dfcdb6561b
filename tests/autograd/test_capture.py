"""Tape and Program: a recorded computation replays bit for bit on new inputs and targets."""

import numpy as np
import pytest

import honed.autograd as ag
from honed.autograd import Parameter, Tensor
from honed.autograd.capture import NotReplayable, Tape, build_program


def _params(dtype):
    rng = np.random.default_rng(0)
    return [
        Parameter(rng.normal(size=(4, 6)).astype(dtype)),
        Parameter(rng.normal(size=(6,)).astype(dtype)),
        Parameter(rng.normal(size=(6, 3)).astype(dtype)),
    ]


def _forward(x, params):
    """Primitives used every which way: broadcasting, a tensor used twice, indexing,
    concatenation, reductions, where, max, pow, clip, division."""
    W, b, V = params
    h = ag.tanh(x @ W + b)
    h = ag.concatenate([h[:, :3] * h[:, 3:], ag.maximum(h[:, :3], 0.1)], axis=1)
    z = ag.where(np.arange(6) % 2 == 0, h, ag.exp(h) / 3.0) @ V
    z = z + ag.clip(z, -0.5, 0.5) ** 2 - ag.max(z, axis=1, keepdims=True) * 0.1
    return ag.elu(z) + ag.leaky_relu(z, 0.2) + ag.sigmoid(z).mean(axis=0) + ag.sqrt(z * z + 1)


def _loss(out, y):
    return ag.softmax_cross_entropy(out, y) + ag.sum_of_squares(out) / 100


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_replay_equals_eager_on_new_batches(dtype):
    params = _params(dtype)
    rng = np.random.default_rng(1)
    X0, y0 = rng.normal(size=(5, 4)).astype(dtype), rng.integers(0, 3, 5)
    with Tape() as tape:
        x = Tensor(X0)
        out = _forward(x, params)
        tape.mark_loss()
        J = _loss(out, y0)
    program = build_program(tape, x, y0, params, out, J)
    for _ in range(3):
        X, y = rng.normal(size=(5, 4)).astype(dtype), rng.integers(0, 3, 5)
        out = _forward(Tensor(X), params)
        J = _loss(out, y)
        J.backward()
        eager = [p.grad for p in params]
        for p in params:
            p.grad = None
        replay = program.forward(X, y)
        assert np.array_equal(replay.outputs, out.data)
        assert np.array_equal(replay.cost, J.data)
        replay.backward()
        for p, g in zip(params, eager):
            assert p.grad.dtype == dtype and np.array_equal(p.grad, g)
            p.grad = None


def test_what_cannot_be_replayed_is_refused():
    params = _params(np.float64)
    X, y = np.ones((5, 4)), np.zeros(5, dtype=np.int64)
    stranger = Parameter(np.ones(3))  # requires a gradient, not one of the params
    with Tape() as tape:
        x = Tensor(X)
        out = _forward(x, params) + stranger
        tape.mark_loss()
        J = _loss(out, y)
    with pytest.raises(NotReplayable, match="neither a parameter"):
        build_program(tape, x, y, params, out, J)
    with Tape() as tape:
        x = Tensor(X)
        out = _forward(x, params)
        if (out[:, 0] > 0).any():  # Python branching on values
            out = out * 2.0
        tape.mark_loss()
        J = _loss(out, y)
    with pytest.raises(NotReplayable, match="read a tensor's values"):
        build_program(tape, x, y, params, out, J)
    with Tape(), pytest.raises(RuntimeError, match="already being captured"):
        Tape().__enter__()


def test_record_step_is_the_recording_of_a_models_step():
    """``record_step(model, loss, X, y)``: the same Program a Tape around the step gives, so
    its replay on a new batch equals that batch's eager step."""
    from honed.autograd.capture import record_step
    from honed.nn import mlp, softmax_cross_entropy

    model = mlp([4, 6, 3], seed=0).to(np.float64)
    rng = np.random.default_rng(2)
    X0, y0 = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    program = record_step(model, softmax_cross_entropy, X0, y0)
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, 8)
    J = softmax_cross_entropy(model(Tensor(X)), y)
    J.backward()
    eager = [p.grad for p in model.parameters()]
    model.zero_grad()
    replay = program.forward(X, y)
    assert np.array_equal(replay.cost, J.data)
    replay.backward()
    for p, g in zip(model.parameters(), eager):
        assert np.array_equal(p.grad, g)
