"""Populations vs sequential runs: one honed population against P honed ``Trainer`` runs and P
PyTorch runs, side by side in one process run.

(a) moons, ``[2, 5, 2, 1]`` ReLU, Adam (lr log-uniform in [1e-3, 1e-1], one per member),
    batch 64, 64 members x 100 epochs, dev error every epoch in all three.
(b) Fashion-MNIST, 784-256-256-10 ReLU, Adam (lr log-uniform in [3e-4, 3e-3]), batch 128,
    16 members x 2 epochs: member-epochs per second, and memory per member (the estimate
    the population checks before training, and the peak NumPy memory traced while training,
    divided by P).

All runs use the same mini-batch order (honed's ``minibatches`` with seed 0: the
population's common order), float32, and evaluate the dev set after every epoch. PyTorch
runs a plain loop with its default Adam (foreach) and ``BCEWithLogitsLoss`` /
``cross_entropy``; on the tiny moons network it gets one thread (more only add
synchronisation), on Fashion-MNIST all cores. The PyTorch runs come last, so its thread pool
is not alive while NumPy is timed.

    python benchmarks/population.py           # full: a few minutes on 2 cores
    python benchmarks/population.py --quick   # fewer sequential runs (scaled up), 1 epoch (b)

With ``--quick`` the sequential columns time a subset of the members and scale the time to
all P (each sequential run costs the same: same network, same number of steps).

honed's sequential runs go twice, interleaved member by member: with the Trainer's captured
step (the default) and eagerly (``capture=False``).

The population runs once per optimizer kernel: NumPy's (the reference) and, when the
``accel`` extra is installed, numba's one-pass update; each gets a column of speed-ups.
"""

from __future__ import annotations

import argparse
import functools
import os
import time
import tracemalloc

import numpy as np

from honed.data import Standardizer, fashion_mnist, minibatches, moons, train_dev_split
from honed.nn import mlp
from honed.optim import Adam
from honed.population import Population, PopulationTrainer
from honed.train import Trainer


def moons_data():
    data = moons(1000, noise=0.2, seed=0)
    return train_dev_split(data, dev=200, seed=0)


def fashion_data():
    train, _ = fashion_mnist()
    train, dev = train_dev_split(train, dev=5000, seed=0)
    scaler = Standardizer(per_feature=False).fit(train)
    return scaler.transform(train), scaler.transform(dev)


def learning_rates(P: int, low: float, high: float) -> list[float]:
    rng = np.random.default_rng(1)
    return [float(v) for v in np.exp(rng.uniform(np.log(low), np.log(high), P))]


# -- honed ------------------------------------------------------------------------------
def run_population(sizes, lrs, train, dev, epochs, batch, loss, kernels="numpy"):
    members = [{"optimizer": "adam", "lr": lr, "seed": k} for k, lr in enumerate(lrs)]
    pop = Population({"sizes": sizes, "activation": "relu"}, members)
    trainer = PopulationTrainer(pop, loss=loss, batch_size=batch, seed=0, kernels=kernels)
    estimate = trainer.memory_estimate(len(dev.X))
    started = time.perf_counter()
    trainer.fit(train, dev, epochs=epochs)
    seconds = time.perf_counter() - started
    best = [h.best("dev_error").get("dev_error") for h in pop.histories]
    return seconds, best, estimate["per_member"]


