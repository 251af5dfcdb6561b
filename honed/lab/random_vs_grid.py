"""random-vs-grid: with equal budgets, random search tries more values of what matters.

The notes: don't use a grid. With a 3 × 3 grid over α and an unimportant hyperparameter (the
notes' example: Adam's ε), only 3 distinct values of α are ever tried; 9 random points try 9.
Since one rarely knows in advance which hyperparameter matters, random search explores the
important one far better at the same cost.

Setup: tune α (log scale, 1e-4..1) and Adam's ε (log scale, 1e-8..1e-4, unimportant) of a
``[2, 10, 5, 1]`` ReLU network on moons (300 training, 300 dev points), Adam, full batch,
100 epochs; budget 9 trials per search, honed's GridSampler and RandomSampler, one study per
seed (the seed draws the random points, the data and the weights). Verdict: the grid tries
√budget distinct α values and random search `budget` in every seed, and random search's best
dev error is no worse than the grid's by more than 1 point, seed by seed (paired: the same
data and weights per seed; :mod:`honed.lab.base`'s rule).
"""

from __future__ import annotations

import time

import numpy as np

from honed.data import moons
from honed.lab.base import LabResult, all_checks, mean_sd, paired, png, seeds_list
from honed.lab.common import pyplot
from honed.lab.runner import Spec, train_variants
from honed.tune.samplers import GridSampler, RandomSampler
from honed.tune.space import LogUniform, SearchSpace

NAME = "random-vs-grid"
CLAIM = "with equal budgets, random search tries more distinct values of the important hyperparameter and finds at least as good a one"
DEFAULTS = {
    "budget": 9,
    "lr": [1e-4, 1.0],
    "eps": [1e-8, 1e-4],
    "sizes": [2, 10, 5, 1],
    "epochs": 100,
    "data": {"n_samples": 300, "test_samples": 300, "noise": 0.2},
}
QUICK = {"epochs": 40}


def run(seeds=5, quick: bool = False, **overrides) -> LabResult:
    s = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    seeds = seeds_list(seeds)
    started = time.perf_counter()
    space = SearchSpace({"lr": LogUniform(*s["lr"]), "eps": LogUniform(*s["eps"])})
    samplers = {"grid": GridSampler(budget=s["budget"]), "random": RandomSampler()}
    m = {
        name: {"distinct_lr": [], "best_dev_error": [], "best_lr": [], "trials": []}
        for name in samplers
    }
    for seed in seeds:
        train, dev = moons(seed=seed, **s["data"])
        for name, sampler in samplers.items():
            points = [sampler.sample(i, space, seed, []) for i in range(s["budget"])]
            specs = [
                Spec(
                    f"{name}{i}",
                    s["sizes"],
                    optimizer="adam",
                    lr=p["lr"],
                    optimizer_args={"eps": p["eps"]},
                    epochs=s["epochs"],
                )
                for i, p in enumerate(points)
            ]
            runs = train_variants(specs, [seed], {"train": train, "dev": dev})
            errs = [runs[sp.name][0].errors["dev"] for sp in specs]
            k = int(np.nanargmin(errs))
            m[name]["distinct_lr"].append(len({round(p["lr"], 12) for p in points}))
            m[name]["best_dev_error"].append(errs[k])
            m[name]["best_lr"].append(points[k]["lr"])
            m[name]["trials"].append([[p["lr"], p["eps"], e] for p, e in zip(points, errs)])
    rows = [
        [
            n,
            mean_sd(v["distinct_lr"]),
            mean_sd(v["best_dev_error"]),
            mean_sd(np.log10(v["best_lr"])),
        ]
        for n, v in m.items()
    ]
    k = int(round(s["budget"] ** 0.5))
    checks = [
        (all(d == k for d in m["grid"]["distinct_lr"]), f"grid: {k} distinct α in every seed"),
        (
            all(d == s["budget"] for d in m["random"]["distinct_lr"]),
            f"random: {s['budget']} distinct α in every seed",
        ),
        paired(
            m["grid"]["best_dev_error"],
            m["random"]["best_dev_error"],
            "random's best dev error no worse than grid's by 1 point",
            margin=-0.01,
        ),
    ]
    return LabResult(
        name=NAME,
        claim=CLAIM,
        settings=s,
        columns=["search", "distinct α", "best dev error", "log10 best α"],
        rows=rows,
        measurements=m,
        figures={"trials": png(_figure(m))},
        verdict=all_checks(checks),
        seeds=seeds,
        seconds=time.perf_counter() - started,
        percent=("best dev error",),
        notes="the notes give the argument (a 5 × 5 grid tries 5 values of α, 25 random points try 25), no numbers",
    )


def _figure(m):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name, colour in (("grid", "tab:blue"), ("random", "tab:orange")):
        t = np.array(m[name]["trials"][0])
        axes[0].scatter(t[:, 0], t[:, 1], label=name, color=colour, s=30, alpha=0.8)
        for trials in m[name]["trials"]:
            t = np.array(trials)
            axes[1].scatter(t[:, 0], t[:, 2], color=colour, s=12, alpha=0.6, label=None)
        axes[1].scatter([], [], color=colour, label=name)
    axes[0].set(
        xscale="log",
        yscale="log",
        xlabel="α (important)",
        ylabel="Adam ε (unimportant)",
        title="the 9 points tried (seed 0)",
    )
    axes[1].set(
        xscale="log", xlabel="α", ylabel="dev error", title="dev error of every trial, all seeds"
    )
    for ax in axes:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
