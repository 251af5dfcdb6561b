"""This checkout's engine against a reference checkout of honed (an older commit), side by side.

Each case runs in a fresh Python process with ``PYTHONPATH`` set to one checkout, so both
engines run the same script through their public API only (``Population``,
``PopulationTrainer``, ``Trainer``, ``mlp``, ``Adam``); the two checkouts alternate round by
round (A B A B ...), so the machine's drifting load falls on both alike, and the median of
the rounds is printed with the ratio reference ÷ this.

Cases:

* ``moons-pop``: 64 members ``[2, 5, 2, 1]`` ReLU, Adam (lr log-uniform in [1e-3, 1e-1]),
  batch 64, 100 epochs, dev error every epoch (``benchmarks/population.py`` (a));
* ``moons-seq``: 4 of those members one after the other with the ``Trainer`` (its time
  ×16 estimates 64 sequential runs);
* ``fashion-pop``: 16 members 784-256-256-10, batch 128, 1 epoch on 55 000 images;
* ``fashion-seq``: 1 of those members with the ``Trainer`` (×16 for 16 members).

Usage::

    git worktree add --detach ../honed-ref <commit>     # the reference
    python benchmarks/engine_vs_reference.py --reference ../honed-ref [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent.parent
CASES = ("moons-pop", "moons-seq", "fashion-pop", "fashion-seq")


def learning_rates(P: int, low: float, high: float) -> list[float]:
    rng = np.random.default_rng(1)
    return [float(v) for v in np.exp(rng.uniform(np.log(low), np.log(high), P))]


def _moons():
    from honed.data import moons, train_dev_split

    return train_dev_split(moons(1000, noise=0.2, seed=0), dev=200, seed=0)


def _fashion():
    from honed.data import Standardizer, fashion_mnist, train_dev_split

    train, _ = fashion_mnist()
    train, dev = train_dev_split(train, dev=5000, seed=0)
    scaler = Standardizer(per_feature=False).fit(train)
    return scaler.transform(train), scaler.transform(dev)


def _population(sizes, lrs, train, dev, epochs, batch, loss) -> float:
    from honed.population import Population, PopulationTrainer

    def fit(lrs, train, epochs):
        members = [{"optimizer": "adam", "lr": lr, "seed": k} for k, lr in enumerate(lrs)]
        pop = Population({"sizes": sizes, "activation": "relu"}, members)
        trainer = PopulationTrainer(pop, loss=loss, batch_size=batch, seed=0)
        started = time.perf_counter()
        trainer.fit(train, dev, epochs=epochs)
        return time.perf_counter() - started

    from honed.data import Dataset

    fit(lrs[:4], Dataset(train.X[:512], train.y[:512]), 1)  # warm up (numba loads here)
    return fit(lrs, train, epochs)


def _sequential(sizes, lrs, train, dev, epochs, batch, loss) -> float:
    from honed.nn import mlp
    from honed.optim import Adam
    from honed.train import Trainer

    total = 0.0
    for k, lr in enumerate(lrs):
        model = mlp(sizes, activation="relu", seed=k)
        trainer = Trainer(
            model, Adam(model.parameters(), lr=lr), loss=loss, batch_size=batch, seed=0
        )
        started = time.perf_counter()
        trainer.fit(train, dev, epochs=epochs, verbose=0)
        total += time.perf_counter() - started
    return total


def child(case: str) -> float:
    """Seconds of one case in this process (the checkout on ``PYTHONPATH``)."""
    if case.startswith("moons"):
        train, dev = _moons()
        args = ([2, 5, 2, 1], train, dev, 100, 64, "sigmoid_cross_entropy")
        lrs = learning_rates(64, 1e-3, 1e-1)
    else:
        train, dev = _fashion()
        args = ([784, 256, 256, 10], train, dev, 1, 128, "softmax_cross_entropy")
        lrs = learning_rates(16, 3e-4, 3e-3)
    sizes, rest = args[0], args[1:]
    if case.endswith("pop"):
        return _population(sizes, lrs, *rest)
    n = 4 if case.startswith("moons") else 1
    return _sequential(sizes, lrs[:n], *rest) * len(lrs) / n


def run_case(checkout: Path, case: str) -> float:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    out = subprocess.run(
        [sys.executable, __file__, "--child", case],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise SystemExit(f"{case} in {checkout} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, help="checkout of the reference commit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps({"seconds": child(args.child)}))
        return
    if args.reference is None or not (args.reference / "honed").is_dir():
        parser.error(f"--reference must be a checkout of honed, got {args.reference}")
    checkouts = {"reference": args.reference.resolve(), "this": HERE}
    print(f"{'case':<14}{'reference s':>14}{'this s':>12}{'ref ÷ this':>12}   rounds")
    for case in args.cases:
        times = {name: [] for name in checkouts}
        for _ in range(args.rounds):
            for name, path in checkouts.items():
                times[name].append(run_case(path, case))
        ref, this = (statistics.median(times[n]) for n in checkouts)
        rounds = " ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(times["reference"], times["this"]))
        print(f"{case:<14}{ref:>14.3f}{this:>12.3f}{ref / this:>12.2f}   {rounds}", flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
