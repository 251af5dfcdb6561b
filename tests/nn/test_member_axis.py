"""The member axis (honed.nn.members): a stacked model's member k computes what standalone
model k computes — outputs, per-member costs and gradients, float64, to 1e-12."""

import numpy as np
import pytest

import honed.nn as nn
from honed.autograd import Tensor, gradcheck
from honed.nn import members

TOL = 1e-12


def _data(m=12, n_in=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n_in)), rng.integers(0, classes, m)


def _dense_maxout_dense(seed):
    return nn.Sequential(
        nn.Dense(4, 6, rng=seed),
        nn.Maxout(6, 5, pieces=3, rng=seed + 1),
        nn.Dense(5, 3, rng=seed + 2),
    ).to(np.float64)


def _standalone(model, X, y, loss):
    model.zero_grad()
    out = model(Tensor(X))
    J = loss(out, y)
    J.backward()
    return out.data, float(J.data), [p.grad for p in model.parameters()]


def _stacked(pop, X, y, loss):
    pop.zero_grad()
    out = pop(Tensor(X))
    J = loss(out, y)
    assert J.shape == (members.n_members(pop),)
    J.sum().backward()
    return out.data, J.data, [p.grad for p in pop.parameters()]


def assert_members_equal(template, models, X, y, loss, X_of=None, y_of=None):
    """Stack ``models`` on ``template``; member k's outputs, cost and gradients equal model
    k's. ``X``/``y`` are shared, or per member when ``X_of``/``y_of`` give member k's."""
    pop = members.stack(template, models)
    out, J, grads = _stacked(pop, X, y, loss)
    for k, model in enumerate(models):
        Xk = X if X_of is None else X_of(k)
        yk = y if y_of is None else y_of(k)
        out_k, J_k, grads_k = _standalone(model, Xk, yk, loss)
        np.testing.assert_allclose(out[k], out_k, rtol=0, atol=TOL)
        assert abs(J[k] - J_k) <= TOL
        assert len(grads) == len(grads_k)
        for g, g_k in zip(grads, grads_k):
            np.testing.assert_allclose(g[k].reshape(g_k.shape), g_k, rtol=0, atol=TOL)
    return pop


# -- Dense, Maxout, activations, losses --------------------------------------------------------
def test_dense_maxout_dense_equals_standalone_members_shared_input():
    X, y = _data()
    models = [_dense_maxout_dense(10 * k) for k in range(4)]
    pop = assert_members_equal(_dense_maxout_dense(99), models, X, y, nn.softmax_cross_entropy)
    assert pop.layers[0].W.shape == (4, 4, 6)
    assert pop.layers[0].b.shape == (4, 1, 6)
    assert all(members.n_members(m) == 4 for m in pop.modules())


def test_dense_maxout_dense_per_member_inputs_and_labels():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((3, 10, 4))
    y = rng.integers(0, 3, (3, 10))
    models = [_dense_maxout_dense(7 * k) for k in range(3)]
    assert_members_equal(
        models[0], models, X, y, nn.softmax_cross_entropy, X_of=lambda k: X[k], y_of=lambda k: y[k]
    )


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "elu"])
def test_every_activation_broadcasts_over_members(activation):
    X, y = _data(seed=1)
    models = [nn.mlp([4, 7, 5, 3], activation=activation, seed=k).to(np.float64) for k in range(3)]
    assert_members_equal(models[0], models, X, y, nn.softmax_cross_entropy)


def test_one_hot_labels_shared_and_per_member():
    X, y = _data(seed=2)
    models = [nn.mlp([4, 6, 3], seed=k).to(np.float64) for k in range(3)]
    one_hot = np.eye(3)[y]
    assert_members_equal(models[0], models, X, one_hot, nn.softmax_cross_entropy)
    per = np.stack([np.roll(one_hot, k, axis=0) for k in range(3)])
    assert_members_equal(models[0], models, X, per, nn.softmax_cross_entropy, y_of=lambda k: per[k])


