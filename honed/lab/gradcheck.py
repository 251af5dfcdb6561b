"""gradcheck: gradient checking passes a correct backward and points at a planted bug.

The course's gradient-checking notebook: flatten the parameters into θ, compare backprop's
dθ with the two-sided difference ``(J(θ+ε) − J(θ−ε)) / 2ε`` (ε = 1e-7) by
``‖dθ_approx − dθ‖ / (‖dθ_approx‖ + ‖dθ‖)``; < 1e-7 great, > 1e-3 a bug. Its planted bugs
multiply one gradient by a wrong factor (``dW2 = … · 2``, ``db1 = 4/m …``), and the notebook
reports a difference of about 0.285 for the buggy backward, < 1e-7 for the corrected one.

Here a ``[4, 5, 3, 1]`` tanh network (sigmoid cross-entropy) is checked twice on random data:
as built, and with its middle layer's backward replaced by one that returns ``bug_factor ×``
the true dW (the notebook's ``· 2``). Verdict: the correct network's relative error is below
1e-7 for every seed, the buggy one above 1e-3 for every seed, and the tensor with the
largest error is the planted layer's W in every seed (the bug located).
"""

from __future__ import annotations

import time

import numpy as np

from honed.autograd import Function
from honed.diagnose import gradcheck_model
from honed.lab.base import LabResult, all_checks, mean_sd, png, seeds_list
from honed.lab.common import pyplot
from honed.nn import Dense, Sequential, Tanh
from honed.optim import GD
from honed.train import Trainer

NAME = "gradcheck"
CLAIM = "gradient checking passes a correct backward (< 1e-7) and locates a planted bug (> 1e-3)"
DEFAULTS = {"sizes": [4, 5, 3, 1], "m": 8, "eps": 1e-7, "bug_layer": 2, "bug_factor": 2.0}
QUICK: dict = {}


class _LinearWrongDW(Function):
    """z = x·W + b with a planted bug: backward returns ``factor ×`` the true dW."""

    def forward(self, x, W, b, factor=2.0):
        self.x, self.W, self.factor = x, W, factor
        return x @ W + b

    def backward(self, g):
        return g @ self.W.T, self.factor * (self.x.T @ g), g.sum(axis=0)


class BuggyDense(Dense):
    """A Dense layer whose backward multiplies dW by ``factor`` (1: correct)."""

    def __init__(self, n_in, n_out, factor: float = 2.0, **kwargs):
        super().__init__(n_in, n_out, **kwargs)
        self.factor = float(factor)

    def forward(self, x):
        return _LinearWrongDW.apply(x, self.W, self.b, factor=self.factor)


def network(sizes, seed: int, bug_layer: int | None = None, bug_factor: float = 2.0):
    """Dense/tanh layers; the Dense at position ``bug_layer`` (in the Sequential) is buggy."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        position = len(layers)
        if position == bug_layer:
            layers.append(BuggyDense(n_in, n_out, factor=bug_factor, rng=rng))
        else:
            layers.append(Dense(n_in, n_out, rng=rng))
        if i < len(sizes) - 2:
            layers.append(Tanh())
    return Sequential(*layers)


def _trainer(model) -> Trainer:
    """The check runs on what a Trainer computes: sigmoid cross-entropy on one logit."""
    return Trainer(model, GD(model.parameters(), lr=0.1), loss="sigmoid_cross_entropy")


def run(seeds=5, quick: bool = False, **overrides) -> LabResult:
    s = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    seeds = seeds_list(seeds)
    started = time.perf_counter()
    planted = f"layers.{s['bug_layer']}.W"
    measurements = {"correct": [], "buggy": [], "worst": [], "per_tensor": []}
    for seed in seeds:
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((s["m"], s["sizes"][0]))
        y = rng.integers(0, 2, s["m"])
        good = gradcheck_model(_trainer(network(s["sizes"], seed)), X, y, max_per_tensor=None)
        bad_model = network(s["sizes"], seed, s["bug_layer"], s["bug_factor"])
        bad = gradcheck_model(_trainer(bad_model), X, y, max_per_tensor=None)
        measurements["correct"].append(good.error)
        measurements["buggy"].append(bad.error)
        measurements["worst"].append(bad.worst.name)
        measurements["per_tensor"].append(
            {t.name: [g.error, t.error] for g, t in zip(good.tensors, bad.tensors)}
        )
    names = list(measurements["per_tensor"][0])
    rows = [["θ (all)", mean_sd(measurements["correct"]), mean_sd(measurements["buggy"]), ""]]
    for name in names:
        g = [p[name][0] for p in measurements["per_tensor"]]
        b = [p[name][1] for p in measurements["per_tensor"]]
        rows.append([name, mean_sd(g), mean_sd(b), "planted bug" if name == planted else ""])
    located = sum(w == planted for w in measurements["worst"])
    checks = [
        (
            max(measurements["correct"]) < 1e-7,
            f"correct backward: max error {max(measurements['correct']):.2e} < 1e-7",
        ),
        (
            min(measurements["buggy"]) > 1e-3,
            f"planted bug: min error {min(measurements['buggy']):.2e} > 1e-3",
        ),
        (located == len(seeds), f"largest error in {planted} in {located}/{len(seeds)} seeds"),
    ]
    return LabResult(
        name=NAME,
        claim=CLAIM,
        settings=s,
        columns=["tensor", "error (correct)", "error (planted bug)", ""],
        rows=rows,
        measurements=measurements,
        figures={"errors": png(_figure(rows))},
        verdict=all_checks(checks),
        seeds=seeds,
        seconds=time.perf_counter() - started,
        notes="course (notebook): difference ≈ 0.285 with the planted bugs, < 1e-7 once fixed",
    )


def _figure(rows):
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    names = [r[0] for r in rows]
    x = np.arange(len(names))
    for k, (label, colour) in enumerate((("correct", "tab:green"), ("planted bug", "tab:red"))):
        means = [max(r[1 + k][0], 1e-18) for r in rows]
        ax.bar(x + (k - 0.5) * 0.4, means, 0.4, label=label, color=colour)
    for limit, word in ((1e-7, "great < 1e-7"), (1e-3, "bug > 1e-3")):
        ax.axhline(limit, color="gray", ls="--", lw=1)
        ax.text(len(names) - 0.5, limit, word, fontsize=7, va="bottom", ha="right")
    ax.set_yscale("log")
    ax.set_xticks(x, names, fontsize=8)
    ax.set_ylabel("relative error (mean over seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
