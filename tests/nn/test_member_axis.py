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


# -- batch norm and dropout ----------------------------------------------------------------------
def _bn_dropout_models():
    """Members with different keep_prob; the last at 1.0, so its mlp has no Dropout layer."""
    keeps = (0.6, 0.85, 1.0)
    models = [
        nn.mlp([4, 8, 6, 3], batch_norm=True, keep_prob=kp, seed=k).to(np.float64)
        for k, kp in enumerate(keeps)
    ]
    template = nn.mlp([4, 8, 6, 3], batch_norm=True, keep_prob=0.5)
    return template, models, keeps


def test_mlp_with_batch_norm_and_per_member_dropout_equals_standalone():
    template, models, keeps = _bn_dropout_models()
    assert not any(isinstance(m, nn.Dropout) for m in models[2].modules())
    X, y = _data(m=16, seed=9)
    pop = assert_members_equal(template, models, X, y, nn.softmax_cross_entropy)
    dropouts = [m for m in pop.modules() if isinstance(m, nn.Dropout)]
    assert [d.keep_prob.tolist() for d in dropouts] == [list(keeps)] * 2
    assert dropouts[0].rng[2] is None  # the member without dropout draws nothing
    # the masks really differ between members and drop something
    out = pop(Tensor(X))
    assert out.shape == (3, 16, 3)


def test_dropout_draws_member_k_mask_from_member_k_generator():
    template, models, _ = _bn_dropout_models()
    pop = members.stack(template, models)
    X, y = _data(m=16, seed=10)
    for _ in range(3):  # the Generators advance in step with the standalone ones
        out = pop(Tensor(X)).data
        for k, model in enumerate(models):
            np.testing.assert_allclose(out[k], model(Tensor(X)).data, rtol=0, atol=TOL)


def test_batch_norm_running_averages_equal_after_a_few_steps():
    template, models, _ = _bn_dropout_models()
    pop = members.stack(template, models)
    rng = np.random.default_rng(11)
    for _ in range(4):
        X = rng.standard_normal((10, 4)) * 2 + 1
        pop(Tensor(X))
        for model in models:
            model(Tensor(X))
    bns = [m for m in pop.modules() if isinstance(m, nn.BatchNorm)]
    assert bns[0].running_mean.shape == (3, 1, 8)
    for k, model in enumerate(models):
        mine = [m for m in model.modules() if isinstance(m, nn.BatchNorm)]
        for stacked, own in zip(bns, mine):
            np.testing.assert_allclose(stacked.running_mean[k, 0], own.running_mean, atol=TOL)
            np.testing.assert_allclose(stacked.running_var[k, 0], own.running_var, atol=TOL)
    # eval mode: the running averages, each member's own
    X = rng.standard_normal((5, 4))
    pop.eval()
    out = pop(Tensor(X)).data
    for k, model in enumerate(models):
        np.testing.assert_allclose(out[k], model.eval()(Tensor(X)).data, rtol=0, atol=TOL)


def test_batch_norm_members_refuse_a_one_row_batch():
    template, models, _ = _bn_dropout_models()
    pop = members.stack(template, models)
    with pytest.raises(ValueError, match="at least 2 examples per batch"):
        pop(Tensor(np.ones((1, 4))))


