"""Helpers shared by the lab's experiments (figures of runs, accuracy tables)."""

from __future__ import annotations

import time

import numpy as np

from honed.lab.base import LabResult, all_checks, mean_sd, png
from honed.plots.figure import pyplot


def accuracies(runs, key: str) -> list[float]:
    """1 − error of ``key`` (train/test/dev) for each run."""
    return [1.0 - r.errors[key] for r in runs]


def thin(curve, points: int = 400):
    """Every k-th value so a 30 000-epoch curve is drawn (and stored) with ~``points``."""
    curve = np.asarray(curve, dtype=float)
    step = max(1, len(curve) // points)
    return np.arange(1, len(curve) + 1)[::step], curve[::step]


def cost_figure(results, title: str, key: str = "train_cost", log_y: bool = True):
    """Overlaid cost curves (mean ± sd over seeds) of ``{variant: [Run]}``."""
    from honed.plots.overlay import draw_runs

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for_plot, x = {}, None
    for name, runs in results.items():
        curves = []
        for r in runs:
            x, y = thin(r.column(key))
            curves.append(y)
        for_plot[name] = curves
    draw_runs(ax, for_plot, ylabel=key.replace("_", " "), log_y=log_y, x=x)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def boundary_figure(results, data, title: str):
    """The decision boundaries of ``{variant: [Run]}``: a grid, variant × seed (the first
    five seeds), each model drawn on its own seed's data, ``data(seed) -> (train, test)``."""
    from honed.plots.boundary import plot_boundary_grid

    grid = {name: [(r.model, *data(r.seed)) for r in runs[:5]] for name, runs in results.items()}
    return plot_boundary_grid(grid, title=title)


def cost_and_boundaries(results, cost_title: str, data, boundary_title: str) -> dict:
    """The two figures of an experiment on 2-D data, as PNG bytes: ``"cost"``
    (:func:`cost_figure`) and ``"boundaries"`` (:func:`boundary_figure` with ``data``)."""
    return {
        "cost": png(cost_figure(results, cost_title)),
        "boundaries": png(boundary_figure(results, data, boundary_title)),
    }


def two_d_result(results, titles: tuple[str, str], data, checks, started: float, **fields):
    """The :class:`LabResult` of an experiment on 2-D data (init, optimizers, regularization):
    its figures (:func:`cost_and_boundaries`, ``titles`` = the cost's and the boundaries'),
    the verdict of its ``checks``, the seconds since ``started`` (``time.perf_counter()``),
    and ``fields``, the rest of the result (name, claim, settings, rows, ...)."""
    figures = cost_and_boundaries(results, titles[0], data, titles[1])
    seconds = time.perf_counter() - started
    return LabResult(figures=figures, verdict=all_checks(checks), seconds=seconds, **fields)


def spread(values) -> str:
    m, sd = mean_sd(values)
    return f"{100 * m:.1f} ± {100 * sd:.1f}%"
