"""LivePlot: curves as PNG; in place in a notebook (tests/test_notebooks.py), silent elsewhere."""

import numpy as np

from honed.nn import mlp
from honed.optim import Adam
from honed.plots.curves import curves_png
from honed.train import LivePlot, Trainer
from honed.train.live import in_notebook


def _fit(verbose, callbacks=()):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    model = mlp([2, 4, 2], output="softmax", seed=0)
    trainer = Trainer(model, Adam(model.parameters(), lr=0.05), batch_size=16, callbacks=callbacks)
    trainer.fit((X, y), (X, y), epochs=3, verbose=verbose)
    return trainer


def test_curves_png_draws_train_and_dev():
    png = curves_png(_fit(0).history, "title")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_outside_a_notebook_it_draws_nothing_and_verbose_2_prints_epochs(capsys):
    assert not in_notebook()
    live = LivePlot()
    _fit(0, callbacks=[live])
    assert live.updates == 0 and live.handle is None
    trainer = _fit(2)
    assert "3/3" in capsys.readouterr().out
    assert not any(isinstance(cb, LivePlot) for cb in trainer.callbacks)  # this fit's only
