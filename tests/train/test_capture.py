"""The captured step: replayed steps equal eager steps bit for bit; what cannot be replayed
safely falls back to eager, with the reason kept."""

import numpy as np
import pytest

from honed.autograd import Function, Tensor
from honed.data import moons
from honed.nn import (
    BatchNorm,
    Dense,
    Dropout,
    Maxout,
    Module,
    Sequential,
    Sigmoid,
    get_activation,
    mlp,
)
from honed.optim import GD, Adam, Momentum, RMSprop, inverse_time
from honed.train import Trainer, load_state

# 150 examples in batches of 32: four full batches and a partial one of 22 every epoch.
N, BATCH, EPOCHS = 150, 32, 4


def _data(task: str, dtype):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(N, 3)).astype(dtype)
    if task == "regression":
        return X, (X @ np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 1.5]])).astype(dtype)
    if task == "binary":
        return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0.5)


def _train(build, task, dtype, capture, optimizer=Adam, l1=0.0, l2=0.0, loss=None, **opt):
    model = build()
    model.to(dtype)
    X, y = _data(task, dtype)
    trainer = Trainer(
        model,
        optimizer(model.parameters(), **{"lr": 0.01, **opt}),
        loss=loss
        or {"regression": "mse", "binary": "sigmoid_cross_entropy"}.get(
            task, "softmax_cross_entropy"
        ),
        batch_size=BATCH,
        l1=l1,
        l2=l2,
        seed=3,
        capture=capture,
    )
    history = trainer.fit((X, y), epochs=EPOCHS)
    return trainer, history


def _assert_same(build, task="multiclass", dtype=np.float32, **kw):
    eager, eager_history = _train(build, task, dtype, False, **kw)
    captured, captured_history = _train(build, task, dtype, True, **kw)
    assert eager.capture is None
    # Every step after the two recordings of each batch shape was replayed.
    per_epoch = -(-N // BATCH)
    assert captured.capture.replays == EPOCHS * per_epoch - 4, captured.capture.reasons
    for key in ("train_cost", "train_error"):
        assert captured_history.column(key) == eager_history.column(key)
    for (name, a), b in zip(eager.model.state_dict().items(), captured.model.state_dict().values()):
        assert a.dtype == b.dtype == dtype and np.array_equal(a, b), name
    return captured


def _mlp(**kw):
    return lambda: mlp([3, 8, 8, 3], seed=1, **kw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "identity"])
def test_every_activation_replays_bit_for_bit(activation, dtype):
    _assert_same(_mlp(activation=activation), dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_dropout_and_penalties_replay_bit_for_bit(dtype):
    captured = _assert_same(_mlp(batch_norm=True, keep_prob=0.7), dtype=dtype, l1=0.01, l2=0.1)
    # The running averages were updated by the replays too (checked equal above).
    assert captured.capture.reasons == {}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_maxout_and_softmax_layers_replay_bit_for_bit(dtype):
    def build():
        rng = np.random.default_rng(2)
        return Sequential(
            Dense(3, 6, rng=rng), BatchNorm(6), Maxout(6, 4, pieces=3, rng=rng),
            Dropout(0.8, rng=5), Dense(4, 3, rng=rng), get_activation("softmax"), Dense(3, 3, rng=rng),
        )  # fmt: skip

    _assert_same(build, dtype=dtype)


@pytest.mark.parametrize(
    "optimizer, opt",
    [
        (GD, {"lr": inverse_time(0.1, decay_rate=0.5)}),
        (Momentum, {"beta": 0.8}),
        (RMSprop, {}),
        (Adam, {"lr": inverse_time(0.01, decay_rate=1.0)}),
    ],
)
def test_every_optimizer_and_a_schedule_replay_bit_for_bit(optimizer, opt):
    _assert_same(_mlp(keep_prob=0.9), optimizer=optimizer, l2=0.05, **opt)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "task, loss",
    [
        ("multiclass", "softmax_cross_entropy"),
        ("binary", "sigmoid_cross_entropy"),
        ("binary", "binary_cross_entropy"),
        ("regression", "mse"),
        ("regression", "mae"),
        ("regression", "huber"),
    ],
)
def test_every_loss_replays_bit_for_bit(task, loss, dtype):
    outputs = {"multiclass": 3, "binary": 1, "regression": 2}[task]

    def build():
        layers = [Dense(3, 8, rng=1), get_activation("tanh"), Dense(8, outputs, rng=2)]
        if loss == "binary_cross_entropy":
            layers.append(Sigmoid())
        return Sequential(*layers)

    _assert_same(build, task=task, dtype=dtype, loss=loss)


def test_checkpoint_and_resume_equal_an_uninterrupted_run(tmp_path):
    d = moons(n_samples=150, noise=0.2, seed=0)

    def trainer(capture):
        model = mlp([2, 8, 8, 2], batch_norm=True, keep_prob=0.8, seed=4)
        return Trainer(model, Adam(model.parameters(), lr=0.01), batch_size=BATCH, seed=1,
                       capture=capture)  # fmt: skip

    whole = trainer(True)
    whole.fit(d, epochs=6)
    first = trainer(True)
    first.fit(d, epochs=3)
    path = first.save_checkpoint(tmp_path)
    resumed = trainer(True)
    resumed.load_state_dict(load_state(path))
    resumed.fit(d, epochs=6)
    eager = trainer(False)
    eager.fit(d, epochs=6)
    assert resumed.capture.replays > 0
    for a, b, c in zip(
        whole.model.state_dict().values(),
        resumed.model.state_dict().values(),
        eager.model.state_dict().values(),
    ):
        assert np.array_equal(a, b) and np.array_equal(a, c)


