"""One training step's forward+backward with the member axis: a stacked model of P members
(``honed.nn.members``) against P standalone honed models and P PyTorch models, one run.

(a) moons-sized ``[2, 5, 2, 1]`` ReLU, sigmoid cross-entropy, batch 64, P = 64;
(b) the same with batch norm and dropout (keep_prob 0.8; dropout draws one mask per member);
(c) Fashion-MNIST-sized 784-256-256-10 ReLU, softmax cross-entropy, batch 128, P = 16.

Every member sees the same batch (the population's common order), float32. honed's steps are
captured and replayed (the Trainer's step: no graph built), stacked and standalone; PyTorch
runs ``zero_grad``, forward, loss, backward per member. No optimizer step (that is
``optimizer_step.py``'s). Best of 7 rounds, the three columns interleaved in each round;
(a) and (b) on one thread (NumPy's BLAS and torch alike: more only add synchronisation for
these sizes), (c) on every core.

    python benchmarks/member_axis.py
"""

from __future__ import annotations

import os
import time

import numpy as np


def replayed(model, loss, X, y):
    """A function running ``model``'s captured step on ``X``, ``y`` (forward and backward)."""
    from honed.autograd.capture import record_step

    program = record_step(model, loss, X, y)
    params = model.parameters()

    def step():
        for p in params:
            p.grad = None
        program.forward(X, y).backward()

    return step


def torch_models(sizes, P, batch_norm, keep_prob):
    import torch

    models = []
    for k in range(P):
        torch.manual_seed(k)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(n_in, n_out))
            if i < len(sizes) - 2:
                if batch_norm:
                    layers.append(torch.nn.BatchNorm1d(n_out))
                layers.append(torch.nn.ReLU())
                if keep_prob < 1:
                    layers.append(torch.nn.Dropout(1 - keep_prob))
        models.append(torch.nn.Sequential(*layers))
    return models


def case(name, sizes, P, batch, batch_norm, keep_prob, threads, rounds=7):
    import torch
    from threadpoolctl import threadpool_limits

    import honed.nn as nn
    from honed.nn import members

    threadpool_limits(threads)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    binary = sizes[-1] == 1
    y = rng.integers(0, 2 if binary else sizes[-1], batch)
    loss = nn.build_loss("sigmoid_cross_entropy" if binary else "softmax_cross_entropy")
    models = [nn.mlp(sizes, batch_norm=batch_norm, keep_prob=keep_prob, seed=k) for k in range(P)]
    stacked = replayed(members.stack(models[0], models), loss, X, y)
    singles = [replayed(m, loss, X, y) for m in models]

    tmodels = torch_models(sizes, P, batch_norm, keep_prob)
    tX = torch.from_numpy(X)
    ty = torch.from_numpy(y.astype(np.float32)[:, None]) if binary else torch.from_numpy(y)
    tloss = torch.nn.BCEWithLogitsLoss() if binary else torch.nn.CrossEntropyLoss()

    def torch_step(model):
        model.zero_grad()
        tloss(model(tX), ty).backward()

    def sequential_honed():
        for step in singles:
            step()

    def sequential_torch():
        for model in tmodels:
            torch_step(model)

    n = max(1, int(2000 / P)) if sizes[0] < 100 else 2
    columns = {"stacked": stacked, "sequential honed": sequential_honed}
    columns["sequential torch"] = sequential_torch
    best = dict.fromkeys(columns, float("inf"))
    for _ in range(rounds):
        for label, fn in columns.items():
            fn()  # warm
            started = time.perf_counter()
            for _ in range(n):
                fn()
            best[label] = min(best[label], (time.perf_counter() - started) / n)
    base = best["stacked"]
    print(f"\n{name}: P = {P}, batch {batch}, {threads} thread(s); ms per step of all members")
    print(f"{'':20s} {'ms':>9s} {'vs stacked':>11s}")
    for label, seconds in best.items():
        print(f"{label:20s} {seconds * 1e3:9.3f} {seconds / base:10.1f}x")


def main() -> None:
    case("(a) moons [2, 5, 2, 1]", [2, 5, 2, 1], 64, 64, False, 1.0, threads=1)
    case("(b) moons, batch norm + dropout 0.8", [2, 5, 2, 1], 64, 64, True, 0.8, threads=1)
    cores = os.cpu_count() or 1
    case("(c) 784-256-256-10", [784, 256, 256, 10], 16, 128, False, 1.0, threads=cores)


if __name__ == "__main__":
    main()