def traced_peak(sizes, lrs, train, dev, batch, loss) -> float:
    """Peak NumPy memory per member over one epoch on 4096 examples (tracemalloc slows every
    allocation, so this run is not timed; the peak depends on P, the batch and the dev
    set, not on the number of training examples)."""
    from honed.data import Dataset

    members = [{"optimizer": "adam", "lr": lr, "seed": k} for k, lr in enumerate(lrs)]
    pop = Population({"sizes": sizes, "activation": "relu"}, members)
    trainer = PopulationTrainer(pop, loss=loss, batch_size=batch, seed=0)
    small = Dataset(train.X[:4096], train.y[:4096])
    tracemalloc.start()
    trainer.fit(small, dev, epochs=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / len(lrs)


def run_honed(sizes, lr, seed, train, dev, epochs, batch, loss, capture=True):
    model = mlp(sizes, activation="relu", seed=seed)
    trainer = Trainer(
        model,
        Adam(model.parameters(), lr=lr),
        loss=loss,
        batch_size=batch,
        seed=0,
        capture=capture,
    )
    started = time.perf_counter()
    history = trainer.fit(train, dev, epochs=epochs, verbose=0)
    return time.perf_counter() - started, history.best("dev_error")["dev_error"]


# -- torch ------------------------------------------------------------------------------
def run_torch(sizes, lr, seed, train, dev, epochs, batch, loss):
    import torch
    from torch import nn

    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    binary = loss == "sigmoid_cross_entropy"
    loss_fn = nn.BCEWithLogitsLoss() if binary else nn.CrossEntropyLoss()
    X_dev = torch.from_numpy(dev.X)
    y_dev = dev.y
    rng = np.random.default_rng(0)
    best = 1.0
    started = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in minibatches(train.X, train.y, batch, rng):
            xt = torch.from_numpy(xb)
            yt = torch.from_numpy(yb.astype(np.float32)[:, None] if binary else yb)
            opt.zero_grad()
            loss_fn(model(xt), yt).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            out = model(X_dev).numpy()
        pred = (out[:, 0] > 0).astype(y_dev.dtype) if binary else out.argmax(axis=1)
        best = min(best, float(np.mean(pred != y_dev)))
    return time.perf_counter() - started, best


def sequential(run, sizes, lrs, n_timed, train, dev, epochs, batch, loss):
    """Time the first ``n_timed`` members one after the other; scale to all of them."""
    return interleaved({"": run}, sizes, lrs, n_timed, train, dev, epochs, batch, loss)[""]


def interleaved(runs, sizes, lrs, n_timed, train, dev, epochs, batch, loss):
    """``sequential`` for several ways to run a member (name -> run), interleaved member by
    member (A B A B ...) so that the machine's drifting load falls on all of them alike."""
    seconds = dict.fromkeys(runs, 0.0)
    best = {name: [] for name in runs}
    for k in range(n_timed):
        for name, run in runs.items():
            s, b = run(sizes, lrs[k], k, train, dev, epochs, batch, loss)
            seconds[name] += s
            best[name].append(b)
    return {name: (seconds[name] * len(lrs) / n_timed, best[name]) for name in runs}


#: honed's sequential runs: the Trainer with its captured step (the default) and eagerly.
HONED_RUNS = {
    "honed sequential": run_honed,
    "honed seq. eager": functools.partial(run_honed, capture=False),
}


def kernel_variants() -> list[str]:
    """The population's optimizer kernels to time: NumPy (the reference), and numba's
    one-pass kernel when the ``accel`` extra is installed."""
    from honed.optim import kernels

    return ["numpy", "numba"] if kernels.available() else ["numpy"]


def warm_up(sizes, train, dev, batch, loss, kernel) -> None:
    """One untimed epoch on 512 examples: numba loads (or, the first time on a machine,
    compiles and caches) its kernel here, not inside the timed run."""
    from honed.data import Dataset

    small = Dataset(train.X[:512], train.y[:512])
    run_population(sizes, [1e-3] * 4, small, dev, 1, batch, loss, kernel)


def print_table(title, rows, populations, unit, work):
    """``rows``: (variant, seconds, best dev errors); ``populations``: kernel -> seconds of
    the population with it. One column of speed-ups per kernel: how many times longer a
    variant takes than that population."""
    pops = list(populations.items())
    head = f"{'variant':<22}{unit:>16}" + "".join(f"{'x ' + kernel:>12}" for kernel, _ in pops)
    print(title)
    print(head + f"{'median best dev err':>22}")
    for name, seconds, best in rows:
        value = seconds if unit == "seconds" else work / seconds
        ratios = "".join(f"{seconds / s:>12.2f}" for _, s in pops)
        print(f"{name:<22}{value:>16.3f}{ratios}{np.median(best):>22.4f}")
    print(f"(x K: the variant's time over the population's with kernel K; {unit} per variant)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="time subsets, scale them up")
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--skip-fashion", action="store_true")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    variants = kernel_variants()

    # (a) moons
    P_a, E_a = 64, 100
    lrs_a = learning_rates(P_a, 1e-3, 1e-1)
    train_a, dev_a = moons_data()
    n_seq_a = 8 if args.quick else P_a
    sizes_a, loss_a = [2, 5, 2, 1], "sigmoid_cross_entropy"
    rows_a, pops_a = [], {}
    for kernel in variants:
        warm_up(sizes_a, train_a, dev_a, 64, loss_a, kernel)
        s, best, _ = run_population(sizes_a, lrs_a, train_a, dev_a, E_a, 64, loss_a, kernel)
        rows_a.append((f"population ({kernel})", s, best))
        pops_a[kernel] = s
    honed_a = interleaved(HONED_RUNS, sizes_a, lrs_a, n_seq_a, train_a, dev_a, E_a, 64, loss_a)
    rows_a += [(name, *result) for name, result in honed_a.items()]

    # (b) Fashion-MNIST
    rows_b, pops_b = [], {}
    if not args.skip_fashion:
        P_b, E_b = (16, 1) if args.quick else (16, 2)
        lrs_b = learning_rates(P_b, 3e-4, 3e-3)
        train_b, dev_b = fashion_data()
        n_seq_b = 2 if args.quick else P_b
        sizes_b, loss_b = [784, 256, 256, 10], "softmax_cross_entropy"
        for kernel in variants:
            warm_up(sizes_b, train_b, dev_b, 128, loss_b, kernel)
            s, best, est_b = run_population(
                sizes_b, lrs_b, train_b, dev_b, E_b, 128, loss_b, kernel
            )
            rows_b.append((f"population ({kernel})", s, best))
            pops_b[kernel] = s
        peak_b = traced_peak(sizes_b, lrs_b, train_b, dev_b, 128, loss_b)
        honed_b = interleaved(HONED_RUNS, sizes_b, lrs_b, n_seq_b, train_b, dev_b, E_b, 128, loss_b)
        rows_b += [(name, *result) for name, result in honed_b.items()]

    if not args.skip_torch:
        import torch

        torch.set_num_threads(1)
        rows_a.append(
            ("torch sequential",)
            + sequential(run_torch, sizes_a, lrs_a, n_seq_a, train_a, dev_a, E_a, 64, loss_a)
        )
        if not args.skip_fashion:
            torch.set_num_threads(cores)
            rows_b.append(
                ("torch sequential",)
                + sequential(run_torch, sizes_b, lrs_b, n_seq_b, train_b, dev_b, E_b, 128, loss_b)
            )

    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {cores} cores")
    print_table(
        f"\n(a) moons [2,5,2,1], Adam, batch 64, {P_a} members x {E_a} epochs"
        + (f" (sequential: {n_seq_a} runs timed, scaled to {P_a})" if args.quick else ""),
        rows_a,
        pops_a,
        "seconds",
        P_a * E_a,
    )
    if rows_b:
        print_table(
            f"\n(b) Fashion-MNIST 784-256-256-10, Adam, batch 128, {P_b} members x {E_b} "
            "epochs" + (f" (sequential: {n_seq_b} runs timed, scaled)" if args.quick else ""),
            rows_b,
            pops_b,
            "member-epochs/s",
            P_b * E_b,
        )
        mib = 1024 * 1024
        print(
            f"memory per member: estimate {est_b / mib:.1f} MiB, traced peak "
            f"{peak_b / mib:.1f} MiB (parameters alone: {269_322 * 4 / mib:.1f} MiB)"
        )


if __name__ == "__main__":
    main()
