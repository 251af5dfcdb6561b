"""Figures of a tuning study: the search results on each hyperparameter's own scale.

``plot_study(study, path)`` draws one panel per hyperparameter (dev error against its
value) and one of the best value so far against the trial number.

* log-uniform parameters get a log x-axis;
* one-minus-log parameters (β) are drawn on a log axis of ``1 - β``, reversed so β grows
  to the right, with the ticks labelled in β (0.9, 0.99, 0.999) -- the notes' point that
  0.9 → 0.99 is as big a step as 0.99 → 0.999;
* choices are drawn at their index, labelled with their values;
* for a coarse-to-fine study, each later stage's box is shaded on every panel;
* failed and diverged trials are marked with a red × along the top edge, pruned ones
  drawn hollow at their last reported value;
* a point's colour is its trial number (the colour bar beside each panel); each axis
  reaches a little past the search range, so trials on its ends are drawn whole.

matplotlib is imported inside the function and renders with Agg (no pyplot), so importing this
module costs nothing and works without a display.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

__all__ = ["plot_study", "study_figure"]


def _x_of(dist: Any, value: Any) -> float:
    """Where a value sits on its panel's x-axis."""
    kind = dist.kind
    if kind == "one_minus_log":
        return 1.0 - float(value)
    if kind == "choice":
        return dist.to_internal(value)
    return float(value)


def _x_of_internal(dist: Any, u: float) -> float:
    """Where an internal-scale coordinate (a zoom box edge) sits on the x-axis."""
    kind = dist.kind
    if kind in ("log", "log_int", "one_minus_log"):
        return 10.0**u  # for one_minus_log, 10**u is 1 - β
    return u


