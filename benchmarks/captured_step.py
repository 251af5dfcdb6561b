"""Where a captured (replayed) step's time goes, op by op.

Cases (float32 and float64, one thread, every member on the same batch of 64):

* ``moons``: 64 members ``[2, 5, 2, 1]`` ReLU, sigmoid cross-entropy (the population
  benchmark's step);
* ``moons-bn``: the same with batch norm and dropout 0.8 (as the lab runs).

Times are CPU time (``time.process_time``: another process on the machine slows it less than
wall time), per step, median of ``--rounds`` blocks of ``--steps`` steps; the per-op table
runs each op's forward and backward alone on the replay's own arrays (the rest of the step is
the replay's own Python and the parameters' gradients handed over).

    OPENBLAS_NUM_THREADS=1 python benchmarks/captured_step.py [--rounds 15 --steps 300]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def stacked_model(batch_norm: bool, keep_prob: float, dtype):
    import honed.nn as nn
    from honed.nn import members

    models = [
        nn.mlp([2, 5, 2, 1], batch_norm=batch_norm, keep_prob=keep_prob, seed=k).to(dtype)
        for k in range(64)
    ]
    return members.stack(models[0], models)


def step_seconds(program, params, X, y, steps: int) -> float:
    started = time.process_time()
    for _ in range(steps):
        for p in params:
            p.grad = None
        program.forward(X, y).backward()
    return (time.process_time() - started) / steps


def per_op(program, X, y, reps: int = 2000) -> list[tuple[str, float, float]]:
    """(op, forward µs, backward µs) for each op, alone, on the arrays a replay gives it."""
    from honed.autograd.capture import _as_target

    replay = program.forward(X, y)
    values, rows = replay.values, []
    for cls, inputs, kwargs, target_kwargs, needs, _ in program._plans:
        args = [values[i] for i in inputs]
        kw = dict(kwargs, **{k: _as_target(np.asarray(y), f) for k, f in target_kwargs.items()})
        fn = object.__new__(cls)
        fn.needs_grad = needs
        started = time.process_time()
        for _ in range(reps):
            out = fn.forward(*args, **kw)
        forward = (time.process_time() - started) / reps
        grad = np.ones_like(out)
        started = time.process_time()
        for _ in range(reps):
            fn.backward(grad)
        backward = (time.process_time() - started) / reps
        rows.append((cls.__name__, forward * 1e6, backward * 1e6))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    import honed.nn as nn
    from honed.autograd.capture import record_step

    loss = nn.build_loss("sigmoid_cross_entropy")
    rng = np.random.default_rng(0)
    for name, batch_norm, keep in (("moons", False, 1.0), ("moons-bn", True, 0.8)):
        for dtype in (np.float32, np.float64):
            X = rng.standard_normal((64, 2)).astype(dtype)
            y = rng.integers(0, 2, 64)
            model = stacked_model(batch_norm, keep, dtype)
            program = record_step(model, loss, X, y)
            params = model.parameters()
            times = [step_seconds(program, params, X, y, args.steps) for _ in range(args.rounds)]
            rows = per_op(program, X, y)
            print(f"\n{name} {np.dtype(dtype).name}: replayed step (forward + backward)")
            print(f"  {'op':<28}{'forward µs':>11}{'backward µs':>12}")
            for op, f, b in rows:
                print(f"  {op:<28}{f:>11.1f}{b:>12.1f}")
            ops = sum(f + b for _, f, b in rows)
            step = statistics.median(times) * 1e6
            print(f"  {'ops alone':<28}{ops:>23.1f}")
            print(f"  {'whole step (replayed)':<28}{step:>23.1f}")


if __name__ == "__main__":
    main()
