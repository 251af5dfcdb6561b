"""What the study machinery costs per trial, as a study grows (no training at all).

The objective is ``honed.tune.synthetic.bowl`` (microseconds), run in the driver process
(``executor="inprocess"``), so the time per trial is honed's driver plus the storage:
sampling, creating the trial, recording its outcome, and anything that re-reads what
grows. Measured at 100, 1 000 and 10 000 trials on

* honed, Optuna journal file (the default),
* honed, Optuna's SQLite (RDB) storage (skipped at 10 000: ~4 ms a trial),
* plain Optuna (``study.optimize``, RandomSampler) on the same journal storage: the
  reference, in the same run.

Then ``honed study show``, ``honed study report`` (PNG) and ``honed study report --html``
on the 10 000-trial study, each as a fresh process (``python -m honed.cli``), so the
times include starting Python and importing.

    python benchmarks/study_overhead.py [--sizes 100 1000 10000] [--repeats 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna

from honed.tune import optimize
from honed.tune.synthetic import bowl

SPACE = {"lr": {"log": [1e-4, 1]}, "beta": {"one_minus_log": [0.9, 0.999]}}
ROOT = Path(__file__).resolve().parent.parent


def honed_per_trial(n: int, path: Path) -> float:
    t0 = time.perf_counter()
    optimize(bowl, SPACE, n, path, executor="inprocess", progress=False)
    return (time.perf_counter() - t0) / n * 1e3


def _optuna_objective(trial):
    lr = trial.suggest_float("lr", 1e-4, 1, log=True)
    b = trial.suggest_float("one_minus_beta", 1e-3, 1e-1, log=True)
    return ((__import__("math").log10(lr) + 2.7) / 0.3) ** 2 + (
        (__import__("math").log10(b) + 2.3) / 0.2
    ) ** 2


def optuna_per_trial(n: int, path: Path) -> float:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
    t0 = time.perf_counter()
    study.optimize(_optuna_objective, n_trials=n)
    return (time.perf_counter() - t0) / n * 1e3


def cli_seconds(*args: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "honed.cli", *args], check=True, env=env, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--rdb-max", type=int, default=1000, help="largest size run on SQLite")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        for n in args.sizes:
            row = {"trials": n, "journal": honed_per_trial(n, d / f"h{n}.journal")}
            row["sqlite"] = honed_per_trial(n, d / f"h{n}.db") if n <= args.rdb_max else None
            row["optuna"] = optuna_per_trial(n, d / f"o{n}.journal")
            rows.append(row)
            print(
                f"{n:>6} trials: honed journal {row['journal']:.2f} ms/trial, honed sqlite "
                + ("-" if row["sqlite"] is None else f"{row['sqlite']:.2f}")
                + f" ms/trial, optuna journal {row['optuna']:.2f} ms/trial",
                flush=True,
            )
        big = d / f"h{max(args.sizes)}.journal"
        show = cli_seconds("study", "show", str(big))
        png = cli_seconds("study", "report", str(big), "--out", str(d / "r.png"))
        html = cli_seconds("study", "report", str(big), "--html", "--out", str(d / "r.html"))
    print(
        "\n| trials | honed, journal (ms/trial) | honed, SQLite (ms/trial) | Optuna, journal (ms/trial) |"
    )
    print("|---:|---:|---:|---:|")
    for r in rows:
        sq = "-" if r["sqlite"] is None else f"{r['sqlite']:.2f}"
        print(f"| {r['trials']} | {r['journal']:.2f} | {sq} | {r['optuna']:.2f} |")
    n = max(args.sizes)
    print(f"\n| on the {n}-trial study (fresh process) | seconds |\n|---|---:|")
    print(f"| honed study show | {show:.2f} |\n| honed study report (PNG) | {png:.2f} |")
    print(f"| honed study report --html | {html:.2f} |")


if __name__ == "__main__":
    main()
