"""Random search from scikit-learn: honed's PopulationSearchCV vs RandomizedSearchCV.

16 candidates × 3 folds, side by side in one run, on the same (standardized) data:

* ``PopulationSearchCV(HonedClassifier, n_jobs=2)``: the 48 candidate × fold fits as two
  populations of 24, in two threads (one BLAS thread each);
* ``RandomizedSearchCV(MLPClassifier, n_jobs=2)``: scikit-learn's MLP, one fit at a time in
  two processes (joblib gives each one BLAS thread), over the equivalent space: ``lr`` ↔ ``learning_rate_init`` and ``l2`` ↔
  ``alpha`` (both penalise λ/(2m)·Σ‖W‖² over a mini-batch of m rows), Adam, the same width,
  batch size and epochs (``max_iter``; MLPClassifier may stop earlier on its training-loss
  plateau rule, which only shortens its time);
* ``PopulationSearchCV(..., halving=True)``: successive halving over epochs (factor 3): all
  16 candidates train a ninth of the epochs, the best third three times as many, the best
  two all of them (a different search: ``HalvingRandomSearchCV``'s);
* ``RandomizedSearchCV(HonedClassifier)`` (``--sequential``): honed one fit at a time, to
  show what the population itself buys.

Space: ``lr`` log-uniform [1e-4, 1e-1], ``l2`` log-uniform [1e-5, 1]. Data: scikit-learn's
digits (1797 × 64, hidden [64], 40 epochs, batch 128) and a 10 000-example subset of
Fashion-MNIST train (784 inputs scaled to [0, 1] then standardized, hidden [128], 10
epochs, batch 128). Wall time includes drawing, training, scoring, and the refit of the best
candidate on all rows.

On a shared machine the clocks wander: each search runs ``--repeats`` times, alternating,
and the table gives the median (and every time).

    python benchmarks/sklearn_search.py [--data digits fashion] [--repeats 3] [--sequential]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
from scipy.stats import loguniform
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import RandomizedSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from honed.sklearn import HonedClassifier, PopulationSearchCV

N_ITER, CV, SEED = 16, 3, 0
SETTINGS = {
    "digits": {"hidden": (64,), "epochs": 40, "batch_size": 128},
    "fashion": {"hidden": (128,), "epochs": 10, "batch_size": 128},
}


def load(name: str):
    if name == "digits":
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
    else:
        from honed.data import fashion_mnist

        train, _ = fashion_mnist(download=False)
        rows = np.sort(np.random.default_rng(SEED).permutation(len(train))[:10_000])
        X, y = train.X[rows], train.y[rows]
    return StandardScaler().fit_transform(X).astype(np.float32), y


def searches(name: str, sequential: bool):
    s = SETTINGS[name]
    honed_space = {"lr": loguniform(1e-4, 1e-1), "l2": loguniform(1e-5, 1.0)}
    mlp_space = {"learning_rate_init": loguniform(1e-4, 1e-1), "alpha": loguniform(1e-5, 1.0)}
    honed = HonedClassifier(
        hidden=s["hidden"], epochs=s["epochs"], batch_size=s["batch_size"], random_state=SEED
    )
    mlp = MLPClassifier(
        hidden_layer_sizes=s["hidden"],
        max_iter=s["epochs"],
        batch_size=s["batch_size"],
        solver="adam",
        random_state=SEED,
    )
    common = {"n_iter": N_ITER, "cv": CV, "random_state": SEED}
    out = [
        (
            "PopulationSearchCV(HonedClassifier, n_jobs=2)",
            PopulationSearchCV(honed, honed_space, n_jobs=2, **common),
        ),
        (
            "RandomizedSearchCV(MLPClassifier, n_jobs=2)",
            RandomizedSearchCV(mlp, mlp_space, n_jobs=2, **common),
        ),
    ]
    out.append(
        (
            "PopulationSearchCV(HonedClassifier, n_jobs=2, halving=True)",
            PopulationSearchCV(honed, honed_space, n_jobs=2, halving=True, **common),
        )
    )
    if sequential:
        out.append(
            (
                "RandomizedSearchCV(HonedClassifier)",
                RandomizedSearchCV(honed, honed_space, **common),
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", nargs="+", choices=sorted(SETTINGS), default=["digits", "fashion"]
    )
    parser.add_argument(
        "--sequential", action="store_true", help="also RandomizedSearchCV(HonedClassifier)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs of each search")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name in args.data:
        X, y = load(name)
        s = SETTINGS[name]
        times: dict[str, list[float]] = {}
        fitted = {}
        for _ in range(args.repeats):
            for label, search in searches(name, args.sequential):
                started = time.perf_counter()
                search.fit(X, y)
                times.setdefault(label, []).append(time.perf_counter() - started)
                fitted[label] = search
        print(
            f"\n## {name}: {X.shape[0]} × {X.shape[1]}, hidden {list(s['hidden'])}, "
            f"{s['epochs']} epochs, batch {s['batch_size']}, {N_ITER} candidates × {CV} folds\n"
        )
        print(
            "| search | median wall s (each run) | vs population | best CV accuracy | best lr, l2 |"
        )
        print("| --- | --- | --- | --- | --- |")
        first = None
        for label, search in fitted.items():
            median = statistics.median(times[label])
            first = first or median
            each = ", ".join(f"{t:.1f}" for t in times[label])
            p = search.best_params_
            lr = p.get("lr", p.get("learning_rate_init"))
            l2 = p.get("l2", p.get("alpha"))
            print(
                f"| {label} | {median:.1f} ({each}) | {median / first:.2f}× | "
                f"{search.best_score_:.4f} | {lr:.2g}, {l2:.2g} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