# -- penalties, λ per member -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["l2", "l1", "both"])
def test_penalty_with_a_lambda_per_member(kind):
    X, y = _data(seed=12)
    models = [_dense_maxout_dense(5 * k) for k in range(3)]
    lam1 = np.array([0.0, 0.3, 1.1]) if kind != "l2" else 0.0
    lam2 = np.array([0.5, 0.0, 2.0]) if kind != "l1" else 0.0
    pop = members.stack(models[0], models)
    m = len(X)
    # the graph form
    pop.zero_grad()
    J = nn.softmax_cross_entropy(pop(Tensor(X)), y) + pop.penalty(l1=lam1, l2=lam2, m=m)
    J.sum().backward()
    graph_grads = [p.grad for p in pop.parameters()]
    # the Trainer's form: the value added, the gradient added after backward
    wp = nn.WeightPenalty(pop, l1=lam1, l2=lam2)
    pop.zero_grad()
    J0 = nn.softmax_cross_entropy(pop(Tensor(X)), y)
    J0.sum().backward()
    wp.add_gradient(m)
    values = J0.data + wp.value(m)
    for k, model in enumerate(models):
        l1k = float(np.broadcast_to(lam1, 3)[k])
        l2k = float(np.broadcast_to(lam2, 3)[k])
        model.zero_grad()
        Jk = nn.softmax_cross_entropy(model(Tensor(X)), y) + model.penalty(l1=l1k, l2=l2k, m=m)
        Jk.backward()
        assert abs(J.data[k] - float(Jk.data)) <= TOL
        assert abs(values[k] - float(Jk.data)) <= TOL
        for g_graph, p_pop, p in zip(graph_grads, pop.parameters(), model.parameters()):
            np.testing.assert_allclose(g_graph[k].reshape(p.grad.shape), p.grad, atol=TOL, rtol=0)
            np.testing.assert_allclose(
                p_pop.grad[k].reshape(p.grad.shape), p.grad, atol=TOL, rtol=0
            )


def test_penalty_lambda_per_member_checked():
    models = [nn.mlp([4, 6, 3], seed=k) for k in range(2)]
    pop = members.stack(models[0], models)
    with pytest.raises(ValueError, match=r"l2 must be one number or 2 \(one per member\)"):
        nn.WeightPenalty(pop, l2=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="l1 must be .*got -0.5"):
        nn.WeightPenalty(pop, l1=[0.1, -0.5])
    with pytest.raises(ValueError, match="l2 has one value per member"):
        nn.WeightPenalty(models[0], l2=[0.1, 0.2])
    assert nn.WeightPenalty(pop, l2=0.1).value(4).shape == (2,)


def test_gradcheck_a_stacked_network_with_batch_norm_and_penalty():
    template, models, _ = _bn_dropout_models()
    pop = members.stack(template, models)
    for d in pop.modules():
        if isinstance(d, nn.Dropout):
            d.eval()  # random masks would change between the finite differences
    X, y = _data(m=8, seed=13)
    lam = np.array([0.1, 0.0, 0.7])

    def cost():
        J = nn.softmax_cross_entropy(pop(Tensor(X)), y) + pop.penalty(l1=lam, l2=lam, m=8)
        return (J * np.array([1.0, 0.5, 2.0])).sum()

    result = gradcheck(cost, pop)
    assert result.error < 1e-7, str(result)


def test_gradcheck_member_losses_and_dropout():
    from honed.autograd import Parameter, member_dropout, sigmoid_cross_entropy
    from honed.autograd import softmax_cross_entropy as sce

    rng = np.random.default_rng(14)
    z = Parameter(rng.standard_normal((3, 5, 4)))
    w = np.array([1.0, -0.5, 2.0])
    labels = rng.integers(0, 4, (3, 5))
    assert gradcheck(lambda: (sce(z, labels) * w).sum(), [z]).error < 1e-7
    t = rng.random((5, 4))
    assert gradcheck(lambda: (sigmoid_cross_entropy(z, t) * w).sum(), [z]).error < 1e-7
    for loss in (nn.mean_squared_error, nn.mean_absolute_error, nn.huber):
        assert gradcheck(lambda f=loss: (f(z, t) * w).sum(), [z]).error < 1e-7
    layer = members.stack(nn.Dropout(0.5), [nn.Dropout(0.5, rng=1), nn.Dropout(0.7, rng=2)])
    x = Parameter(rng.standard_normal((2, 5, 4)))
    state = [g.bit_generator.state for g in layer.rng]

    def dropped():
        for g, s in zip(layer.rng, state):  # the same masks at every evaluation
            g.bit_generator.state = s
        return (member_dropout(x, layer) * rng_weights).sum()

    rng_weights = rng.standard_normal((2, 5, 4))
    assert gradcheck(dropped, [x]).error < 1e-7


