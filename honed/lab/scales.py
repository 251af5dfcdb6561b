"""scales: sample α on a log scale and β on the 1−β scale, not uniformly.

The notes: for α in [0.0001, 1], uniform sampling puts 90 % of the draws in [0.1, 1];
``r = −4·rand(), α = 10^r`` gives each decade the same share. For β in [0.9, 0.999], what
matters is 1−β (β = 0.999 → 0.9995 changes the averaging window from 1000 to 2000 values,
0.9 → 0.9005 barely anything): sample ``r`` in [−3, −1] and ``β = 1 − 10^r``.

Setup: 1000 draws per seed from honed's ``Uniform``, ``LogUniform`` and
``OneMinusLogUniform`` distributions. Verdict: uniform α puts > 85 % of the draws in the top
decade while log α puts 25 ± 5 % in each of the four; uniform β puts < 15 % in [0.99, 0.999]
while the 1−β scale puts 50 ± 5 % there (mean over seeds).
"""

from __future__ import annotations

import time

import numpy as np

from honed.lab.base import LabResult, all_checks, mean_sd, png, seeds_list
from honed.lab.common import pyplot
from honed.tune.space import LogUniform, OneMinusLogUniform, Uniform

NAME = "scales"
CLAIM = "α uniform wastes 90% of draws on [0.1, 1]; a log scale spreads them per decade; β likewise on the 1−β scale"
DEFAULTS = {"draws": 1000, "alpha": [1e-4, 1.0], "beta": [0.9, 0.999]}
QUICK: dict = {}
DECADES = [(1e-4, 1e-3), (1e-3, 1e-2), (1e-2, 1e-1), (1e-1, 1.0)]
BETA_BINS = [(0.9, 0.99), (0.99, 0.999)]


def _share(x, lo, hi):
    return float(((x >= lo) & (x <= hi)).mean())


def run(seeds=5, quick: bool = False, **overrides) -> LabResult:
    s = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    seeds = seeds_list(seeds)
    started = time.perf_counter()
    dists = {
        "α uniform": (Uniform(*s["alpha"]), DECADES),
        "α log scale": (LogUniform(*s["alpha"]), DECADES),
        "β uniform": (Uniform(*s["beta"]), BETA_BINS),
        "β on 1−β scale": (OneMinusLogUniform(*s["beta"]), BETA_BINS),
    }
    m, draws0 = {}, {}
    for name, (dist, bins) in dists.items():
        shares = {f"[{lo:g}, {hi:g}]": [] for lo, hi in bins}
        for seed in seeds:
            rng = np.random.default_rng(seed)
            x = np.array([dist.sample(rng) for _ in range(s["draws"])])
            draws0.setdefault(name, x)
            for (lo, hi), key in zip(bins, shares):
                shares[key].append(_share(x, lo, hi))
        m[name] = shares
    rows = [[name, key, mean_sd(v)] for name, shares in m.items() for key, v in shares.items()]
    top = lambda name, i: mean_sd(list(m[name].values())[i])[0]  # noqa: E731
    log_shares = [top("α log scale", i) for i in range(4)]
    checks = [
        (
            top("α uniform", 3) > 0.85,
            f"α uniform: {100 * top('α uniform', 3):.1f}% of draws in [0.1, 1] (> 85%)",
        ),
        (
            all(abs(x - 0.25) < 0.05 for x in log_shares),
            f"α log scale: per decade {[round(100 * x, 1) for x in log_shares]}% (each 25 ± 5%)",
        ),
        (
            top("β uniform", 1) < 0.15,
            f"β uniform: {100 * top('β uniform', 1):.1f}% in [0.99, 0.999] (< 15%)",
        ),
        (
            abs(top("β on 1−β scale", 1) - 0.5) < 0.05,
            f"β on 1−β scale: {100 * top('β on 1−β scale', 1):.1f}% in [0.99, 0.999] (50 ± 5%)",
        ),
    ]
    return LabResult(
        name=NAME,
        claim=CLAIM,
        settings=s,
        columns=["sampling", "range", "share of draws"],
        rows=rows,
        measurements=m,
        figures={"draws": png(_figure(draws0))},
        verdict=all_checks(checks),
        seeds=seeds,
        seconds=time.perf_counter() - started,
        percent=("share of draws",),
        notes="the notes: uniform sampling of α in [0.0001, 1] spends 90% of the resources on [0.1, 1]",
    )


def _figure(draws):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
    _draw_panel(
        axes[0],
        [draws["α uniform"], draws["α log scale"]],
        ["log scale", "uniform"],
        "α",
        "200 draws of α: where they fall",
        jitter_seed=0,
    )
    _draw_panel(
        axes[1],
        [1 - draws["β uniform"], 1 - draws["β on 1−β scale"]],
        ["1−β scale", "uniform"],
        "1 − β",
        "200 draws of β, shown as 1 − β",
        jitter_seed=1,
    )
    for ax in axes:
        ax.grid(alpha=0.3, axis="x")
        for edge in (1e-3, 1e-2, 1e-1):
            ax.axvline(edge, color="gray", lw=0.8, ls=":")
    fig.tight_layout()
    return fig


def _draw_panel(ax, rows, labels, xlabel: str, title: str, jitter_seed: int) -> None:
    """200 draws of each of ``rows`` (uniform first, drawn at height 1; the scaled one at
    0) as ticks on a log axis, jittered vertically so that dense stretches show."""
    for values, y in zip(rows, (1, 0)):
        # A stream of its own: with the draws' seed (0, 1) the jitter would be the draws' own
        # uniforms, and the ticks would climb with α instead of scattering.
        jitter = np.random.default_rng([7, jitter_seed]).uniform(-0.2, 0.2, 200)
        ax.plot(values[:200], np.full(200, y) + jitter, "|", ms=10)
    ax.set(xscale="log", yticks=[0, 1], yticklabels=labels, xlabel=xlabel, title=title)
