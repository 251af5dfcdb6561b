"""Trainer: learning, history, early stopping, divergence, exact resume."""

import math

import numpy as np
import pytest

from honed.data import moons
from honed.nn import mlp
from honed.optim import GD, Adam, inverse_time
from honed.train import (
    Checkpoint,
    EarlyStopping,
    Trainer,
    TrainingDiverged,
    list_checkpoints,
    load_state,
)


@pytest.fixture(scope="module")
def data():
    d = moons(n_samples=400, noise=0.15, seed=0)
    return d[:300], d[300:]


def make(seed=0, lr=0.01, keep_prob=1.0, batch_norm=False, callbacks=(), opt=Adam, **kw):
    model = mlp(
        [2, 16, 16, 2], activation="tanh", keep_prob=keep_prob, batch_norm=batch_norm, seed=seed
    )
    return Trainer(
        model, opt(model.parameters(), lr=lr), batch_size=32, callbacks=callbacks, seed=seed, **kw
    )


def test_fit_learns_and_records_history(data):
    train, dev = data
    trainer = make()
    history = trainer.fit(train, dev, epochs=15)
    assert len(history) == 15 and history.status == "complete"
    first, last = history.epochs[0], history.epochs[-1]
    assert last["train_cost"] < first["train_cost"]
    assert last["dev_error"] < 0.1
    assert set(last) >= {
        "train_cost",
        "train_error",
        "dev_cost",
        "dev_error",
        "lr",
        "seconds",
        "samples_per_s",
    }
    assert trainer.evaluate(dev)["error"] == pytest.approx(last["dev_error"])


def test_schedule_sets_the_rate_of_each_epoch(data):
    train, dev = data
    model = mlp([2, 8, 2], seed=0)
    trainer = Trainer(
        model, GD(model.parameters(), lr=inverse_time(0.5, decay_rate=1.0)), batch_size=50
    )
    history = trainer.fit(train, dev, epochs=4)
    assert history.column("lr") == pytest.approx([0.5 / (1 + e) for e in range(4)])


def test_l2_step_is_the_notes_weight_decay(data):
    """One GD step with L2, worked by hand: J = J_loss + λ/(2m) Σ‖W‖², and
    W := (1 − αλ/m)·W − α·dW_loss (the notes' "weight decay"); biases are not decayed."""
    train, _ = data
    X, y = train.X[:20].astype(np.float64), train.y[:20]
    lam, alpha, m = 3.0, 0.1, 20

    def one_step(l2):
        model = mlp([2, 4, 2], seed=0).to(np.float64)
        trainer = Trainer(model, GD(model.parameters(), lr=alpha), l2=l2, batch_size=m)
        before = {n: p.data.copy() for n, p in model.named_parameters()}
        cost, _ = trainer.train_step(X, y)
        return before, {n: p.data.copy() for n, p in model.named_parameters()}, cost

    before, plain, plain_cost = one_step(0.0)
    _, decayed, decayed_cost = one_step(lam)
    squares = sum(float((w**2).sum()) for n, w in before.items() if n.endswith("W"))
    assert decayed_cost == pytest.approx(plain_cost + lam / (2 * m) * squares, rel=1e-12)
    for name, w0 in before.items():
        loss_step = plain[name] - w0  # −α·dW_loss
        if name.endswith("W"):
            expected = (1 - alpha * lam / m) * w0 + loss_step
        else:
            expected = plain[name]
        np.testing.assert_allclose(decayed[name], expected, rtol=1e-12, atol=1e-15)


def test_diverging_run_stops_with_epoch_and_batch(data):
    train, dev = data
    model = mlp([2, 16, 2], activation="relu", seed=0)
    trainer = Trainer(model, GD(model.parameters(), lr=1e3), batch_size=32)
    with pytest.raises(TrainingDiverged, match=r"epoch \d+, mini-batch \d+/10") as info:
        trainer.fit(train, dev, epochs=50)
    assert trainer.history.status == "diverged"
    assert info.value.epoch >= 1


class _Scripted(EarlyStopping):
    """Early stopping fed a scripted dev error, to test restoring without noise."""

    def __init__(self, values, **kw):
        super().__init__(**kw)
        self.values = values

    def on_epoch_end(self, trainer, epoch, logs):
        super().on_epoch_end(trainer, epoch, {**logs, "dev_error": self.values[epoch - 1]})