# -- the captured step ----------------------------------------------------------------------------
def test_a_captured_replay_of_a_stacked_step_equals_the_eager_step_bit_for_bit():
    from honed.autograd.capture import Tape, build_program

    template, models, _ = _bn_dropout_models()
    pop = members.stack(template, models).to(np.float32)
    rng = np.random.default_rng(15)
    X = rng.standard_normal((16, 4)).astype(np.float32)
    y = rng.integers(0, 3, (3, 16))  # per-member labels

    def snapshot():
        return (
            [list(g.bit_generator.state for g in d.rng if g is not None)
             for d in pop.modules() if isinstance(d, nn.Dropout)],
            [b.copy() for b in pop.buffers()],
        )  # fmt: skip

    def restore(snap):
        states, buffers = snap
        drops = [d for d in pop.modules() if isinstance(d, nn.Dropout)]
        for d, st in zip(drops, states):
            for g, s in zip([g for g in d.rng if g is not None], st):
                g.bit_generator.state = s
        for b, saved in zip(pop.buffers(), buffers):
            b[...] = saved

    snap = snapshot()
    pop.zero_grad()
    with Tape() as tape:
        x = Tensor(X)
        out = pop(x)
        tape.mark_loss()
        J = nn.softmax_cross_entropy(out, y)
    J.backward(np.ones_like(J.data))
    eager = out.data.copy(), J.data.copy(), [p.grad.copy() for p in pop.parameters()]
    eager_buffers = [b.copy() for b in pop.buffers()]
    program = build_program(tape, x, y, pop.parameters(), out, J)

    restore(snap)
    pop.zero_grad()
    replay = program.forward(X, y)
    replay.backward()
    np.testing.assert_array_equal(replay.outputs, eager[0])
    np.testing.assert_array_equal(replay.cost, eager[1])
    for p, g in zip(pop.parameters(), eager[2]):
        np.testing.assert_array_equal(p.grad, g)
    for b, e in zip(pop.buffers(), eager_buffers):
        np.testing.assert_array_equal(b, e)
    # a new batch: fresh masks from the same Generators, and the replay still follows eager
    X2 = rng.standard_normal((16, 4)).astype(np.float32)
    snap = snapshot()
    replay2 = program.forward(X2, y)
    restore(snap)
    eager2 = nn.softmax_cross_entropy(pop(Tensor(X2)), y)
    np.testing.assert_array_equal(replay2.cost, eager2.data)


def test_the_trainers_step_capture_replays_a_stacked_model():
    from honed.autograd.capture import Tape
    from honed.train.capture import StepCapture

    template, models, _ = _bn_dropout_models()
    pop = members.stack(template, models).to(np.float32)
    loss = nn.build_loss("softmax_cross_entropy")
    capture = StepCapture(pop, loss)
    assert not capture.disabled, capture.reasons
    rng = np.random.default_rng(16)
    kinds = []
    for _ in range(4):
        X, y = rng.standard_normal((8, 4)).astype(np.float32), rng.integers(0, 3, 8)
        key = capture.key(X, y, learn=True)
        entry = capture.lookup(key)
        kinds.append(None if entry is None else entry[0])
        if entry is not None and entry[0] == "replay":
            capture.replay(entry[1], X, y).backward()
            continue
        with Tape() as tape:
            x = Tensor(X)
            out = pop(x)
            tape.mark_loss()
            J = loss(out, y)
        capture.record(key, tape, x, y, out, J)
    assert kinds == [None, "check", "replay", "replay"] and capture.reasons == {}
    assert "keep_prob=[0.6, 0.85, 1]" in repr(pop)


def test_loss_error_per_member():
    rng = np.random.default_rng(17)
    out = rng.standard_normal((3, 10, 4))
    y = rng.integers(0, 4, 10)
    loss = nn.build_loss("softmax_cross_entropy")
    per = np.stack([np.roll(y, k) for k in range(3)])
    for targets, of in ((y, lambda k: y), (np.eye(4)[y], lambda k: y), (per, lambda k: per[k])):
        errors = loss.error(out, targets)
        assert errors.shape == (3,)
        for k in range(3):
            assert errors[k] == loss.error(out[k], of(k))
    binary = nn.build_loss("sigmoid_cross_entropy")
    z = rng.standard_normal((3, 10, 1))
    t = rng.integers(0, 2, 10)
    assert binary.error(z, t).tolist() == [binary.error(z[k], t) for k in range(3)]
    mse = nn.build_loss("mse")
    r = rng.standard_normal((10, 1))
    np.testing.assert_allclose(mse.error(z, r), [mse.error(z[k], r) for k in range(3)])