def test_sigmoid_cross_entropy_members():
    X, _ = _data(seed=4)
    y = (X[:, 0] > 0).astype(np.int64)
    models = [nn.mlp([4, 5, 1], seed=k).to(np.float64) for k in range(3)]
    loss = nn.binary_cross_entropy_with_logits
    assert_members_equal(models[0], models, X, y, loss)
    per = np.stack([y, 1 - y, y])
    assert_members_equal(models[0], models, X, per, loss, y_of=lambda k: per[k])


@pytest.mark.parametrize(
    "loss",
    [nn.mean_squared_error, nn.mean_absolute_error, lambda p, t: nn.huber(p, t, delta=0.5)],
    ids=["mse", "mae", "huber"],
)
def test_regression_losses_members(loss):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((9, 4))
    y = rng.standard_normal((9, 2))
    models = [nn.mlp([4, 6, 2], output="linear", seed=k).to(np.float64) for k in range(3)]
    assert_members_equal(models[0], models, X, y, loss)
    per = rng.standard_normal((3, 9, 2))
    assert_members_equal(models[0], models, X, per, loss, y_of=lambda k: per[k])


def test_registered_loss_objects_take_the_member_axis():
    X, y = _data(seed=6)
    models = [nn.mlp([4, 5, 3], seed=k).to(np.float64) for k in range(2)]
    for name in nn.population_losses("classification")[:1]:
        assert_members_equal(models[0], models, X, y, nn.build_loss(name))
    rng = np.random.default_rng(6)
    t = rng.standard_normal((12, 1))
    reg = [nn.mlp([4, 5, 1], output="linear", seed=k).to(np.float64) for k in range(2)]
    for name in nn.population_losses("regression"):
        assert_members_equal(reg[0], reg, X, t, nn.build_loss(name))


class _Residual(nn.Module):
    """A user's own Module written with honed ops: h = tanh(x·W1 + b1); out = (h + x·S)·W2 + c."""

    def __init__(self, seed):
        super().__init__()
        rng = np.random.default_rng(seed)
        from honed.autograd import Parameter

        self.W1 = Parameter(rng.standard_normal((4, 5)))
        self.b1 = Parameter(rng.standard_normal(5))
        self.S = Parameter(rng.standard_normal((4, 5)))
        self.W2 = Parameter(rng.standard_normal((5, 3)))
        self.c = Parameter(rng.standard_normal(()))

    def forward(self, x):
        from honed.autograd import linear, matmul, tanh

        h = tanh(linear(x, self.W1, self.b1))
        return linear(h + matmul(x, self.S), self.W2) + self.c


def test_a_custom_module_written_with_honed_ops():
    X, y = _data(seed=7)
    models = [_Residual(k) for k in range(3)]
    pop = assert_members_equal(models[0], models, X, y, nn.softmax_cross_entropy)
    assert pop.c.shape == (3, 1, 1) and pop.b1.shape == (3, 1, 5)


# -- stack / unstack / take / copy_member ------------------------------------------------------
def test_unstack_round_trips():
    models = [nn.mlp([4, 6, 3], batch_norm=True, keep_prob=0.7, seed=k) for k in range(3)]
    pop = members.stack(models[0], models)
    for k, model in enumerate(models):
        fresh = nn.mlp([4, 6, 3], batch_norm=True, keep_prob=0.7, seed=50)
        members.unstack(pop, k, fresh)
        for (name, a), (_, b) in zip(model.state_dict().items(), fresh.state_dict().items()):
            np.testing.assert_array_equal(a, b, err_msg=name)
            assert a.dtype == b.dtype
        assert fresh[3].rng.bit_generator.state == model[3].rng.bit_generator.state
        assert fresh[3].rng is not model[3].rng


def test_take_keeps_the_chosen_members_in_order():
    X, y = _data(seed=8)
    models = [nn.mlp([4, 6, 3], seed=k).to(np.float64) for k in range(4)]
    pop = members.stack(models[0], models)
    members.take(pop, [3, 1])
    assert members.n_members(pop) == 2 and all(m.members == 2 for m in pop.modules())
    out, J, _ = _stacked(pop, X, y, nn.softmax_cross_entropy)
    for pos, k in enumerate([3, 1]):
        out_k, J_k, _ = _standalone(models[k], X, y, nn.softmax_cross_entropy)
        np.testing.assert_array_equal(out[pos], out_k)
        assert J[pos] == J_k


