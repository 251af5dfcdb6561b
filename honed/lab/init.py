"""init: zeros never breaks symmetry, large random init learns slowly and badly, He learns well.

The course's initialization notebook: circles (``make_circles``: 300 training points, noise
0.05, factor 0.8, and 100 test points), a ``[2, 10, 5, 1]`` ReLU network with a sigmoid
output, full-batch gradient descent, α = 0.01, 15 000 iterations, three initializations:
zeros, large random (``randn · 10``) and He (``randn · sqrt(2/n_in)``). The notebook reports
train/test accuracy 50 % / 50 % (zeros), 83 % / 86 % (large random), 99 % / 96 % (He).

Verdict (:mod:`honed.lab.base`'s rule): zeros stays at chance (every seed within 45–55 %
train accuracy, and its hidden units identical: symmetry never broken); He's mean train
accuracy is above 90 % by more than 2 standard errors; large random is below He seed by
seed (same data, paired), its mean shortfall beyond 2 standard errors.
"""

from __future__ import annotations

import time

import numpy as np

from honed.data import circles
from honed.lab.base import LabResult, level, mean_sd, paired, seeds_list
from honed.lab.common import accuracies, two_d_result
from honed.lab.runner import Spec, train_variants

NAME = "init"
CLAIM = "zeros never breaks symmetry (chance accuracy), large random learns slowly and badly, He learns well"
DEFAULTS = {
    "data": {"n_samples": 300, "test_samples": 100, "noise": 0.05, "factor": 0.8},
    "sizes": [2, 10, 5, 1],
    "lr": 0.01,
    "epochs": 15000,
    # variant -> (initializer, scale): the notebook's three
    "variants": {
        "zeros": ["zeros", 1.0],
        "large random (x10)": ["normal", 10.0],
        "he": ["he", 1.0],
    },
}
QUICK = {"epochs": 1500, "lr": 0.1}


def symmetric(model) -> bool:
    """True when every hidden unit of the first layer has the same incoming weights."""
    W = model.layers[0].W.data
    return bool(np.allclose(W, W[:, :1]))


def run(seeds=5, quick: bool = False, **overrides) -> LabResult:
    settings = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    seeds = seeds_list(seeds)
    started = time.perf_counter()
    specs = [
        Spec(
            name,
            settings["sizes"],
            init=init,
            scale=scale,
            lr=settings["lr"],
            epochs=settings["epochs"],
        )
        for name, (init, scale) in settings["variants"].items()
    ]

    def data(seed):
        train, test = circles(seed=seed, **settings["data"])
        return {"train": train, "test": test}

    results = train_variants(specs, seeds, data)
    rows, measurements = [], {}
    for name, runs in results.items():
        tr, te = accuracies(runs, "train"), accuracies(runs, "test")
        sym = [symmetric(r.model) for r in runs]
        cost = [r.history.last["train_cost"] for r in runs]
        measurements[name] = {"train_acc": tr, "test_acc": te, "symmetric": sym, "final_cost": cost}
        rows.append([name, mean_sd(tr), mean_sd(te), mean_sd(cost), f"{sum(sym)}/{len(sym)}"])
    names = list(settings["variants"])
    zeros, large, he = (measurements[n] for n in names)
    checks = [
        (
            all(0.45 <= a <= 0.55 for a in zeros["train_acc"]) and all(zeros["symmetric"]),
            f"{names[0]}: train accuracy in [45%, 55%] and hidden units identical in every seed "
            f"(accuracies {[float(round(100 * a, 1)) for a in zeros['train_acc']]}%)",
        ),
        level(he["train_acc"], 0.9, f"{names[2]}: train accuracy"),
        paired(
            he["train_acc"],
            large["train_acc"],
            f"{names[2]} above {names[1]} (train accuracy)",
        ),
    ]
    return two_d_result(
        results,
        ("training cost (mean ± sd over seeds)", "decision boundaries: variant × seed"),
        lambda seed: circles(seed=seed, **DEFAULTS["data"]),
        checks,
        started,
        name=NAME,
        claim=CLAIM,
        settings=settings,
        columns=["init", "train acc", "test acc", "final cost", "symmetric"],
        rows=rows,
        measurements=measurements,
        seeds=seeds,
        percent=("train acc", "test acc"),
        notes="course (notebook): zeros 50/50%, large random 83/86%, He 99/96% train/test",
    )
