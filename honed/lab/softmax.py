"""softmax: softmax regression generalizes logistic regression to C classes (linear regions).

The notes: ``t = e^z``, ``a = t / Σ t``; for ``z = [5, 2, −1, 3]`` the output is
``[0.842, 0.042, 0.002, 0.114]``; with C = 2 softmax reduces to logistic regression
(``softmax([z, 0])₀ = σ(z)``); a softmax layer with no hidden layer splits the plane into C
regions with linear borders.

Setup: the worked example; the C = 2 reduction on 101 values of z in [−10, 10]; then per seed
4 Gaussian blobs (centers (±4, ±4), sd 1.5, 400 training and 400 test points drawn
separately), softmax regression ``[2, 4]`` by full-batch GD (α = 0.1, 300 epochs). Verdict:
the example matches the notes to 3 decimals, the reduction holds to 1e-6, and the mean test
accuracy is above 95 % by more than 2 standard errors over seeds.
"""

from __future__ import annotations

import time

import numpy as np

from honed.autograd import Tensor, sigmoid, softmax
from honed.data import blobs
from honed.lab.base import LabResult, all_checks, level, mean_sd, png, seeds_list
from honed.lab.common import accuracies, boundary_figure
from honed.lab.runner import SOFTMAX_LOSS, Spec, train_variants

NAME = "softmax"
CLAIM = "softmax gives the notes' [0.842, 0.042, 0.002, 0.114] for z = [5, 2, -1, 3], reduces to logistic regression for C = 2, and softmax regression splits 2-D blobs into linear class regions"
NOTES_Z = [5.0, 2.0, -1.0, 3.0]
NOTES_A = [0.842, 0.042, 0.002, 0.114]
CENTERS = [[-4.0, -4.0], [4.0, -4.0], [-4.0, 4.0], [4.0, 4.0]]
DEFAULTS = {"n_samples": 400, "test_samples": 400, "noise": 1.5, "lr": 0.1, "epochs": 300}
QUICK = {"epochs": 100}


def run(seeds=5, quick: bool = False, **overrides) -> LabResult:
    s = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    seeds = seeds_list(seeds)
    started = time.perf_counter()
    a = softmax(Tensor(np.array(NOTES_Z))).data
    z = np.linspace(-10, 10, 101)
    two = softmax(Tensor(np.c_[z, np.zeros_like(z)]), axis=1).data[:, 0]
    reduction = float(np.abs(two - sigmoid(Tensor(z)).data).max())
    rows = [
        [
            "softmax([5, 2, −1, 3])",
            "[" + ", ".join(f"{v:.3f}" for v in a) + "]",
            "notes: [0.842, 0.042, 0.002, 0.114]",
        ],
        ["max |softmax([z, 0])₀ − σ(z)|", f"{reduction:.1e}", "C = 2 is logistic regression"],
    ]

    def data(seed):
        kw = {"noise": s["noise"], "centers": CENTERS}
        return {
            "train": blobs(s["n_samples"], seed=seed, **kw),
            "test": blobs(s["test_samples"], seed=seed + 10_000, **kw),
        }

    spec = Spec(
        "softmax regression [2, 4]", [2, 4], lr=s["lr"], epochs=s["epochs"], loss=SOFTMAX_LOSS
    )
    runs = train_variants([spec], seeds, data)[spec.name]
    tr, te = accuracies(runs, "train"), accuracies(runs, "test")
    rows.append([f"{spec.name}: train accuracy", mean_sd(tr), ""])
    rows.append([f"{spec.name}: test accuracy", mean_sd(te), ""])
    checks = [
        (bool(np.allclose(np.round(a, 3), NOTES_A)), "the notes' example to 3 decimals"),
        (reduction < 1e-6, f"C = 2 reduction error {reduction:.1e} < 1e-6"),
        level(te, 0.95, "test accuracy"),
    ]
    regions = boundary_figure(
        {"softmax regression": runs},
        lambda seed: tuple(data(seed).values()),
        "class regions (● train, × test)",
    )
    return LabResult(
        name=NAME,
        claim=CLAIM,
        settings=s,
        columns=["what", "measured", "course"],
        rows=rows,
        measurements={
            "softmax_example": a.tolist(),
            "reduction_error": reduction,
            "train_acc": tr,
            "test_acc": te,
        },
        figures={"regions": png(regions)},
        verdict=all_checks(checks),
        seeds=seeds,
        seconds=time.perf_counter() - started,
        percent=("measured",),
        notes="the notes' worked example is checked exactly",
    )
