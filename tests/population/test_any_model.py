"""``Population(model, members)`` and ``Population(builder, members)``: any honed model, not
only an MLP. Member k equals a standalone ``Trainer`` run of its own model (float64, 1e-10):
Maxout, a user's own Module, per-member dropout and batch norm, mixed optimizers,
classification and regression."""

import copy

import numpy as np
import pytest

import honed.nn as nn
from honed.autograd import Parameter, linear, matmul, tanh
from honed.population import Population, PopulationTrainer

from .conftest import max_relative_difference, train_alone

MIXED = [
    {"optimizer": "adam", "lr": 0.01, "beta1": 0.8, "l2": 0.2, "seed": 0},
    {"optimizer": "momentum", "lr": 0.05, "beta": 0.7, "seed": 1},
    {"optimizer": "rmsprop", "lr": 0.003, "beta2": 0.9, "l1": 0.05, "seed": 2},
    {"optimizer": "gd", "lr": 0.1, "seed": 3},
]


class Residual(nn.Module):
    """A user's own Module written with honed ops: h = tanh(x·W1 + b1); out = (h + x·S)·W2 + c."""

    capturable = True  # its ops depend only on shapes

    def __init__(self, n_in, n_out, seed, shift=()):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.W1 = Parameter(rng.standard_normal((n_in, 5)) * 0.5)
        self.b1 = Parameter(np.zeros(5))
        self.S = Parameter(rng.standard_normal((n_in, 5)) * 0.5)
        self.W2 = Parameter(rng.standard_normal((5, n_out)) * 0.5)
        # c: a scalar for regression; per class under softmax, where one shift for all
        # classes changes no probability (its gradient is 0 and its value rounding noise)
        self.c = Parameter(np.zeros(shift))
        self._regularized = ("W1", "W2")

    def forward(self, x):
        h = tanh(linear(x, self.W1, self.b1))
        return linear(h + matmul(x, self.S), self.W2) + self.c


def maxout_net(values):
    """Dense, batch norm, ReLU, dropout, Maxout, Dense: the member's seed draws its weights."""
    rng = np.random.default_rng(values["seed"])
    return nn.Sequential(
        nn.Dense(4, 6, rng=rng),
        nn.BatchNorm(6),
        nn.ReLU(),
        nn.Dropout(0.5, rng=np.random.default_rng(100 + values["seed"])),
        nn.Maxout(6, 4, pieces=3, rng=rng),
        nn.Dense(4, 3, rng=rng),
    )


def standalone(model, member, train, dev, loss, epochs=3, batch_size=16, seed=7):
    """``model`` (a copy) trained alone by honed's Trainer with the member's settings."""
    model = copy.deepcopy(model).to(np.float64)
    if "keep_prob" in member:
        for layer in model.modules():
            if isinstance(layer, nn.Dropout):
                layer.keep_prob = member["keep_prob"]
    return train_alone(model, member, train, dev, epochs, batch_size, seed, loss)


def _check(pop, models, members, train, dev, loss, epochs=None, **kw):
    """Train ``pop``; member k equals its standalone run (``epochs[k]`` epochs: 3 if none)."""
    PopulationTrainer(pop, loss=loss, batch_size=16, seed=7, **kw).fit(train, dev, epochs=3)
    for k, (model, m) in enumerate(zip(models, members, strict=True)):
        n = 3 if epochs is None else epochs[k]
        alone, history = standalone(model, m, train, dev, loss, epochs=n)
        assert max_relative_difference(alone.state_dict(), pop.member(k).state_dict()) < 1e-10
        for a, b in zip(history.epochs, pop.histories[k].epochs, strict=True):
            for key in ("train_cost", "train_error", "dev_cost", "dev_error"):
                assert abs(a[key] - b[key]) <= 1e-10 * max(abs(a[key]), 1e-300), (k, key)


def test_a_builder_with_maxout_batch_norm_and_dropout(data3):
    train, dev = data3
    members = [dict(m, keep_prob=kp) for m, kp in zip(MIXED, (0.8, 1.0, 0.6, 0.9))]
    pop = Population(maxout_net, members, dtype=np.float64)
    assert pop.architecture is None and pop.members[1].keep_prob == [1.0]
    models = [maxout_net(m) for m in members]
    _check(pop, models, members, train, dev, "softmax_cross_entropy")
    assert isinstance(pop.member(0).layers[4], nn.Maxout)


def test_a_built_model_is_every_members_start(data3):
    """A built model: each member starts from a copy (its weights, its dropout generator's
    state); keep_prob given per member sets its Dropout."""
    train, dev = data3
    template = maxout_net({"seed": 5})
    members = [dict(m, keep_prob=kp) for m, kp in zip(MIXED[:3], (0.7, 0.9, 1.0))]
    pop = Population(template, members, dtype=np.float64)
    _check(pop, [template] * 3, members, train, dev, "softmax_cross_entropy")


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_a_custom_module_for_regression(loss):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((70, 3))
    y = np.stack([np.sin(X[:, 0]) + X[:, 1], X[:, 2] * X[:, 0]], axis=1)
    train, dev = (X[:50], y[:50]), (X[50:], y[50:])
    pop = Population(lambda values: Residual(3, 2, values["seed"]), MIXED, dtype=np.float64)
    models = [Residual(3, 2, m["seed"]) for m in MIXED]
    _check(pop, models, MIXED, train, dev, loss)
    trainer = PopulationTrainer(pop, loss=loss)
    assert trainer.step.capture.reasons == {}  # a capturable Module: the step is replayed


def test_a_custom_module_for_classification_with_pruning(data3):
    """Members stop at different epochs (a callback prunes one): the rest go on as before."""
    train, dev = data3
    pop = Population(
        lambda values: Residual(4, 3, values["seed"], shift=(3,)), MIXED, dtype=np.float64
    )

    def prune(trainer, epoch, records):
        if epoch == 1:
            trainer.stop([2])

    models = [Residual(4, 3, m["seed"], shift=(3,)) for m in MIXED]
    loss = "softmax_cross_entropy"
    _check(pop, models, MIXED, train, dev, loss, epochs=[3, 3, 1, 3], callbacks=[prune])
    assert pop.status == ["complete", "complete", "pruned", "complete"]
    assert len(pop.histories[2]) == 1


def test_a_builder_must_build_modules():
    with pytest.raises(
        TypeError, match=r"must return a honed.nn.Module, got dict for members\[0\]"
    ):
        Population(lambda values: {}, [{"seed": 0}])
