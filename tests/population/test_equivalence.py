"""Member k of a population equals a standalone honed Trainer run (float64, 1e-10)."""

import numpy as np
import pytest

from honed.optim import inverse_time
from honed.population import Population, PopulationTrainer

from .conftest import max_relative_difference, standalone

ARCH = {"sizes": [4, 6, 5, 3], "activation": "tanh", "batch_norm": True}
MEMBERS = [
    {"optimizer": "adam", "lr": inverse_time(0.01, 0.5), "l2": 0.1, "keep_prob": 0.8, "seed": 1},
    {"optimizer": "adam", "lr": 0.003, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "seed": 5},
    {"optimizer": "momentum", "lr": 0.05, "beta": 0.8, "l2": 0.3, "seed": 2},
    {
        "optimizer": "rmsprop",
        "lr": 0.003,
        "beta2": 0.9,
        "keep_prob": [0.7, 0.9],
        "seed": 3,
        "init_scale": 0.5,
    },
    {"optimizer": "gd", "lr": 0.1, "l1": 0.05, "keep_prob": 0.6, "seed": 4},
]


def _close(a, b):
    return abs(a - b) <= 1e-10 * max(abs(a), abs(b), 1e-300)


@pytest.mark.parametrize(
    ("common_order", "one_buffer", "kernel"),
    [(True, True, "numpy"), (False, True, "numpy"), (True, False, "numpy"), (True, True, "numba")],
)
def test_every_member_equals_a_standalone_trainer(
    data3, common_order, one_buffer, kernel, monkeypatch
):
    """Every update path: NumPy's over the joined buffer in one block (small populations)
    and column block by block (large ones), and the compiled kernel (the accel extra, part
    of make test)."""
    from honed.optim import MemberOptimizer

    if kernel == "numba":
        pytest.importorskip("numba")
        monkeypatch.setattr(MemberOptimizer, "COMPILED_FROM", 0)  # at this tiny size too
    if not one_buffer:
        monkeypatch.setattr(MemberOptimizer, "BLOCK", 1)  # one column of the buffer per block
    train, dev = data3
    members = [dict(m) for m in MEMBERS]
    if not common_order:  # each member shuffles with its own seed
        for m in members:
            m["shuffle_seed"] = 100 + m["seed"]
    pop = Population(ARCH, members, dtype=np.float64)
    PopulationTrainer(pop, batch_size=32, seed=7, common_order=common_order, kernels=kernel).fit(
        train, dev, epochs=3
    )
    for k, m in enumerate(members):
        seed = 7 if common_order else m["shuffle_seed"]
        model, history = standalone(ARCH, m, train, dev, 3, 32, seed, "softmax_cross_entropy")
        assert max_relative_difference(model.state_dict(), pop.member(k).state_dict()) < 1e-10
        ours = pop.histories[k].epochs
        assert len(ours) == 3
        for a, b in zip(history.epochs, ours):
            for key in ("train_cost", "train_error", "dev_cost", "dev_error", "lr"):
                assert _close(a[key], b[key]), (k, key, a[key], b[key])


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "leaky_relu", "elu"])
def test_binary_output_and_other_activations(activation):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((90, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    arch = {"sizes": [2, 5, 2, 1], "activation": activation}
    members = [
        {"optimizer": "adam", "lr": 0.02, "seed": 0, "keep_prob": 0.7},
        {"optimizer": "momentum", "lr": 0.1, "seed": 1, "l2": 0.5},
    ]
    pop = Population(arch, members, dtype=np.float64)
    PopulationTrainer(pop, loss="sigmoid_cross_entropy", batch_size=16, seed=2).fit(
        (X, y), (X[:30], y[:30]), epochs=3
    )
    for k, m in enumerate(members):
        model, history = standalone(
            arch, m, (X, y), (X[:30], y[:30]), 3, 16, 2, "sigmoid_cross_entropy"
        )
        assert max_relative_difference(model.state_dict(), pop.member(k).state_dict()) < 1e-10
        assert _close(history.last["dev_cost"], pop.histories[k].last["dev_cost"])


def test_stacked_backward_matches_finite_differences(data3):
    """The shared step's gradients on the stacked model (batch norm, two members) against
    central differences of the sum of the members' costs."""
    (X, y), _ = data3
    X, y = X[:20], y[:20]
    pop = Population(ARCH, [{"seed": 0}, {"seed": 1, "init_scale": 2.0}], dtype=np.float64)
    trainer = PopulationTrainer(pop, capture=False)
    step, model = trainer.step, trainer.model
    rm = [a.copy() for a in model.buffers()]

    def total_cost():
        return float(step.forward(X, y).cost.sum())

    step.backward(step.forward(X, y), len(X))
    rng = np.random.default_rng(0)
    eps = 1e-6
    worst = 0.0
    for param in model.parameters():
        data, grad = param.data, param.grad.copy()  # data: a view of the joined buffer
        for j in rng.choice(data.size, size=min(25, data.size), replace=False):
            at = np.unravel_index(j, data.shape)
            old = data[at]
            data[at] = old + eps
            plus = total_cost()
            data[at] = old - eps
            minus = total_cost()
            data[at] = old
            approx = (plus - minus) / (2 * eps)
            worst = max(worst, abs(approx - grad[at]) / max(abs(approx) + abs(grad[at]), 1e-8))
    for a, b in zip(model.buffers(), rm):  # the forward passes moved them: they exist
        assert not np.allclose(a, b)
    assert worst < 1e-6


@pytest.mark.parametrize("order", ["common", "own", "own, one shuffle seed"])
def test_augmented_batches_are_the_standalone_trainers(data3, order):
    """Augmentation draws come from the generator that shuffles (the common one, or each
    member's own, also when members have the same shuffle seed and so the same orders), in
    the order ``Trainer`` draws them."""
    from honed.data.augment import GaussianNoise

    train, dev = data3
    common_order = order == "common"
    members = [dict(m) for m in MEMBERS[1:3]]
    for m in members:
        m["shuffle_seed"] = 50 if order == "own, one shuffle seed" else 50 + m["seed"]
    pop = Population(ARCH, members, dtype=np.float64)
    noise = GaussianNoise(std=0.3)
    trainer = PopulationTrainer(
        pop, batch_size=32, seed=7, common_order=common_order, augment=noise
    )
    trainer.fit(train, dev, epochs=2)
    for k, m in enumerate(members):
        seed = 7 if common_order else m["shuffle_seed"]
        model, history = standalone(
            ARCH, m, train, dev, 2, 32, seed, "softmax_cross_entropy", augment=noise
        )
        assert max_relative_difference(model.state_dict(), pop.member(k).state_dict()) < 1e-10


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_regression_members_equal_standalone_trainers(loss):
    """Linear outputs on two real targets: every member equals a standalone Trainer run."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((80, 3))
    y = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 0]], axis=1)
    y += 0.3 * rng.standard_normal(y.shape)
    arch = {"sizes": [3, 6, 2], "activation": "tanh", "output": "linear"}
    members = [
        {"optimizer": "adam", "lr": 0.02, "seed": 0, "l2": 0.2},
        {"optimizer": "momentum", "lr": 0.05, "seed": 1, "keep_prob": 0.8},
    ]
    pop = Population(arch, members, dtype=np.float64)
    train, dev = (X[:60], y[:60]), (X[60:], y[60:])
    PopulationTrainer(pop, loss=loss, batch_size=16, seed=2).fit(train, dev, epochs=3)
    for k, m in enumerate(members):
        model, history = standalone(arch, m, train, dev, 3, 16, 2, loss)
        assert max_relative_difference(model.state_dict(), pop.member(k).state_dict()) < 1e-10
        for a, b in zip(history.epochs, pop.histories[k].epochs):
            for key in ("train_cost", "train_error", "dev_cost", "dev_error"):
                assert _close(a[key], b[key]), (k, key, a[key], b[key])
