"""Best dev accuracy after 32 trials: random vs zoom (coarse to fine) vs TPE (Optuna's).

Runs ``honed.experiment.tuning.tune_experiment`` (what ``honed tune`` runs) on
``examples/fashion_tune.toml`` -- Fashion-MNIST, 5-epoch trials -- with each strategy and
study seeds 0, 1, 2, and prints a table of the best dev accuracy (1 - best dev error) per
seed and the mean. TPE gets the same 32-trial budget (its first 10 are random start-up
trials, Optuna's default). ``--quick`` trains on 6 000 examples (dev 2 000) for 2 epochs per
trial, 12 trials: a smoke run in minutes, not a result.

    python benchmarks/sampler_compare.py [--quick] [--seeds 0 1 2] [--workers 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from honed import experiment as ex
from honed.experiment.tuning import tune_experiment

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--subset", type=int, default=0, help="training examples (0: all)")
    ap.add_argument("--epochs", type=int, default=0, help="epochs per trial (0: tune.epochs)")
    ap.add_argument("--trials", type=int, default=0, help="trials per study (0: 32)")
    ap.add_argument("--strategies", nargs="+", default=["random", "zoom", "tpe"])
    args = ap.parse_args()
    sets = []
    trials = 32
    if args.quick:
        sets = ["data.subset=8000", "data.dev=2000", "tune.epochs=2"]
        trials = 12
    if args.subset:
        sets += [f"data.subset={args.subset}", "data.dev=2000"]
    if args.epochs:
        sets.append(f"tune.epochs={args.epochs}")
    trials = args.trials or trials
    print(f"{trials} trials per study; overrides: {', '.join(sets) or 'none'}", flush=True)
    config = ex.load_config(ROOT / "examples" / "fashion_tune.toml", ex.parse_set_options(sets))
    results: dict[str, list[float]] = {s: [] for s in args.strategies}
    with tempfile.TemporaryDirectory() as d:
        for seed in args.seeds:
            for strategy in args.strategies:
                t0 = time.perf_counter()
                study = tune_experiment(
                    config,
                    trials=trials,
                    workers=args.workers,
                    strategy=strategy,
                    study_path=Path(d) / f"{strategy}-{seed}.journal",
                    seed=seed,
                    progress=False,
                )
                acc = 1 - study.best_trial.value
                results[strategy].append(acc)
                print(
                    f"seed {seed} {strategy:>6}: best dev accuracy {acc:.4f} "
                    f"({time.perf_counter() - t0:.0f} s)",
                    flush=True,
                )
    print(f"\n| strategy | {' | '.join(f'seed {s}' for s in args.seeds)} | mean |")
    print("|---|" + "---:|" * (len(args.seeds) + 1))
    for s, accs in results.items():
        cells = " | ".join(f"{a:.4f}" for a in accs)
        print(f"| {s} | {cells} | {statistics.mean(accs):.4f} |")


if __name__ == "__main__":
    main()
