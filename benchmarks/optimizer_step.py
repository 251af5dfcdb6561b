"""Time of one Adam step over a 784-256-256-10 MLP's parameters: honed vs torch.optim.Adam.

    python benchmarks/optimizer_step.py [--steps 2000] [--threads N]

269,322 float32 parameters in 6 tensors, fixed random gradients. The variants run
interleaved (A B C D A B C D ...) so drifts in clock speed or cache state hit all of them
alike; the table gives the median, 10th and 90th percentile per step and the ratio to
honed. torch's default on CPU is the single-tensor loop (``foreach`` is chosen only for
CUDA-like devices), listed anyway. torch is optional: without it only honed is timed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from honed.autograd import Parameter
from honed.optim import Adam

SHAPES = [(784, 256), (256,), (256, 256), (256,), (256, 10), (10,)]


def make_honed(rng):
    params = [Parameter(rng.standard_normal(s).astype(np.float32)) for s in SHAPES]
    for p in params:
        p.grad = rng.standard_normal(p.data.shape).astype(np.float32)
    opt = Adam(params, lr=1e-3)
    return opt.step


def make_torch(rng, **kwargs):
    import torch

    params = []
    for s in SHAPES:
        p = torch.nn.Parameter(torch.from_numpy(rng.standard_normal(s).astype(np.float32)))
        p.grad = torch.from_numpy(rng.standard_normal(s).astype(np.float32))
        params.append(p)
    opt = torch.optim.Adam(params, lr=1e-3, **kwargs)
    return opt.step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    variants = {"honed Adam": make_honed(rng)}
    try:
        import torch
    except ImportError:
        torch = None
        print("torch not installed: timing honed only")
    if torch is not None:
        if args.threads:
            torch.set_num_threads(args.threads)
        variants["torch Adam (default)"] = make_torch(rng)
        variants["torch Adam foreach=False"] = make_torch(rng, foreach=False)
        variants["torch Adam foreach=True"] = make_torch(rng, foreach=True)
        variants["torch Adam fused=True"] = make_torch(rng, fused=True)

    steps = list(variants.values())
    times = {name: np.empty(args.steps) for name in variants}
    for _ in range(args.warmup):
        for step in steps:
            step()
    clock = time.perf_counter_ns
    for i in range(args.steps):
        for name, step in variants.items():
            start = clock()
            step()
            times[name][i] = clock() - start

    n = sum(int(np.prod(s)) for s in SHAPES)
    info = f"{n:,} float32 parameters in {len(SHAPES)} tensors, {args.steps} steps each"
    if torch is not None:
        info += f", torch {torch.__version__} with {torch.get_num_threads()} threads"
    print(f"Adam step, {info}; NumPy {np.__version__}")
    base = np.median(times["honed Adam"])
    print(f"{'variant':<28}{'median µs':>11}{'p10 µs':>9}{'p90 µs':>9}{'÷ honed':>9}")
    for name, t in times.items():
        med = np.median(t)
        p10, p90 = np.percentile(t, [10, 90])
        print(f"{name:<28}{med / 1e3:>11.1f}{p10 / 1e3:>9.1f}{p90 / 1e3:>9.1f}{med / base:>9.2f}")


if __name__ == "__main__":
    main()
