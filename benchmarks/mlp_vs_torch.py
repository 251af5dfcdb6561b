"""Seconds per epoch and test accuracy: honed's Trainer vs PyTorch on Fashion-MNIST.

The same 784-256-256-10 ReLU MLP, the same mini-batch order (both draw from
``honed.data.minibatches`` with the same seed), Adam with lr 1e-3, batch sizes 64/128/512,
with and without BatchNorm + dropout (keep_prob 0.8). honed runs through ``Trainer`` exactly
as users run it (including its per-epoch dev evaluation); PyTorch runs a plain loop with its
default Adam (foreach) and with ``fused=True``. For the plain MLP a fourth column times
``numpy_mlp.py``, the same network, loss and Adam written directly in NumPy with every
buffer reused: the floor honed's engine can reach with NumPy, so ``honed/numpy`` is the
engine's overhead. Runs are interleaved (A B C D A B C D ...) and the median epoch time is
reported. Both libraries use all cores for BLAS; each run is a
separate process, so neither library's idle thread pool slows the other.

    python benchmarks/mlp_vs_torch.py                  # timing: 2 epochs each, 3 rounds
    python benchmarks/mlp_vs_torch.py --accuracy 10    # also test accuracy after 10 epochs
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

from honed.data import Standardizer, fashion_mnist, minibatches, train_dev_split
from honed.nn import mlp
from honed.optim import Adam
from honed.train import Trainer

SIZES = [784, 256, 256, 10]


def load():
    train, test = fashion_mnist()
    train, dev = train_dev_split(train, dev=5000, seed=0)
    scaler = Standardizer(per_feature=False).fit(train)
    return scaler.transform(train), scaler.transform(dev), scaler.transform(test)


class HonedRun:
    name = "honed"

    def __init__(self, train, dev, batch_size, regularized, seed=0):
        keep = 0.8 if regularized else 1.0
        self.model = mlp(
            SIZES, activation="relu", batch_norm=regularized, keep_prob=keep, seed=seed
        )
        self.trainer = Trainer(
            self.model, Adam(self.model.parameters(), lr=1e-3), batch_size=batch_size, seed=seed
        )
        self.train, self.dev, self.epochs = train, dev, 0

    def epoch(self) -> float:
        self.epochs += 1
        started = time.perf_counter()
        self.trainer.fit(self.train, self.dev, epochs=self.epochs, verbose=0)
        return time.perf_counter() - started

    def accuracy(self, test) -> float:
        return 1 - self.trainer.evaluate(test)["error"]


class NumpyRun:
    """The hand-written NumPy MLP (numpy_mlp.py): honed's engine with its overhead removed."""

    name = "numpy"

    def __init__(self, train, dev, batch_size, regularized, seed=0):
        if regularized:
            raise ValueError("the hand-written NumPy reference is the plain MLP only")
        from numpy_mlp import NumpyMLP

        self.net = NumpyMLP(SIZES, seed=seed)
        self.train, self.dev, self.batch_size = train, dev, batch_size
        self.rng = np.random.default_rng(seed)

    def epoch(self) -> float:
        started = time.perf_counter()
        self.net.fit_epoch(
            self.train.X, self.train.y, self.batch_size, self.rng, self.dev.X, self.dev.y
        )
        return time.perf_counter() - started

    def accuracy(self, test) -> float:
        return 1 - self.net.error(test.X, test.y)


class TorchRun:
    def __init__(self, train, dev, batch_size, regularized, fused, seed=0):
        import torch
        from torch import nn

        torch.manual_seed(seed)
        layers, n_in = [], SIZES[0]
        for n_out in SIZES[1:-1]:
            layers += [nn.Linear(n_in, n_out, bias=not regularized)]
            if regularized:
                layers += [nn.BatchNorm1d(n_out, momentum=0.1)]
            layers += [nn.ReLU()]
            if regularized:
                layers += [nn.Dropout(0.2)]
            n_in = n_out
        layers.append(nn.Linear(n_in, SIZES[-1]))
        self.torch = torch
        self.model = nn.Sequential(*layers)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, fused=fused or None)
        self.name = "torch fused Adam" if fused else "torch default Adam"
        self.train, self.dev = train, dev
        self.rng = np.random.default_rng(seed)
        self.X = torch.from_numpy(train.X)
        self.y = torch.from_numpy(train.y)
        self.batch_size = batch_size

    def epoch(self) -> float:
        torch = self.torch
        started = time.perf_counter()
        self.model.train()
        loss_fn = torch.nn.functional.cross_entropy
        for xb, yb in minibatches(self.train.X, self.train.y, self.batch_size, self.rng):
            xb, yb = torch.from_numpy(xb), torch.from_numpy(yb)
            loss = loss_fn(self.model(xb), yb)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        self._error(self.dev)  # the same per-epoch dev evaluation the Trainer does
        return time.perf_counter() - started

    def _error(self, data) -> float:
        self.model.eval()
        with self.torch.no_grad():
            logits = self.model(self.torch.from_numpy(data.X))
        return float((logits.argmax(1).numpy() != data.y).mean())

    def accuracy(self, test) -> float:
        return 1 - self._error(test)


