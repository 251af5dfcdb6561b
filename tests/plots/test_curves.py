"""Learning curves: one drawing of the train/dev panels for curves.png, LivePlot and HTML."""

import math

import numpy as np
from matplotlib.figure import Figure

from honed.plots.curves import curves_png, draw_train_dev, plot_curves
from honed.train.metrics import History


def _history(dev=True):
    epochs = [
        {
            "epoch": e,
            "train_cost": 1.0 / e,
            "train_error": 0.5 / e,
            "dev_cost": (1.5 / e if dev and e != 2 else None),  # epoch 2: no dev measured
            "dev_error": (0.6 / e if dev and e != 2 else None),
            "lr": 0.1 if e < 3 else 0.01,
        }
        for e in (1, 2, 3, 4)
    ]
    events = [{"event": "lr", "epoch": 2, "value": 0.01}] if dev else []
    if dev:
        events.append({"event": "early_stop", "best_epoch": 3})
    return History(epochs, events)


def test_train_and_dev_panels_hold_the_history_with_gaps_where_dev_was_not_measured():
    fig = Figure()
    cost, error = fig.subplots(1, 2)
    draw_train_dev((cost, error), _history())
    for ax, train, dev in ((cost, 1.0, 1.5), (error, 0.5, 0.6)):
        (t, d) = ax.get_lines()
        assert (t.get_label(), d.get_label()) == ("train", "dev")
        assert list(t.get_xdata()) == [1, 2, 3, 4]
        assert np.allclose(t.get_ydata(), [train / e for e in (1, 2, 3, 4)])
        ys = d.get_ydata()
        assert math.isnan(ys[1]) and np.allclose(ys[[0, 2, 3]], [dev, dev / 3, dev / 4])
    assert (cost.get_ylabel(), error.get_ylabel()) == ("cost J", "error")


def test_no_dev_line_when_no_dev_set_was_measured():
    fig = Figure()
    axes = fig.subplots(1, 2)
    draw_train_dev(axes, _history(dev=False))
    assert [[line.get_label() for line in ax.get_lines()] for ax in axes] == [["train"]] * 2


def test_curves_png_and_curves_file(tmp_path):
    png = curves_png(_history(), "title")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    path = plot_curves(_history(), tmp_path / "run" / "curves.png", title="run")
    assert path == tmp_path / "run" / "curves.png" and path.read_bytes()[:4] == b"\x89PNG"