def test_dropout_member_without_a_generator_is_refused_by_name():
    template, models, _ = _bn_dropout_models()
    pop = members.stack(template, models)
    pop[3].keep_prob[2] = 0.5  # member 2's mlp had no Dropout, hence no Generator
    with pytest.raises(ValueError, match="dropout member 2 has keep_prob 0.5 but no Generator"):
        pop(Tensor(np.ones((4, 4))))
    pop[3].rng[2] = np.random.default_rng(0)
    assert pop(Tensor(np.ones((4, 4)))).shape == (3, 4, 3)


@pytest.mark.parametrize("n_in", [4, 300])  # a wide GEMM (copy of W) / P GEMMs on one x
def test_shared_input_linear_paths_equal_standalone(n_in):
    from honed.autograd import Parameter, linear

    rng = np.random.default_rng(18)
    x = rng.standard_normal((5, n_in))
    Ws = [rng.standard_normal((n_in, 3)) for _ in range(4)]
    bs = [rng.standard_normal(3) for _ in range(4)]
    W = Parameter(np.stack(Ws))
    b = Parameter(np.stack(bs)[:, None, :])
    wide = Parameter(np.ascontiguousarray(np.stack(Ws).transpose(1, 0, 2)).transpose(1, 0, 2))
    assert wide.data.transpose(1, 0, 2).flags.c_contiguous  # stored wide: no copy either way
    for weights in (W, wide):
        out = linear(Tensor(x), weights, b)
        out.sum().backward()
        for k in range(4):
            np.testing.assert_allclose(out.data[k], x @ Ws[k] + bs[k], rtol=0, atol=TOL)
            np.testing.assert_allclose(weights.grad[k], x.T @ np.ones((5, 3)), atol=TOL)


def test_batch_norm_and_dropout_with_per_member_inputs():
    template, models, _ = _bn_dropout_models()
    rng = np.random.default_rng(19)
    X = rng.standard_normal((3, 10, 4))
    y = rng.integers(0, 3, 10)
    assert_members_equal(template, models, X, y, nn.softmax_cross_entropy, X_of=lambda k: X[k])


def test_mlp_predict_of_a_stacked_model_is_each_members():
    X, _ = _data(seed=20)
    for output, sizes in (("softmax", [4, 6, 3]), ("sigmoid", [4, 6, 1])):
        models = [nn.mlp(sizes, output=output, batch_norm=True, seed=k) for k in range(3)]
        pop = members.stack(models[0], models)
        proba, labels = pop.predict_proba(X), pop.predict(X)
        assert labels.shape == (3, len(X))
        for k, model in enumerate(models):
            np.testing.assert_allclose(proba[k], model.predict_proba(X), rtol=1e-6)
            np.testing.assert_array_equal(labels[k], model.predict(X))


def test_parameters_as_views_into_one_joined_buffer():
    """What a per-member optimizer does (one (P, R) buffer, row k = member k's numbers, each
    parameter a strided view of it): the ops take such views and the members still equal
    their standalone models."""
    template, models, _ = _bn_dropout_models()
    pop = members.stack(template, models)
    params = pop.parameters()
    sizes = [p.data[0].size for p in params]
    buffer = np.zeros((3, sum(sizes)))
    offset = 0
    for p, size in zip(params, sizes):
        view = buffer[:, offset : offset + size].reshape(p.data.shape)
        view[...] = p.data
        p.data = view
        offset += size
    assert not params[0].data.flags.c_contiguous
    X, y = _data(m=16, seed=21)
    out, J, grads = _stacked(pop, X, y, nn.softmax_cross_entropy)
    for k, model in enumerate(models):
        out_k, J_k, grads_k = _standalone(model, X, y, nn.softmax_cross_entropy)
        np.testing.assert_allclose(out[k], out_k, rtol=0, atol=TOL)
        for g, g_k in zip(grads, grads_k):
            np.testing.assert_allclose(g[k].reshape(g_k.shape), g_k, rtol=0, atol=TOL)
    members.copy_member(pop, 0, 1)  # in place: the views stay views of the buffer
    assert params[0].data.base is not None
    np.testing.assert_array_equal(buffer[0], buffer[1])


