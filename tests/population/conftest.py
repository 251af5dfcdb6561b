"""Tiny data and a standalone-run helper shared by the population tests."""

import numpy as np
import pytest

from honed.nn import mlp
from honed.optim import OPTIMIZERS
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
    return train_alone(model, member, train, dev, epochs, batch_size, seed, loss, **kw)


def train_alone(model, member: dict, train, dev, epochs, batch_size, seed, loss, **kw):
    """``model`` trained alone by honed's Trainer with the member's optimizer (its declared
    defaults for what the member leaves out), penalties and ``Trainer(seed=seed)``."""
    kind = member.get("optimizer", "adam")
    args = {k: v for k, v in member.items() if k in ("beta", "beta1", "beta2", "eps")}
    opt = OPTIMIZERS.get(kind)(model.parameters(), lr=member["lr"], **args)
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
    history = trainer.fit(train, dev, epochs=epochs, verbose=0)
    return model, history


def max_relative_difference(a: dict, b: dict) -> float:
    """max over arrays of max|a − b| / max|a|."""
    assert a.keys() == b.keys()
    return max(float(np.max(np.abs(a[n] - b[n])) / (np.max(np.abs(a[n])) + 1e-300)) for n in a)
