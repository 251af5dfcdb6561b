"""Where a captured (replayed) step's time goes, op by op, and what capture-time fusion
(:mod:`honed.autograd.fusion`) saves: the same step replayed from a fused and an unfused
Program, interleaved.

Cases (float32 and float64, one thread, every member on the same batch of 64):

* ``moons``: 64 members ``[2, 5, 2, 1]`` ReLU, sigmoid cross-entropy (the population
  benchmark's step);
* ``moons-bn``: the same with batch norm and dropout 0.8 (as the lab runs).

Times are CPU time (``time.process_time``: another process on the machine slows it less than
wall time), per step, median of ``--rounds`` blocks of ``--steps`` steps; the per-op table
runs each op's forward and backward alone on the replay's own arrays.

    OPENBLAS_NUM_THREADS=1 python benchmarks/captured_step.py [--rounds 15 --steps 300]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def record(model, loss, X, y, fuse):
    from honed.autograd import Tensor
    from honed.autograd.capture import Tape, build_program

    with Tape() as tape:
        x = Tensor(X)
        out = model(x)
        tape.mark_loss()
        J = loss(out, y)
    return build_program(tape, x, y, model.parameters(), out, J, fuse=fuse)


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
        if "activation" in kw:  # a fused op writes over its own z: give it a fresh one each time
            pass
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
        name = cls.__name__
        if "activation" in kw:
            name = f"{kw['linear'].__name__}+{kw['activation'].__name__}"
        rows.append((name, forward * 1e6, backward * 1e6))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    import honed.nn as nn

    loss = nn.build_loss("sigmoid_cross_entropy")
    rng = np.random.default_rng(0)
    for name, batch_norm, keep in (("moons", False, 1.0), ("moons-bn", True, 0.8)):
        for dtype in (np.float32, np.float64):
            X = rng.standard_normal((64, 2)).astype(dtype)
            y = rng.integers(0, 2, 64)
            model = stacked_model(batch_norm, keep, dtype)
            programs = {f: record(model, loss, X, y, f) for f in (False, True)}
            params = model.parameters()
            times = {False: [], True: []}
            for _ in range(args.rounds):
                for fused, program in programs.items():
                    times[fused].append(step_seconds(program, params, X, y, args.steps))
            plain, fused = (statistics.median(times[f]) * 1e6 for f in (False, True))
            print(f"\n{name} {np.dtype(dtype).name}: replayed step (forward + backward), µs")
            print(f"  unfused {plain:7.1f} ({len(programs[False].ops)} ops)")
            print(f"  fused   {fused:7.1f} ({len(programs[True].ops)} ops)   {plain / fused:.2f}x")
            print(f"  {'op':<28}{'forward µs':>11}{'backward µs':>12}")
            for op, f, b in per_op(programs[True], X, y):
                print(f"  {op:<28}{f:>11.1f}{b:>12.1f}")


if __name__ == "__main__":
    main()
