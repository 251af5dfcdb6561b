"""Several runs' learning curves overlaid, each variant as mean ± sd over its seeds."""

from __future__ import annotations

import numpy as np

from honed.plots.figure import finish, pyplot

_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def draw_runs(ax, curves, xlabel="epoch", ylabel="", log_y=False, x=None, band=True):
    """Draw ``{label: [curve per seed]}`` on ``ax``: the mean line and a ±1 sd band.

    Curves of one label may have different lengths (a run stopped early or diverged): the
    mean at epoch e is over the seeds that reached e; NaN values are skipped.
    """
    for i, (label, runs) in enumerate(curves.items()):
        runs = [np.asarray(r, dtype=float) for r in runs if len(r)]
        if not runs:
            continue
        n = max(len(r) for r in runs)
        stack = np.full((len(runs), n), np.nan)
        for k, r in enumerate(runs):
            stack[k, : len(r)] = r
        with np.errstate(invalid="ignore"), _quiet():
            mean = np.nanmean(stack, axis=0)
            sd = np.nanstd(stack, axis=0, ddof=1) if len(runs) > 1 else np.zeros(n)
        xs = np.arange(1, n + 1) if x is None else np.asarray(x)[:n]
        colour = _COLOURS[i % len(_COLOURS)]
        ax.plot(xs, mean, color=colour, lw=1.5, label=f"{label} (n={len(runs)})")
        if band and len(runs) > 1:
            lo, hi = mean - sd, mean + sd
            if log_y:
                lo = np.where(lo > 0, lo, np.nan)
            ax.fill_between(xs, lo, hi, color=colour, alpha=0.2, lw=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log_y:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_runs(curves, ylabel="cost", title=None, path=None, log_y=False, xlabel="epoch"):
    """A figure of overlaid curves with seed bands (see :func:`draw_runs`).

    Returns the figure, or writes a PNG to ``path`` and returns the path.
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    draw_runs(ax, curves, xlabel=xlabel, ylabel=ylabel, log_y=log_y)
    if title:
        ax.set_title(title)
    return finish(fig, path)


class _quiet:
    """Silence 'Mean of empty slice' (an epoch no seed reached is NaN, and that is fine)."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        self._w.__exit__(*exc)