def _worker(args) -> None:
    """One implementation in a fresh process: warm-up epoch, then timed epochs (JSON out)."""
    import json

    import torch
    from threadpoolctl import threadpool_limits

    cores = os.cpu_count() or 1
    torch.set_num_threads(cores)
    threadpool_limits(cores)
    train, dev, test = load()
    regularized = args.variant != "plain"
    if args.impl == "honed":
        run = HonedRun(train, dev, args.batch, regularized)
    elif args.impl == "numpy":
        run = NumpyRun(train, dev, args.batch, regularized)
    else:
        run = TorchRun(train, dev, args.batch, regularized, fused=args.impl == "fused")
    if args.accuracy:
        for _ in range(args.accuracy):
            run.epoch()
        print(json.dumps({"accuracy": run.accuracy(test)}))
        return
    run.epoch()
    print(json.dumps({"times": [run.epoch() for _ in range(args.epochs)]}))


def _spawn(impl, variant, batch, epochs=0, accuracy=0) -> dict:
    import json
    import subprocess
    import sys

    cmd = [
        sys.executable,
        __file__,
        "--worker",
        impl,
        "--variant",
        variant,
        "--batch",
        str(batch),
        "--epochs",
        str(epochs),
        "--accuracy",
        str(accuracy),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


IMPLS = ("honed", "torch", "fused", "numpy")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch-sizes", default="64,128,512")
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per run and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--accuracy",
        type=int,
        default=0,
        help="also train this many epochs and report test accuracy",
    )
    parser.add_argument("--variants", default="plain,bn+dropout")
    parser.add_argument("--worker", choices=IMPLS, help=argparse.SUPPRESS)
    parser.add_argument("--variant", default="plain", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=128, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.impl = args.worker
        return _worker(args)

    import torch

    # Each run is its own process, interleaved A B C A B C: no thread pool left spinning by
    # one library slows the other, and every run sees the same machine state.
    print(
        f"Fashion-MNIST 55 000 train / 5 000 dev / 10 000 test; {os.cpu_count()} cores; torch {torch.__version__}; "
        f"median of {args.rounds}×{args.epochs} epochs, each implementation in its own process"
    )
    print(
        f"{'variant':<12}{'batch':>6}  {'honed s/ep':>10}  {'torch s/ep':>10}  {'fused s/ep':>10}"
        f"  {'numpy s/ep':>10}  {'honed/torch':>11}  {'honed/fused':>11}  {'honed/numpy':>11}"
    )
    for variant in args.variants.split(","):
        # The hand-written reference exists for the plain MLP only.
        impls = IMPLS if variant == "plain" else IMPLS[:3]
        for bs in map(int, args.batch_sizes.split(",")):
            times = {impl: [] for impl in impls}
            for _ in range(args.rounds):
                for impl in impls:
                    times[impl] += _spawn(impl, variant, bs, epochs=args.epochs)["times"]
            h, t, f = (statistics.median(times[impl]) for impl in IMPLS[:3])
            numpy_s, numpy_ratio = "-", "-"
            if "numpy" in times:
                n = statistics.median(times["numpy"])
                numpy_s, numpy_ratio = f"{n:.3f}", f"{h / n:.2f}"
            print(
                f"{variant:<12}{bs:>6}  {h:>10.3f}  {t:>10.3f}  {f:>10.3f}  {numpy_s:>10}"
                f"  {h / t:>11.2f}  {h / f:>11.2f}  {numpy_ratio:>11}",
                flush=True,
            )
    if args.accuracy:
        print(f"\ntest accuracy after {args.accuracy} epochs (batch 128)")
        for variant in args.variants.split(","):
            for impl in ("honed", "torch", "numpy")[: 3 if variant == "plain" else 2]:
                acc = _spawn(impl, variant, 128, accuracy=args.accuracy)["accuracy"]
                print(f"{variant:<12}{impl:<8}{acc:.4f}", flush=True)


if __name__ == "__main__":
    main()
