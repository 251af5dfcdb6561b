"""One meaning of predict (labels), logits and probabilities on request; progress by default."""

import re

import numpy as np
import pytest

from honed.nn import mlp
from honed.optim import Adam
from honed.train import History, ProgressBar, Trainer


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 1, (60, 2)), rng.normal(2, 1, (60, 2))])
    y = np.repeat([0, 1], 60)
    return X.astype(np.float32), y


def _trainer(output="softmax", loss="softmax_cross_entropy", n_out=2):
    model = mlp([2, 8, n_out], output=output, seed=0)
    return Trainer(model, Adam(model.parameters(), lr=0.05), loss=loss, batch_size=32)


def test_predict_gives_labels_as_model_and_run_predict(blobs):
    X, y = blobs
    trainer = _trainer()
    trainer.fit((X, y), epochs=20, verbose=0)
    logits = trainer.predict_logits(X)
    assert logits.shape == (120, 2)
    np.testing.assert_array_equal(trainer.predict(X), logits.argmax(axis=1))
    np.testing.assert_array_equal(trainer.predict(X), trainer.model.predict(X))
    proba = trainer.predict_proba(X)
    np.testing.assert_allclose(proba, trainer.model.predict_proba(X), rtol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (trainer.predict(X) == y).mean() > 0.95


def test_one_sigmoid_unit(blobs):
    X, y = blobs
    trainer = _trainer(output="sigmoid", loss="sigmoid_cross_entropy", n_out=1)
    trainer.fit((X, y), epochs=20, verbose=0)
    z = trainer.predict_logits(X)[:, 0]
    np.testing.assert_array_equal(trainer.predict(X), (z > 0).astype(int))
    np.testing.assert_allclose(trainer.predict_proba(X)[:, 0], 1 / (1 + np.exp(-z)), rtol=1e-6)


def test_regression_predicts_values():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]))[:, None]
    model = mlp([3, 1], seed=0)
    trainer = Trainer(model, Adam(model.parameters(), lr=0.01), loss="mse", batch_size=10)
    trainer.fit((X, y), epochs=2, verbose=0)
    np.testing.assert_array_equal(trainer.predict(X), trainer.predict_logits(X))
    with pytest.raises(ValueError, match="predict_proba needs a classification loss"):
        trainer.predict_proba(X)


def test_fit_shows_progress_by_default_and_verbose_zero_silences(blobs, capsys):
    X, y = blobs
    trainer = _trainer()
    trainer.fit((X, y), epochs=2)
    out = capsys.readouterr().out
    assert re.findall(r"epoch +(\d)/2", out) == ["1", "2"]  # a line per epoch (no terminal)
    trainer.fit((X, y), epochs=3, verbose=0)
    assert capsys.readouterr().out == ""
    assert not any(isinstance(cb, ProgressBar) for cb in trainer.callbacks)
    # a ProgressBar of the caller's own is the only one shown
    own = _trainer()
    own.callbacks.append(ProgressBar(verbose=1))
    own.fit((X, y), epochs=1)
    assert len(re.findall(r"epoch +1/1", capsys.readouterr().out)) == 1
    with pytest.raises(ValueError, match="verbose"):
        own.fit((X, y), epochs=2, verbose=-1)


def test_history_last_as_users_write_it():
    h = History()
    assert h.last == {} and h.last() == {} and h.last("dev_error") is None
    h.append({"epoch": 1, "dev_error": 0.25})
    assert h.last["dev_error"] == 0.25
    assert h.last()["dev_error"] == 0.25
    assert h.last("dev_error") == 0.25
    assert h.last.get("lr", 0.1) == 0.1 and h.last("lr", 0.1) == 0.1
