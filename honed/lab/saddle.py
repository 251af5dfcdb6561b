"""saddle: near saddle points and on plateaus, RMSprop and Adam get away far faster than GD.

The notes: in high dimensions a zero gradient is almost always a saddle point, not a local
optimum; what slows learning is the plateau around it, where the gradient is tiny for a long
time. Momentum accumulates the small steps; RMSprop and Adam divide by the running gradient
size, so they move about α per step however flat the surface is.

Setup (as ``examples/saddle.py``): the saddle ``f = x² − y²`` from ``(1, y₀)`` with y₀ drawn
per seed in ±[0.5, 1.5]·1e-3 (escaped when |y| > 1) and the plateau ``f = −exp(−(x² + y²))``
from ``(2, 2) + N(0, 0.05²)`` per seed (escaped when f < −0.5); GD, Momentum (β = 0.9), RMSprop
and Adam at α = 0.1, at most 5000 steps; gradients by honed's autograd. Verdict: on both
surfaces, RMSprop and Adam need fewer steps than GD, seed by seed (paired: the same start per
seed; :mod:`honed.lab.base`'s rule).

Momentum is measured but not part of the verdict: with the notes' form
``v = βv + (1−β)dW``, a steady gradient gives the step ``α·dW``, the same as GD's, reached
after a warm-up lag; so at equal α it does not leave a plateau sooner (it is measured slower).
Its benefit is damping oscillations across a ravine, not speed on a flat region.
"""

from __future__ import annotations

import time

import numpy as np

from honed.autograd import Parameter, exp, no_grad
from honed.lab.base import LabResult, all_checks, mean_sd, paired, png, seeds_list
from honed.lab.common import pyplot
from honed.optim import GD, Adam, Momentum, RMSprop

NAME = "saddle"
CLAIM = (
    "RMSprop and Adam leave a saddle point and a plateau in far fewer steps than gradient descent"
)
DEFAULTS = {"lr": 0.1, "max_steps": 5000, "beta": 0.9}
QUICK = {"max_steps": 2000}


def saddle(x, y):
    return x**2 - y**2


def plateau(x, y):
    return -exp(-(x**2 + y**2))


SURFACES = {
    "saddle": (saddle, lambda x, y, f: abs(y) > 1.0, "|y| > 1"),
    "plateau": (plateau, lambda x, y, f: f < -0.5, "f < -0.5"),
}


def start(surface: str, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    if surface == "saddle":
        return 1.0, float(rng.choice([-1, 1]) * rng.uniform(0.5, 1.5) * 1e-3)
    x, y = 2.0 + rng.normal(0, 0.05, 2)
    return float(x), float(y)


def optimizers(s):
    lr = s["lr"]
    return {
        "GD": lambda p: GD(p, lr=lr),
        "Momentum": lambda p: Momentum(p, lr=lr, beta=s["beta"]),
        "RMSprop": lambda p: RMSprop(p, lr=lr),
        "Adam": lambda p: Adam(p, lr=lr),
    }


def descend(f, origin, escaped, make, max_steps: int):
    """Steps until ``escaped`` (max_steps + 1 when never) and the path."""
    x = Parameter(np.array(origin[0]), dtype=np.float64)
    y = Parameter(np.array(origin[1]), dtype=np.float64)
    opt = make([x, y])
    path = [origin]
    for step in range(1, max_steps + 1):
        opt.minimize(f(x, y))
        xv, yv = float(x.data), float(y.data)
        path.append((xv, yv))
        with no_grad():
            if escaped(xv, yv, float(f(x, y).data)):
                return step, np.array(path)
    return max_steps + 1, np.array(path)


def run(seeds=5, quick: bool = False, **overrides) -> LabResult:
    s = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    seeds = seeds_list(seeds)
    started = time.perf_counter()
    opts = optimizers(s)
    m = {surface: {name: [] for name in opts} for surface in SURFACES}
    paths = {}
    for seed in seeds:
        for surface, (f, escaped, _) in SURFACES.items():
            for name, make in opts.items():
                steps, path = descend(f, start(surface, seed), escaped, make, s["max_steps"])
                m[surface][name].append(steps)
                paths.setdefault((surface, name), (steps, path))
    rows = [
        [surface, name, mean_sd(v), f"{sum(x > s['max_steps'] for x in v)}/{len(v)}"]
        for surface, per in m.items()
        for name, v in per.items()
    ]
    checks = [
        paired(
            per["GD"],
            per[name],
            f"{surface}: {name} needs fewer steps than GD",
            scale=1.0,
            unit=" steps",
        )
        for surface, per in m.items()
        for name in ("RMSprop", "Adam")
    ]
    return LabResult(
        name=NAME,
        claim=CLAIM,
        settings=s,
        columns=["surface", "optimizer", "steps to leave", "stuck"],
        rows=rows,
        measurements=m,
        figures={"paths": png(_figure(paths))},
        verdict=all_checks(checks),
        seeds=seeds,
        seconds=time.perf_counter() - started,
        notes="the notes argue qualitatively (no numbers); stuck runs count as max_steps + 1; Momentum (notes' (1-β) form) is slower than GD here at equal α, see the docstring",
    )


def _figure(paths):
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 5))
    boxes = {"saddle": (-1.5, 1.5, -1.5, 1.5), "plateau": (-1.0, 2.5, -1.0, 2.5)}
    for ax, (surface, (f, _, rule)) in zip(axes, SURFACES.items()):
        x0, x1, y0, y1 = boxes[surface]
        gx, gy = np.meshgrid(np.linspace(x0, x1, 150), np.linspace(y0, y1, 150))
        gz = f(Parameter(gx, dtype=np.float64), Parameter(gy, dtype=np.float64)).data
        ax.contourf(gx, gy, gz, levels=30, cmap="viridis", alpha=0.8)
        for name in ("GD", "Momentum", "RMSprop", "Adam"):
            steps, path = paths[surface, name]
            ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=1, label=f"{name} ({steps} steps)")
        ax.set(
            xlim=(x0, x1),
            ylim=(y0, y1),
            xlabel="x",
            ylabel="y",
            title=f"{surface} (seed 0): steps until {rule}",
        )
        ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig
