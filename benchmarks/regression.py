"""Test R² on scikit-learn's diabetes data: honed (examples/diabetes.toml) beside
scikit-learn's Ridge and MLPRegressor with standardized inputs, on the same split.

The split is honed's own (``split_raw`` of the experiment: 60/20/20, seed 0); scikit-learn
fits on the same training rows (MLPRegressor also on train only; its own early stopping
off), and everyone is scored on the same test rows. honed's R² is the mean over
``SEEDS`` (initial weights, shuffling), as is MLPRegressor's.

Run: .venv/bin/python benchmarks/regression.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SEEDS = (0, 1, 2)
ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from honed import experiment as ex
    from honed.experiment.runs import train_experiment

    tmp = Path(tempfile.mkdtemp(prefix="honed-regression-"))
    csv = tmp / "diabetes.csv"
    load_diabetes(as_frame=True, scaled=False).frame.to_csv(csv, index=False)
    base = ex.load_config(ROOT / "examples" / "diabetes.toml", {"data.path": str(csv)})
    train, dev, test = ex.split_raw(base)
    X_fit = np.concatenate([train.X, dev.X])  # scikit-learn has no use for a dev set here
    y_fit = np.concatenate([train.y, dev.y])[:, 0]
    y_test = test.y[:, 0]
    print(f"diabetes: train {len(train)}, dev {len(dev)}, test {len(test)} (honed's split)")
    print(f"{'model':46}{'test R²':>10}{'test RMSE':>11}{'seconds':>9}")

    def row(name, r2s, rmses, seconds):
        sd = f" ± {statistics.stdev(r2s):.3f}" if len(r2s) > 1 else ""
        print(
            f"{name:46}{statistics.mean(r2s):>10.3f}{statistics.mean(rmses):>11.2f}"
            f"{seconds:>9.2f}{sd}"
        )

    r2s, rmses, started = [], [], time.perf_counter()
    for seed in SEEDS:
        result = train_experiment(base.replace({"seed": seed}), out=None, verbose=0)
        r2s.append(result.errors["test"]["r2"])
        rmses.append(result.errors["test"]["rmse"])
    row(
        "honed MLP 10-32-1, mse, L2 1, early stopping",
        r2s,
        rmses,
        (time.perf_counter() - started) / len(SEEDS),
    )

    for alpha in (1.0, 10.0):
        started = time.perf_counter()
        ridge = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(X_fit, y_fit)
        p = ridge.predict(test.X)
        row(
            f"scikit-learn Ridge(alpha={alpha:g})",
            [r2_score(y_test, p)],
            [float(np.sqrt(np.mean((p - y_test) ** 2)))],
            time.perf_counter() - started,
        )

    import warnings

    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)  # 3000 Adam epochs: converged enough
    r2s, rmses, started = [], [], time.perf_counter()
    for seed in SEEDS:
        mlp = make_pipeline(
            StandardScaler(),
            MLPRegressor(hidden_layer_sizes=(32,), alpha=1.0, max_iter=3000, random_state=seed),
        ).fit(X_fit, y_fit)
        p = mlp.predict(test.X)
        r2s.append(r2_score(y_test, p))
        rmses.append(float(np.sqrt(np.mean((p - y_test) ** 2))))
    row(
        "scikit-learn MLPRegressor(32,), alpha 1",
        r2s,
        rmses,
        (time.perf_counter() - started) / len(SEEDS),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