def test_early_stopping_restores_best_weights(data):
    train, dev = data
    seen = {}

    class Spy(EarlyStopping):
        def on_epoch_end(self, trainer, epoch, logs):
            seen[epoch] = {k: v.copy() for k, v in trainer.model.state_dict().items()}

    es = _Scripted([0.5, 0.3, 0.2, 0.25, 0.26, 0.27, 0.28], patience=3)
    trainer = make(callbacks=[es, Spy()])
    history = trainer.fit(train, dev, epochs=7)
    assert history.status == "early_stopped" and len(history) == 6
    assert es.best_epoch == 3 and trainer.restored_epoch == 3
    for key, value in trainer.model.state_dict().items():
        np.testing.assert_array_equal(value, seen[3][key])


def test_early_stopping_restores_best_also_when_epochs_run_out(data):
    train, dev = data
    es = _Scripted([0.5, 0.1, 0.2, 0.3], patience=10)
    trainer = make(callbacks=[es])
    history = trainer.fit(train, dev, epochs=4)
    assert history.status == "complete" and trainer.restored_epoch == 2


def test_early_stopping_validates():
    with pytest.raises(ValueError, match="patience must be an integer >= 1, got 0"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="monitor"):
        EarlyStopping(monitor="accuracy")


def test_resume_from_checkpoint_is_bit_identical(data, tmp_path):
    # Dropout and batch norm included: their generators and running averages must resume too.
    train, dev = data
    full = make(keep_prob=0.8, batch_norm=True, callbacks=[Checkpoint(tmp_path / "a")])
    full.fit(train, dev, epochs=6)

    part = make(keep_prob=0.8, batch_norm=True, callbacks=[Checkpoint(tmp_path / "b")])
    part.fit(train, dev, epochs=3)
    state = load_state(list_checkpoints(tmp_path / "b")[3])
    resumed = make(keep_prob=0.8, batch_norm=True, seed=0)
    resumed.load_state_dict(state)
    assert resumed.epoch == 3
    resumed.fit(train, dev, epochs=6)
    for key, value in full.model.state_dict().items():
        np.testing.assert_array_equal(resumed.model.state_dict()[key], value, err_msg=key)
    assert resumed.history.column("dev_cost") == full.history.column("dev_cost")


def test_trainer_validates_arguments():
    model = mlp([2, 4, 2])
    opt = GD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        Trainer(model, opt, batch_size=0)
    with pytest.raises(ValueError, match="l2 must be >= 0, got -1"):
        Trainer(model, opt, l2=-1)
    with pytest.raises(ValueError, match="unknown loss .hinge.; known: softmax_cross_entropy"):
        Trainer(model, opt, loss="hinge")
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        Trainer(model, opt).fit((np.zeros((4, 2), np.float32), np.zeros(4, int)), epochs=0)


def test_mse_and_binary_losses_train(data):
    train, dev = data
    model = mlp([2, 16, 1], activation="tanh", seed=0)
    trainer = Trainer(
        model, Adam(model.parameters(), lr=0.02), loss="sigmoid_cross_entropy", batch_size=32
    )
    history = trainer.fit(train, dev, epochs=20)
    assert history.last["dev_error"] < 0.15
    model = mlp([2, 16, 1], activation="tanh", seed=0)
    reg = Trainer(model, Adam(model.parameters(), lr=0.02), loss="mse", batch_size=32)
    h = reg.fit((train.X, train.y.astype(np.float32)), (dev.X, dev.y.astype(np.float32)), epochs=10)
    assert math.isfinite(h.last["dev_cost"]) and h.last["train_cost"] < h.epochs[0]["train_cost"]


def test_penalized_training_equals_the_graph_penalty_loop(data):
    """The Trainer adds the L1/L2 gradient outside the graph; a hand-written loop with
    ``loss + model.penalty(...)`` must land on the same weights and costs (float64)."""
    from honed.autograd import Tensor, softmax_cross_entropy
    from honed.data import minibatches

    train, dev = data
    train = train.replace(X=train.X.astype(np.float64))
    trainer = make(l1=0.02, l2=0.5)
    trainer.model.to(np.float64)
    history = trainer.fit(train, None, epochs=2)

    model = mlp([2, 16, 16, 2], activation="tanh", seed=0).to(np.float64)
    opt = Adam(model.parameters(), lr=0.01)
    rng = np.random.default_rng(0)  # the Trainer's shuffling generator, seeded alike
    for epoch in range(2):
        total = 0.0
        for xb, yb in minibatches(train.X, train.y, 32, rng):
            J = softmax_cross_entropy(model(Tensor(xb)), yb) + model.penalty(
                l1=0.02, l2=0.5, m=len(xb)
            )
            opt.minimize(J)
            total += J.item() * len(xb)
        assert history.epochs[epoch]["train_cost"] == pytest.approx(total / len(train.X), rel=1e-12)
    for (name, a), (_, b) in zip(trainer.model.named_parameters(), model.named_parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-9, atol=1e-12, err_msg=name)
