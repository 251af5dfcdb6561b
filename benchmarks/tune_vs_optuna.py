"""The steering reference task: 16 random-search trials, honed vs Optuna + PyTorch.

Each trial trains the 784-256-256-10 ReLU MLP for 2 epochs (Adam) on a 10 000-example subset
of Fashion-MNIST train and is scored on a disjoint 5 000-example dev split. Search space:
lr log-uniform [1e-4, 1e-1], Adam β₁ = 1 − 10^r with r ∈ [−3, −1], L2 log-uniform
[1e-6, 1e-2], batch size in {64, 128, 256}. honed runs `honed.experiment.tuning.tune_experiment` (as
`honed tune` does) with 1 and 2 worker processes, and with the population executor
(`--executor population`: the trials of each batch size train together as one population,
in 2 threads of the driver); Optuna runs its RandomSampler with a PyTorch objective in one
process (n_jobs=1, torch using every core). Same data, same split. honed's studies are
journal files (`honed tune`'s default).

L2 means the same in both: honed's penalty λ/(2m)·Σ‖W‖² on weight matrices has gradient
(λ/m)·W, which is PyTorch's weight_decay = λ/m on the weights (biases not decayed).

    python benchmarks/tune_vs_optuna.py [--trials 16] [--repeats 3]

Best-of-16 accuracy depends on which 16 points a sampler happens to draw, and the two
libraries draw different points from the same seed; so the comparison is repeated with
seeds 0, 1, 2, ... (honed with 2 workers, then Optuna, in the same time window each
time), and the summary gives the median wall-time ratio and the mean best dev accuracy of
each. honed with 1 worker runs once (seed 0), to show it finds the same trials as 2 workers.

A fourth row per seed ("torch, honed's") has Optuna + PyTorch train the very 16
configurations honed drew (enqueued): the time ratio against it is speed alone, without the
luck of which batch sizes each sampler drew (batch-64 trials take about twice as long), and
the two best accuracies differ only by training noise. Every clock includes preparing the
data (honed's workers do it inside the run, so Optuna's is counted too). The population row
trains the same 16 configurations as the process rows, and each trial's dev error is
compared with theirs (the summary prints the largest difference: 0 when the grouping
changes nothing but summation order within float32 rounding of a dev example).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

from honed import experiment as ex
from honed.experiment.tuning import tune_experiment

SPACE = {
    "train.lr": {"log": [1e-4, 1e-1]},
    "train.beta1": {"one_minus_log": [0.9, 0.999]},
    "model.l2": {"log": [1e-6, 1e-2]},
    "train.batch_size": {"choice": [64, 128, 256]},
}
CONFIG = {
    "name": "tune_bench",
    "seed": 0,
    "data": {"dataset": "fashion_mnist", "subset": 15000, "dev": 5000, "normalize": "scalar"},
    "model": {"hidden": [256, 256], "activation": "relu", "init": "he"},
    "train": {"optimizer": "adam", "epochs": 2},
    "tune": {"space": SPACE, "epochs": 2},
}


def run_honed(trials: int, workers: int, directory: Path, seed: int = 0, executor="process"):
    config = ex.resolve_config(CONFIG)
    started = time.perf_counter()
    study = tune_experiment(
        config,
        trials=trials,
        workers=workers,
        seed=seed,
        progress=False,
        executor=executor,
        study_path=directory / f"honed-{executor}-{workers}-{seed}.journal",
    )
    seconds = time.perf_counter() - started
    configs = [t.params for t in sorted(study.trials, key=lambda t: t.number)]
    values = [t.value for t in sorted(study.trials, key=lambda t: t.number)]
    return seconds, 1 - study.best_trial.value, study.best_trial.params, configs, values


def run_optuna(trials: int, seed: int = 0, configs: list[dict] | None = None):
    """Optuna's RandomSampler + a PyTorch objective; with ``configs``, those trials instead
    (honed's draws, enqueued), so both libraries train exactly the same 16 configurations."""
    import optuna
    import torch
    from torch import nn

    torch.set_num_threads(os.cpu_count() or 1)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # The clock starts before the data is prepared, as honed's does (its workers prepare it).
    started = time.perf_counter()
    data = ex.prepare_data(ex.resolve_config(CONFIG))
    X, y = torch.from_numpy(data.train.X), torch.from_numpy(data.train.y)
    X_dev, y_dev = torch.from_numpy(data.dev.X), data.dev.y

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        r = trial.suggest_float("r", -3, -1)
        beta1 = 1 - 10**r
        l2 = trial.suggest_float("l2", 1e-6, 1e-2, log=True)
        batch_size = trial.suggest_categorical("batch_size", [64, 128, 256])
        torch.manual_seed(trial.number)
        model = nn.Sequential(
            nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
        )
        for layer in model:
            if isinstance(layer, nn.Linear):
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)
        weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
        biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
        opt = torch.optim.Adam(
            [{"params": weights, "weight_decay": l2 / batch_size}, {"params": biases}],
            lr=lr,
            betas=(beta1, 0.999),
        )
        for _ in range(2):
            perm = torch.randperm(len(X))
            for i in range(0, len(X), batch_size):
                idx = perm[i : i + batch_size]
                loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        with torch.no_grad():
            return float((model(X_dev).argmax(1).numpy() != y_dev).mean())

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    for params in configs or []:
        study.enqueue_trial(
            {
                "lr": params["train.lr"],
                "r": math.log10(1 - params["train.beta1"]),
                "l2": params["model.l2"],
                "batch_size": params["train.batch_size"],
            }
        )
    study.optimize(objective, n_trials=trials, n_jobs=1)
    return time.perf_counter() - started, 1 - study.best_value, study.best_params


