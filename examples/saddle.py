"""Saddle points and plateaus: how fast GD, Momentum, RMSprop and Adam get away.

    python examples/saddle.py [--out DIR] [--lr 0.1] [--max-steps 5000]

The notes: in high dimensions a point of zero gradient is almost always a saddle, not a
local optimum, and what slows training down is the flat region around it (a plateau);
momentum and Adam help to leave it. Two surfaces, gradients by honed's autograd and steps by
honed.optim:

* saddle  f(x, y) = x² - y², from (1, 0.001): the gradient in y is 2·0.001, tiny, so plain
  gradient descent needs many steps before y grows; we count steps until |y| > 1.
* plateau f(x, y) = -exp(-(x² + y²)), from (2, 2): a nearly flat region (|∇f| ≈ 2e-3) around a
  well; we count steps until f < -0.5 (inside the well).

RMSprop and Adam divide by the running gradient size, so they move about ``lr`` per step
however flat the surface is. (RMSprop, having no bias correction, takes a huge first step:
``s₁ = (1-β₂) g₁²`` so ``g₁/√s₁ = 1/√(1-β₂) ≈ 32``; on the saddle that alone throws y past 1.)
A table is printed; with matplotlib, ``saddle.png`` in ``--out``
shows the trajectories over the contours.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from honed.autograd import Parameter, exp, no_grad
from honed.optim import GD, Adam, Momentum, RMSprop


def saddle(x, y):
    return x**2 - y**2


def plateau(x, y):
    return -exp(-(x**2 + y**2))


SURFACES = {
    # name: (function, start, "escaped" test on (x, y, f), what the test means)
    "saddle": (saddle, (1.0, 1e-3), lambda x, y, f: abs(y) > 1.0, "|y| > 1"),
    "plateau": (plateau, (2.0, 2.0), lambda x, y, f: f < -0.5, "f < -0.5"),
}


def optimizers(lr: float):
    return {
        "GD": lambda p: GD(p, lr=lr),
        "Momentum": lambda p: Momentum(p, lr=lr, beta=0.9),
        "RMSprop": lambda p: RMSprop(p, lr=lr, beta2=0.999),
        "Adam": lambda p: Adam(p, lr=lr),
    }


def descend(f, start, escaped, make_optimizer, max_steps: int):
    """Minimise ``f`` from ``start``; returns (steps to escape or None, trajectory)."""
    x = Parameter(np.array(start[0]), dtype=np.float64)
    y = Parameter(np.array(start[1]), dtype=np.float64)
    opt = make_optimizer([x, y])
    path = [start]
    for step in range(1, max_steps + 1):
        opt.minimize(f(x, y))
        xv, yv = float(x.data), float(y.data)
        path.append((xv, yv))
        with no_grad():  # escape is judged at the new point
            fv = float(f(x, y).data)
        if escaped(xv, yv, fv):
            return step, np.array(path)
    return None, np.array(path)


def run(lr: float, max_steps: int):
    results = {}
    for surface, (f, start, escaped, _) in SURFACES.items():
        for name, make in optimizers(lr).items():
            results[surface, name] = descend(f, start, escaped, make, max_steps)
    return results


def print_table(results, lr: float, max_steps: int) -> None:
    names = list(optimizers(lr))
    print(f"Steps to leave (lr = {lr}; '>{max_steps}' = still stuck)")
    print(f"{'surface':<10}{'start':<14}{'leave when':<12}" + "".join(f"{n:>10}" for n in names))
    for surface, (_, start, _, rule) in SURFACES.items():
        cells = []
        for n in names:
            steps, _ = results[surface, n]
            cells.append(f"{steps if steps is not None else '>' + str(max_steps):>10}")
        print(f"{surface:<10}{str(start):<14}{rule:<12}" + "".join(cells))


def plot(results, out: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no figure")
        return None
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
    boxes = {"saddle": (-1.5, 1.5, -1.5, 1.5), "plateau": (-1.0, 2.5, -1.0, 2.5)}
    for ax, (surface, (f, start, _, rule)) in zip(axes, SURFACES.items()):
        x0, x1, y0, y1 = boxes[surface]
        gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
        gz = f(Parameter(gx, dtype=np.float64), Parameter(gy, dtype=np.float64)).data
        ax.contourf(gx, gy, gz, levels=30, cmap="viridis", alpha=0.8)
        ax.contour(gx, gy, gz, levels=15, colors="k", linewidths=0.3)
        for name in ("GD", "Momentum", "RMSprop", "Adam"):
            steps, path = results[surface, name]
            label = f"{name} ({steps if steps is not None else 'stuck'})"
            ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, label=label)
        ax.plot(*start, "r*", ms=12)
        ax.set(
            xlim=(x0, x1),
            ylim=(y0, y1),
            xlabel="x",
            ylabel="y",
            title=f"{surface}: steps until {rule}",
        )
        ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "saddle.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/saddle"), help="figure folder")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--max-steps", type=int, default=5000)
    args = parser.parse_args(argv)
    results = run(args.lr, args.max_steps)
    print_table(results, args.lr, args.max_steps)
    figure = plot(results, args.out)
    if figure is not None:
        print(f"figure: {figure}")


if __name__ == "__main__":
    main()