def test_gradcheck_shared_input_into_batch_norm_and_dropout():
    from honed.autograd import Parameter, batch_norm, member_dropout

    rng = np.random.default_rng(22)
    x = Parameter(rng.standard_normal((6, 4)))  # shared by 3 members
    gamma = Parameter(rng.standard_normal((3, 1, 4)))
    beta = Parameter(rng.standard_normal((3, 1, 4)))
    w = rng.standard_normal((3, 6, 4))
    result = gradcheck(lambda: (batch_norm(x, gamma, beta) * w).sum(), [x, gamma, beta])
    assert result.error < 1e-7, str(result)
    layer = members.stack(nn.Dropout(0.5), [nn.Dropout(0.6, rng=k) for k in range(3)])
    state = [g.bit_generator.state for g in layer.rng]

    def dropped():
        for g, s in zip(layer.rng, state):
            g.bit_generator.state = s
        return (member_dropout(x, layer) * w).sum()

    assert dropped().shape == () and gradcheck(dropped, [x]).error < 1e-7
    for k, g in enumerate(layer.rng):  # member k's mask: its standalone layer's
        g.bit_generator.state = state[k]
    out = member_dropout(x, layer).data
    for k in range(3):
        alone = nn.Dropout(0.6, rng=k)
        np.testing.assert_array_equal(out[k], alone(x.data).data)


def test_binary_cross_entropy_of_probabilities_members():
    X, _ = _data(seed=23)
    y = (X[:, 1] > 0).astype(np.int64)
    models = [
        nn.Sequential(nn.Dense(4, 5, rng=k), nn.Tanh(), nn.Dense(5, 1, rng=k + 9), nn.Sigmoid())
        for k in range(3)
    ]
    models = [m.to(np.float64) for m in models]
    assert_members_equal(models[0], models, X, y, nn.binary_cross_entropy)


def test_gradcheck_stacked_dense_maxout_dense_per_member_input():
    pop = members.stack(_dense_maxout_dense(0), [_dense_maxout_dense(3 * k) for k in range(3)])
    rng = np.random.default_rng(24)
    X = rng.standard_normal((3, 6, 4))
    y = rng.integers(0, 3, (3, 6))
    w = np.array([0.3, 1.0, 2.0])
    result = gradcheck(lambda: (nn.softmax_cross_entropy(pop(Tensor(X)), y) * w).sum(), pop)
    assert result.error < 1e-7, str(result)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_one_output_layer_passes_back_each_members_gemm_bit_for_bit(dtype):
    """dx of a layer with one output is an outer product (written as a broadcast multiply):
    member k's dx is its standalone Linear's ``g_k @ W_kᵀ`` to the last bit, batch-major."""
    from honed.autograd import Parameter, linear

    rng = np.random.default_rng(20)
    x = Parameter(rng.standard_normal((7, 4, 3)).astype(dtype))  # (P, B, n_in) per member
    W = Parameter(rng.standard_normal((7, 3, 1)).astype(dtype))
    g = rng.standard_normal((7, 4, 1)).astype(dtype)
    out = linear(x, W)
    out.backward(g)
    assert x.grad.dtype == dtype and x.grad.strides[0] < x.grad.strides[1]  # batch-major
    for k in range(7):
        alone_x, alone_W = Parameter(x.data[k].copy()), Parameter(W.data[k].copy())
        linear(alone_x, alone_W).backward(g[k])
        assert np.array_equal(x.grad[k], alone_x.grad)
        assert np.array_equal(W.grad[k], alone_W.grad)


def test_member_dropout_keeps_its_inputs_batch_major_layout():
    """After a member Linear (batch-major) the dropout's output stays batch-major, so the ops
    after it (and their gradients, g·d/keep) do not mix layouts (several times slower)."""
    template, models, _ = _bn_dropout_models()
    pop = members.stack(template, models)
    x = Tensor(np.random.default_rng(21).standard_normal((10, 4)))
    for layer in pop.layers:
        x = layer(x)
        if isinstance(layer, nn.Dropout):
            assert x.data.strides[0] < x.data.strides[1], "dropout output is member-major"
            break
    else:
        raise AssertionError("the model has no dropout")