def _shown(params: dict) -> str:
    return ", ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument(
        "--repeats", type=int, default=3, help="seeds 0..repeats-1, each run by both libraries"
    )
    args = parser.parse_args()
    print(
        f"{args.trials} trials, 2 epochs each, 10 000 train / 5 000 dev, {os.cpu_count()} cores",
        flush=True,
    )
    print(
        f"{'seed':<5}{'':<18}{'wall s':>8}{'vs optuna':>11}{'best dev acc':>14}  best params",
        flush=True,
    )
    ratios, honed_acc, optuna_acc, same_ratios, same_acc = [], [], [], [], []
    pop_ratios, pop_same, pop_acc, pop_diff = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.repeats):
            rows = []
            if seed == 0:
                rows.append(("honed, 1 worker", *run_honed(args.trials, 1, Path(tmp), seed)[:3]))
            seconds, accuracy, params, configs, values = run_honed(args.trials, 2, Path(tmp), seed)
            rows.append(("honed, 2 workers", seconds, accuracy, params))
            pop = run_honed(args.trials, 2, Path(tmp), seed, executor="population")
            rows.append(("honed, population", *pop[:3]))
            assert pop[3] == configs  # the same 16 configurations
            optuna_row = ("optuna + torch", *run_optuna(args.trials, seed))
            same_row = ("torch, honed's", *run_optuna(args.trials, seed, configs))
            rows += [optuna_row, same_row]
            for name, s, acc, best in rows:
                print(
                    f"{seed:<5}{name:<18}{s:>8.1f}{s / optuna_row[1]:>11.2f}{acc:>14.4f}  {_shown(best)}",
                    flush=True,
                )
            ratios.append(seconds / optuna_row[1])
            pop_ratios.append(pop[0] / optuna_row[1])
            pop_same.append(pop[0] / same_row[1])
            pop_acc.append(pop[1])
            # per trial: the population's dev error against the process workers' (float32)
            pop_diff.append(max(abs(a - b) for a, b in zip(pop[4], values)))
            honed_acc.append(accuracy)
            optuna_acc.append(optuna_row[2])
            same_ratios.append(seconds / same_row[1])
            same_acc.append(same_row[2])
    print(
        f"\nover {args.repeats} seeds: honed (2 workers) / optuna wall time, median {statistics.median(ratios):.2f} "
        f"(each: {', '.join(f'{r:.2f}' for r in ratios)}); mean best dev accuracy honed "
        f"{statistics.mean(honed_acc):.4f}, optuna {statistics.mean(optuna_acc):.4f}"
    )
    print(
        f"on the same configurations (torch trains honed's draws): honed / torch wall time, median "
        f"{statistics.median(same_ratios):.2f} (each: {', '.join(f'{r:.2f}' for r in same_ratios)}); "
        f"mean best dev accuracy honed {statistics.mean(honed_acc):.4f}, torch {statistics.mean(same_acc):.4f}"
    )
    print(
        f"population executor / optuna wall time, median {statistics.median(pop_ratios):.2f} "
        f"(each: {', '.join(f'{r:.2f}' for r in pop_ratios)}); / torch on honed's draws, median "
        f"{statistics.median(pop_same):.2f}; mean best dev accuracy {statistics.mean(pop_acc):.4f} "
        f"(process workers {statistics.mean(honed_acc):.4f}); largest per-trial dev-error "
        f"difference population vs process workers: {max(pop_diff):.2g}"
    )


if __name__ == "__main__":
    main()