def test_copy_member_copies_numbers_not_generators():
    models = [nn.mlp([4, 6, 3], batch_norm=True, keep_prob=kp, seed=k) for k, kp in
              enumerate((0.5, 0.9, 1.0))]  # fmt: skip
    template = nn.mlp([4, 6, 3], batch_norm=True, keep_prob=0.5)
    pop = members.stack(template, models)
    rngs = list(pop[3].rng)
    W = pop[0].W.data
    members.copy_member(pop, 2, 0)
    assert pop[0].W.data is W  # in place
    np.testing.assert_array_equal(W[2], W[0])
    np.testing.assert_array_equal(pop[1].running_var[2], pop[1].running_var[0])
    assert pop[3].keep_prob.tolist() == [0.5, 0.9, 0.5]
    assert pop[3].rng == rngs


def test_stack_refuses_a_different_structure_naming_module_and_member():
    a = nn.Sequential(nn.Dense(4, 6, rng=0), nn.ReLU(), nn.Dense(6, 3, rng=1))
    b = nn.Sequential(nn.Dense(4, 6, rng=0), nn.Tanh(), nn.Dense(6, 3, rng=1))
    with pytest.raises(ValueError, match=r"member 1 .*'layers.1'.* ReLU, member 1 has Tanh"):
        members.stack(a, [a, b])
    c = nn.Sequential(nn.Dense(4, 5, rng=0), nn.ReLU(), nn.Dense(5, 3, rng=1))
    with pytest.raises(ValueError, match=r"member 1's module 'layers.0' \(Dense\) has n_out=5"):
        members.stack(a, [a, c])
    d = nn.Sequential(nn.Dense(4, 6), nn.LeakyReLU(0.1), nn.Dense(6, 3))
    e = nn.Sequential(nn.Dense(4, 6), nn.LeakyReLU(0.2), nn.Dense(6, 3))
    with pytest.raises(
        ValueError, match=r"member 1's module 'layers.1' \(LeakyReLU\) has slope=0.2"
    ):
        members.stack(d, [d, e])
    with pytest.raises(ValueError, match="at least one model"):
        members.stack(a, [])


def test_take_and_unstack_refuse_bad_positions():
    models = [nn.mlp([4, 6, 3], seed=k) for k in range(2)]
    pop = members.stack(models[0], models)
    with pytest.raises(ValueError, match="positions 2 is out of range for 2 members"):
        members.take(pop, [0, 2])
    with pytest.raises(ValueError, match="k 5 is out of range"):
        members.unstack(pop, 5, models[0])
    with pytest.raises(ValueError, match="not a stacked model"):
        members.take(models[0], [0])
    assert members.n_members(models[0]) is None


def test_stacked_model_keeps_module_behaviour():
    models = [nn.mlp([4, 6, 3], batch_norm=True, seed=k) for k in range(2)]
    pop = members.stack(models[0], models)
    assert pop[0].W.dtype == np.float32
    pop.to(np.float64)
    assert all(p.dtype == np.float64 for p in pop.parameters())
    assert pop[1].running_mean.shape == (2, 1, 6) and pop[1].running_mean.dtype == np.float64
    pop.eval()
    assert not any(m.training for m in pop.modules())
    assert pop.num_parameters() == 2 * models[0].num_parameters()


# -- gradcheck of the new op paths ---------------------------------------------------------------
def test_gradcheck_member_linear_shared_and_per_member_inputs():
    from honed.autograd import Parameter, linear

    rng = np.random.default_rng(0)
    W = Parameter(rng.standard_normal((3, 4, 5)))
    b = Parameter(rng.standard_normal((3, 1, 5)))
    for shape in ((6, 4), (3, 6, 4)):
        x = Parameter(rng.standard_normal(shape))  # dx too: it is computed when asked for
        weights = rng.standard_normal((3, 6, 5))
        result = gradcheck(lambda x=x, w=weights: (linear(x, W, b) * w).sum(), [x, W, b])
        assert result.error < 1e-7, str(result)
