"""optimizers: in the same epochs Adam reaches a clearly better accuracy than GD and Momentum.

The course's optimization notebook: moons (``make_moons``: 300 points, noise 0.2), a
``[2, 5, 2, 1]`` ReLU network (He init) with a sigmoid output, mini-batches of 64, α = 7e-4,
10 000 epochs; mini-batch gradient descent, Momentum (β = 0.9) and Adam (β₁ 0.9, β₂ 0.999,
ε 1e-8). The notebook reports accuracy 79.7 % (GD), 79.7 % (Momentum), 94 % (Adam). A test
set of 300 points is drawn separately.

Verdict, per seed paired (same data, same initial weights; :mod:`honed.lab.base`'s rule):
Adam's train accuracy is above GD's and above Momentum's, the mean paired gain beyond 2
standard errors. This tiny ReLU network sometimes dies (every unit of its 2-unit layer stuck
at zero, a constant output at chance): a dead run measures the dead unit, not the
optimizer's progress, so a seed where any optimizer's network died is left out of the
pairing (the table counts the dead runs per optimizer, the verdict names the seeds used).
"""

from __future__ import annotations

import time

import numpy as np

from honed.data import moons
from honed.lab.base import INCONCLUSIVE, LabResult, mean_sd, paired, seeds_list
from honed.lab.common import accuracies, two_d_result
from honed.lab.runner import Spec, train_variants

NAME = "optimizers"
CLAIM = "Adam reaches a clearly better accuracy than GD and Momentum in the same epochs"
DEFAULTS = {
    "data": {"n_samples": 300, "test_samples": 300, "noise": 0.2},
    "sizes": [2, 5, 2, 1],
    "lr": 7e-4,
    "batch_size": 64,
    "epochs": 10000,
    "beta": 0.9,
    "beta1": 0.9,
    "beta2": 0.999,
    "eps": 1e-8,
}
QUICK = {"epochs": 600}


def run(seeds=5, quick: bool = False, **overrides) -> LabResult:
    s = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    seeds = seeds_list(seeds)
    started = time.perf_counter()
    common = {
        "sizes": s["sizes"],
        "lr": s["lr"],
        "epochs": s["epochs"],
        "batch_size": s["batch_size"],
    }
    specs = [
        Spec("GD", optimizer="gd", **common),
        Spec("Momentum", optimizer="momentum", optimizer_args={"beta": s["beta"]}, **common),
        Spec(
            "Adam",
            optimizer="adam",
            optimizer_args={"beta1": s["beta1"], "beta2": s["beta2"], "eps": s["eps"]},
            **common,
        ),
    ]

    def data(seed):
        train, test = moons(seed=seed, **s["data"])
        return {"train": train, "test": test}

    results = train_variants(specs, seeds, data)

    def r_train(run):
        return data(run.seed)["train"].X

    rows, measurements = [], {}
    for name, runs in results.items():
        tr, te = accuracies(runs, "train"), accuracies(runs, "test")
        cost = [r.history.last["train_cost"] for r in runs]
        dead = [bool(np.ptp(r.model.predict_proba(r_train(r))) < 1e-6) for r in runs]
        measurements[name] = {"train_acc": tr, "test_acc": te, "final_cost": cost, "dead": dead}
        rows.append([name, mean_sd(tr), mean_sd(te), mean_sd(cost), f"{sum(dead)}/{len(dead)}"])
    alive = [i for i in range(len(seeds)) if not any(m["dead"][i] for m in measurements.values())]
    used = f"over the {len(alive)}/{len(seeds)} seeds where no network died"
    adam = [measurements["Adam"]["train_acc"][i] for i in alive]
    checks = []
    for other in ("GD", "Momentum"):
        theirs = [measurements[other]["train_acc"][i] for i in alive]
        outcome, why = paired(adam, theirs, f"Adam above {other} (train accuracy)")
        if not alive:
            outcome = INCONCLUSIVE
        checks.append((outcome, f"{why}, {used}"))
    return two_d_result(
        results,
        ("mini-batch cost per epoch (mean ± sd)", "decision boundaries: optimizer × seed"),
        lambda seed: moons(seed=seed, **s["data"]),
        checks,
        started,
        name=NAME,
        claim=CLAIM,
        settings=s,
        columns=["optimizer", "train acc", "test acc", "final cost", "dead (constant output)"],
        rows=rows,
        measurements=measurements,
        seeds=seeds,
        percent=("train acc", "test acc"),
        notes="course (notebook): GD 79.7%, Momentum 79.7%, Adam 94% (train accuracy)",
    )