def _log_y(ax) -> None:
    """A log y-axis labelled in plain numbers (0.1, 0.2) on its major ticks only.

    Matplotlib's default labels every tick of a short log range in mathtext, whose layout
    was most of the time of a report on a large study.
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _padded(lo: float, hi: float, log: bool, pad: float = 0.04) -> tuple[float, float]:
    """The range ``[lo, hi]`` widened by ``pad`` of its width at each end (on a log axis,
    of its width in decades), so points on a range end are drawn whole."""
    if log:
        a, b = math.log10(lo), math.log10(hi)
        return 10.0 ** (a - pad * (b - a)), 10.0 ** (b + pad * (b - a))
    return lo - pad * (hi - lo), hi + pad * (hi - lo)


def plot_study(study: Any, path: str | os.PathLike, title: str | None = None) -> str:
    """Write a PNG of ``study`` (a ``honed.tune.Study``) to ``path``; returns the path."""
    fig = study_figure(study, title)
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, format="png")
    return path


def study_figure(study: Any, title: str | None = None):
    """The matplotlib ``Figure`` that ``plot_study`` writes."""
    # A bare Figure renders with Agg and never touches pyplot's global backend, so this
    # works headless and does not disturb a notebook's backend.
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    trials = study.trials
    space = study.space
    names = list(space) or sorted({n for t in trials for n in t.params})
    sign = 1.0 if study.direction == "minimize" else -1.0
    ok = [t for t in trials if t.state == "complete" and t.value is not None]
    pruned = [t for t in trials if t.state == "pruned" and t.value is not None]
    bad = [t for t in trials if t.state in ("failed", "diverged")]
    boxes = study.zoom_boxes() if hasattr(study, "zoom_boxes") else []

    n_panels = len(names) + 1
    ncols = min(3, n_panels)
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.4 * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    flat = axes.ravel()
    values = [t.value for t in ok + pruned]
    ylog = bool(values) and min(values) > 0 and max(values) / min(values) > 100
    best = min(ok, key=lambda t: sign * t.value) if ok else None

    for ax, name in zip(flat, names):
        dist = space.get(name) if name in space else None
        if dist is None:  # define-by-run parameter not declared in the space
            xs = [t.params[name] for t in ok if name in t.params]
            ax.scatter(xs, [t.value for t in ok if name in t.params], s=14)
            ax.set_xlabel(name)
            continue
        for s, box in enumerate(boxes[1:], start=1):
            lo, hi = (_x_of_internal(dist, u) for u in box[name])
            ax.axvspan(min(lo, hi), max(lo, hi), color=f"C{s}", alpha=0.12, label=f"stage {s} box")
        # float arrays, not lists: matplotlib converts a list of 10 000 numbers one by one
        tx = np.array([_x_of(dist, t.params[name]) for t in ok if name in t.params], float)
        ty = np.array([t.value for t in ok if name in t.params], float)
        points = ax.scatter(
            tx,
            ty,
            s=16,
            c=np.array([t.number for t in ok if name in t.params], float),
            cmap="viridis",
            vmin=0,
            vmax=max(1, len(trials) - 1),  # one scale on every panel
            label="complete",
        )
        # the colour says when a trial ran (a coarse-to-fine study moves in on the best)
        bar = fig.colorbar(points, ax=ax, fraction=0.06, pad=0.02)
        bar.set_label("trial number", fontsize=7)
        bar.ax.tick_params(labelsize=7)
        if pruned:
            ax.scatter(
                [_x_of(dist, t.params[name]) for t in pruned if name in t.params],
                [t.value for t in pruned if name in t.params],
                s=16,
                facecolors="none",
                edgecolors="grey",
                label="pruned",
            )
        if best is not None and name in best.params:
            ax.scatter(
                [_x_of(dist, best.params[name])],
                [best.value],
                s=90,
                marker="*",
                color="red",
                zorder=5,
                label="best",
            )
        if bad:
            bx = [_x_of(dist, t.params[name]) for t in bad if name in t.params]
            ax.scatter(
                bx,
                [1.0] * len(bx),
                marker="x",
                color="red",
                transform=ax.get_xaxis_transform(),
                clip_on=False,
                label="failed/diverged",
            )
        kind = dist.kind
        if kind != "choice":  # show the whole search range, not just where trials fell
            ends = [_x_of_internal(dist, u) for u in dist.internal_bounds]
            log = kind in ("log", "log_int", "one_minus_log")
            ax.set_xlim(*_padded(min(ends), max(ends), log))
        else:
            ax.set_xlim(-0.5, len(dist.choices) - 0.5)
        if kind in ("log", "log_int"):
            ax.set_xscale("log")
            ax.set_xlabel(f"{name} (log scale)")
        elif kind == "one_minus_log":
            ax.set_xscale("log")
            ax.invert_xaxis()  # β grows to the right
            lo, hi = dist.internal_bounds
            decades = range(math.floor(lo), math.ceil(hi) + 1)
            ax.xaxis.set_major_locator(FixedLocator([10.0**d for d in decades]))
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{1 - x:.10g}"))
            ax.set_xlabel(f"{name} (log scale of 1-β)")
        elif kind == "choice":
            ax.set_xticks(range(len(dist.choices)))
            ax.set_xticklabels([str(c) for c in dist.choices])
            ax.set_xlabel(name)
        else:
            ax.set_xlabel(name)
        if ylog:
            _log_y(ax)
        ax.set_ylabel(study.value_name if study.direction == "minimize" else "value")
        ax.grid(alpha=0.3)

    ax = flat[len(names)]
    if trials:
        run_best, cur = [], math.inf
        xs = []
        for t in trials:
            if t.state == "complete" and t.value is not None:
                cur = min(cur, sign * t.value)
            if math.isfinite(cur):
                xs.append(t.number)
                run_best.append(sign * cur)
        ax.scatter(
            np.array([t.number for t in ok], float),
            np.array([t.value for t in ok], float),
            s=10,
            color="grey",
            alpha=0.6,
            label="trial",
        )
        ax.step(xs, run_best, where="post", color="C3", label="best so far")
        if len(boxes) > 1 and getattr(study.sampler, "stage_starts", None):
            for start in study.sampler.stage_starts()[1:]:
                ax.axvline(start - 0.5, color="k", ls="--", lw=0.8)
        if ylog:
            _log_y(ax)
        ax.legend(fontsize=7, loc="upper right")
    ax.set_xlabel("trial number")
    ax.set_ylabel("best so far")
    ax.grid(alpha=0.3)
    for extra in flat[n_panels:]:
        extra.set_visible(False)
    if names:
        handles, labels = flat[0].get_legend_handles_labels()
        if handles:
            flat[0].legend(fontsize=7, loc="upper right")  # "best" scans every point
    counts = study.summary() if hasattr(study, "summary") else {}
    sub = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    fig.suptitle(title or f"study {getattr(study, 'name', '')}: {sub}", fontsize=10)
    fig.tight_layout()
    return fig
