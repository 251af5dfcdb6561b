"""lr-decay: decaying α lets mini-batch gradient descent settle instead of wandering.

The notes: with mini-batches the steps are noisy and, at a fixed α, wander around the
minimum without converging; slowly lowering α makes the steps smaller near the end, so the
iterates oscillate in a tighter region. Schedules of the notes (epoch counted from 0):
``α₀/(1 + decay_rate·epoch)``, ``0.95^epoch·α₀`` (any base), ``k/√epoch·α₀`` and a discrete
staircase.

Setup: the schedules previewed over 300 epochs, then moons (300 points, noise 0.2, 300 test
points), a ``[2, 10, 5, 1]`` ReLU network, mini-batch GD (batch 32), α₀ = 0.5, 300 epochs,
once per schedule and seed. Wander is the mean |ΔJ| between consecutive epochs over the last
20 % of epochs. Verdict, seed by seed (paired: a seed's data and initial weights are the same
for every schedule; :mod:`honed.lab.base`'s rule): every decaying schedule wanders less than
the constant rate, and its final test accuracy is no worse than the constant rate's by more
than 3 points.
"""

from __future__ import annotations

import time

import numpy as np

from honed.data import moons
from honed.lab.base import LabResult, all_checks, mean_sd, paired, png, seeds_list
from honed.lab.common import accuracies, cost_figure, pyplot
from honed.lab.runner import Spec, train_variants
from honed.optim import constant, exponential, inverse_sqrt, inverse_time, staircase

NAME = "lr-decay"
CLAIM = "decaying the learning rate lets mini-batch gradient descent settle (less wander, same accuracy)"
DEFAULTS = {
    "data": {"n_samples": 300, "test_samples": 300, "noise": 0.2},
    "sizes": [2, 10, 5, 1],
    "lr": 0.5,
    "batch_size": 32,
    "epochs": 300,
    "decay_rate": 0.05,
    "base": 0.99,
    "k": 1.0,
    "factor": 0.5,
    "every": 75,
}
QUICK = {"epochs": 120, "every": 30, "decay_rate": 0.1, "base": 0.97}


def schedules(s):
    lr = s["lr"]
    return {
        "constant": constant(lr),
        f"1/(1+{s['decay_rate']}·epoch)": inverse_time(lr, decay_rate=s["decay_rate"]),
        f"{s['base']}^epoch": exponential(lr, base=s["base"]),
        f"{s['k']}/√epoch": inverse_sqrt(lr, k=s["k"]),
        f"staircase ×{s['factor']}/{s['every']}": staircase(
            lr, factor=s["factor"], every=s["every"]
        ),
    }


def wander(costs, tail: float = 0.2) -> float:
    c = np.asarray(costs, dtype=float)
    last = c[-max(2, int(len(c) * tail)) :]
    return float(np.abs(np.diff(last)).mean())


def run(seeds=5, quick: bool = False, **overrides) -> LabResult:
    s = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    seeds = seeds_list(seeds)
    started = time.perf_counter()
    scheds = schedules(s)
    specs = [
        Spec(name, s["sizes"], lr=sched, epochs=s["epochs"], batch_size=s["batch_size"])
        for name, sched in scheds.items()
    ]

    def data(seed):
        train, test = moons(seed=seed, **s["data"])
        return {"train": train, "test": test}

    results = train_variants(specs, seeds, data)
    rows, m = [], {}
    for name, runs in results.items():
        w = [wander(r.column("train_cost")) for r in runs]
        te = accuracies(runs, "test")
        final_lr = float(scheds[name](s["epochs"] - 1))
        m[name] = {
            "wander": w,
            "test_acc": te,
            "final_cost": [r.history.last["train_cost"] for r in runs],
        }
        rows.append([name, final_lr, mean_sd(w), mean_sd(m[name]["final_cost"]), mean_sd(te)])
    const = m["constant"]
    checks = []
    for name in list(scheds)[1:]:
        checks.append(
            paired(
                const["wander"],
                m[name]["wander"],
                f"{name}: wanders less than constant",
                scale=1.0,
                unit="",
            )
        )
        checks.append(
            paired(
                m[name]["test_acc"],
                const["test_acc"],
                f"{name}: test accuracy no worse than constant's by 3 points",
                margin=-0.03,
            )
        )
    figures = {
        "schedules": png(_preview(scheds, s["epochs"])),
        "cost": png(cost_figure(results, "mini-batch cost per epoch (mean ± sd)")),
    }
    return LabResult(
        name=NAME,
        claim=CLAIM,
        settings={k: v for k, v in s.items()},
        columns=["schedule", "final α", "wander |ΔJ|", "final cost", "test acc"],
        rows=rows,
        measurements=m,
        figures=figures,
        verdict=all_checks(checks),
        seeds=seeds,
        seconds=time.perf_counter() - started,
        percent=("test acc",),
        notes="the notes give formulas, no numbers for this experiment",
    )


def _preview(scheds, epochs):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    e = np.arange(epochs)
    for name, sched in scheds.items():
        ax.plot(e, [sched(int(i)) for i in e], label=name)
    ax.set(xlabel="epoch", ylabel="α", yscale="log", title="the notes' schedules")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
