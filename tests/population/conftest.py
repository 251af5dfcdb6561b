"""Tiny data and a standalone-run helper shared by the population tests."""

import numpy as np
import pytest

from honed.nn import mlp
from honed.optim import GD, Adam, Momentum, RMSprop
from honed.train import Trainer


def blobs3(m: int, seed: int):
    """Three classes in 4-D: a nonlinear rule, float64 features."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, 4))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(np.int64) + (X[:, 2] > 0)
    return X, y


@pytest.fixture
def data3():
    return blobs3(150, 0), blobs3(40, 1)


def standalone(arch: dict, member: dict, train, dev, epochs, batch_size, seed, loss, **kw):
    """The same member trained alone by honed's own Trainer, in float64."""
    model = mlp(
        arch["sizes"],
        activation=arch.get("activation", "relu"),
        batch_norm=arch.get("batch_norm", False),
        keep_prob=member.get("keep_prob", 1.0),
        init=member.get("init"),
        scale=member.get("init_scale", 1.0),
        seed=member["seed"],
    ).to(np.float64)
    kind = member.get("optimizer", "adam")
    p = model.parameters()
    if kind == "adam":
        opt = Adam(
            p,
            lr=member["lr"],
            beta1=member.get("beta1", 0.9),
            beta2=member.get("beta2", 0.999),
            eps=member.get("eps", 1e-8),
        )
    elif kind == "momentum":
        opt = Momentum(p, lr=member["lr"], beta=member.get("beta", 0.9))
    elif kind == "rmsprop":
        opt = RMSprop(p, lr=member["lr"], beta2=member.get("beta2", 0.999))
    else:
        opt = GD(p, lr=member["lr"])
    trainer = Trainer(
        model,
        opt,
        loss=loss,
        batch_size=batch_size,
        l1=member.get("l1", 0.0),
        l2=member.get("l2", 0.0),
        seed=seed,
        **kw,
    )
    history = trainer.fit(train, dev, epochs=epochs)
    return model, history


def max_relative_difference(a: dict, b: dict) -> float:
    """max over arrays of max|a − b| / max|a|."""
    assert a.keys() == b.keys()
    return max(float(np.max(np.abs(a[n] - b[n])) / (np.max(np.abs(a[n])) + 1e-300)) for n in a)