class _Branching(Module):
    """Runs a different op depending on the data: a recording cannot stand for it."""

    capturable = True  # a false declaration: the recorder must catch it

    def __init__(self):
        super().__init__()
        self.dense = Dense(3, 3, rng=0)

    def forward(self, x):
        z = self.dense(x)
        return z * 2.0 if (x[0, 0] > 0).item() else z.exp()


class _Undeclared(_Branching):
    capturable = False


class _Alternating(_Branching):
    """Runs different ops on alternate calls (a Python counter the ops do not see)."""

    capturable = True  # false too: the second recording differs from the first

    def forward(self, x):
        counter = self.__dict__.setdefault("counter", {"calls": 0})
        counter["calls"] += 1
        z = self.dense(x)
        return z * 2.0 if counter["calls"] % 2 else z.exp()


class _DataConstant(Module):
    """Adds a constant computed from the data outside the ops."""

    capturable = True  # also false: the constant changes between batches

    def __init__(self):
        super().__init__()
        self.dense = Dense(3, 3, rng=0)

    def forward(self, x):
        return self.dense(x) + Tensor(x.data.mean(axis=0, keepdims=True))


class _Square(Function):  # not marked replayable
    def forward(self, a):
        self.a = a
        return a * a

    def backward(self, g):
        return (2 * g * self.a,)


class _CustomOp(Module):
    capturable = True

    def __init__(self):
        super().__init__()
        self.dense = Dense(3, 3, rng=0)

    def forward(self, x):
        return _Square.apply(self.dense(x))


@pytest.mark.parametrize(
    "module, reason",
    [
        (_Undeclared, "does not declare capturable"),
        (_Branching, "read a tensor's values in Python (a comparison)"),
        (_Alternating, "two recordings of the step differ"),
        (_DataConstant, "two recordings of the step differ"),
        (_CustomOp, "not marked replayable"),
    ],
)
def test_what_cannot_be_replayed_runs_eagerly_with_the_reason(module, reason):
    eager, eager_history = _train(module, "multiclass", np.float64, False, optimizer=GD)
    captured, captured_history = _train(module, "multiclass", np.float64, True, optimizer=GD)
    assert captured.capture.replays == 0
    assert reason in captured.capture.reason
    assert captured_history.column("train_cost") == eager_history.column("train_cost")
    for a, b in zip(eager.model.parameters(), captured.model.parameters()):
        assert np.array_equal(a.data, b.data)


def test_a_changed_setting_records_again():
    model = mlp([3, 8, 3], keep_prob=0.5, seed=0)
    X, y = _data("multiclass", np.float32)
    trainer = Trainer(model, Adam(model.parameters()), batch_size=N, seed=0)
    for _ in range(3):
        trainer.train_step(X, y)
    assert trainer.capture.replays == 1
    dropout = next(m for m in model.modules() if isinstance(m, Dropout))
    dropout.keep_prob = 0.9  # a new recording, not a replay with the old keep_prob
    trainer.train_step(X, y)
    assert trainer.capture.replays == 1 and len(trainer.capture.programs) == 2


def test_a_callable_loss_runs_eagerly():
    model = mlp([3, 4, 3], seed=0)
    trainer = Trainer(model, Adam(model.parameters()), loss=lambda z, y: (z * z).mean())
    assert trainer.capture.disabled and "capturable" in trainer.capture.reason


def test_a_model_cast_to_float64_records_again_and_bad_labels_still_raise():
    X, y = _data("multiclass", np.float32)
    runs = []
    for capture in (True, False):
        model = mlp([3, 8, 3], seed=0)
        trainer = Trainer(model, GD(model.parameters(), lr=0.1), batch_size=N, capture=capture)
        for _ in range(3):
            trainer.train_step(X, y)
        model.to(np.float64)  # new parameter dtypes: a new key, not a stale float32 replay
        for _ in range(3):
            trainer.train_step(X.astype(np.float64), y)
        runs.append(trainer)
    captured, eager = runs
    assert captured.capture.replays == 2  # one per dtype, after its two recordings
    for a, b in zip(captured.model.parameters(), eager.model.parameters()):
        assert a.data.dtype == np.float64 and np.array_equal(a.data, b.data)
    bad = y.copy()
    bad[0] = 7
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\), got 7"):
        captured.train_step(X.astype(np.float64), bad)  # replayed: the loss still checks


def test_a_pickled_trainer_records_again_and_goes_on_equal():
    import pickle

    X, y = _data("multiclass", np.float32)
    trainers = []
    for capture in (True, False):
        model = mlp([3, 8, 3], keep_prob=0.8, seed=0)
        trainer = Trainer(model, Adam(model.parameters()), batch_size=50, capture=capture)
        trainer.fit((X, y), epochs=3)
        trainer = pickle.loads(pickle.dumps(trainer))
        trainer.fit((X, y), epochs=6)
        trainers.append(trainer)
    captured, eager = trainers
    # 3 batches an epoch: 9 - 2 replays before pickling, 9 - 2 after its two new recordings
    assert captured.capture.replays == 7 + 7
    for a, b in zip(captured.model.parameters(), eager.model.parameters()):
        assert np.array_equal(a.data, b.data)
