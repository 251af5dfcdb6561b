"""Time of one per-member optimizer step: honed.optim.MemberOptimizer with the NumPy path and
the compiled one, side by side in one run. (The stacked engine's PopulationOptimizer, which
this compared against while both existed, is gone; its numbers are in benchmarks/README.md.)

    python benchmarks/member_optimizer.py [--steps 2000] [--quick]

(a) 64 moons members, [2, 5, 2, 1] (36 numbers each), Adam, lr log-uniform per member;
(b) 16 Fashion-MNIST members, 784-256-256-10 (269,322 numbers each).

float32, fixed random gradients. MemberOptimizer's step includes gathering the parameters'
``.grad`` (separate arrays after backward) into its (P, R) gradient buffer. It runs with the
NumPy path and, when numba (the ``accel`` extra) is installed, the compiled one. Variants run interleaved (A B C D A B C D ...) so drifts in clock
speed or cache state hit all of them alike; median, 10th and 90th percentile per step.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from honed.autograd import Parameter
from honed.optim import MemberOptimizer, kernels

CASES = {
    "moons 64 x [2,5,2,1]": ([2, 5, 2, 1], 64, (1e-3, 1e-1)),
    "Fashion 16 x 784-256-256-10": ([784, 256, 256, 10], 16, (3e-4, 3e-3)),
}


def learning_rates(P, low, high):
    rng = np.random.default_rng(1)
    return [float(v) for v in np.exp(rng.uniform(np.log(low), np.log(high), P))]


def member_step(sizes, P, lrs, kernel, rng):
    """MemberOptimizer over Dense layers stacked as honed.nn stacks them."""
    shapes = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        shapes += [(P, n_in, n_out), (P, 1, n_out)]
    params = [Parameter(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    for p in params:
        p.grad = rng.standard_normal(p.data.shape).astype(np.float32)
    settings = [{"optimizer": "adam", "lr": lr} for lr in lrs]
    return MemberOptimizer(params, settings, kernels=kernel).step


def time_case(name, sizes, P, lr_range, steps, warmup):
    rng = np.random.default_rng(0)
    lrs = learning_rates(P, *lr_range)
    names = ["numpy", "numba"] if kernels.available() else ["numpy"]
    variants = {}
    for kernel in names:
        variants[f"MemberOptimizer {kernel}"] = member_step(sizes, P, lrs, kernel, rng)
    times = {v: np.empty(steps) for v in variants}
    for _ in range(warmup):
        for step in variants.values():
            step()
    clock = time.perf_counter_ns
    for i in range(steps):
        for v, step in variants.items():
            start = clock()
            step()
            times[v][i] = clock() - start
    n = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    print(f"\n{name}: {P} members x {n:,} float32 numbers, Adam, {steps} steps each")
    base = np.median(next(iter(times.values())))
    print(f"{'variant':<30}{'median µs':>11}{'p10 µs':>9}{'p90 µs':>9}{'÷ first':>9}")
    for v, t in times.items():
        med = np.median(t)
        p10, p90 = np.percentile(t, [10, 90])
        print(f"{v:<30}{med / 1e3:>11.1f}{p10 / 1e3:>9.1f}{p90 / 1e3:>9.1f}{med / base:>9.2f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="200 steps")
    args = parser.parse_args(argv)
    steps = 200 if args.quick else args.steps
    print(f"NumPy {np.__version__}; numba {'installed' if kernels.available() else 'absent'}")
    for name, (sizes, P, lr_range) in CASES.items():
        time_case(name, sizes, P, lr_range, steps, args.warmup)


if __name__ == "__main__":
    main()
