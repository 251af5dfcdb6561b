"""bias-variance: read bias and variance from train and dev error, then apply the recipe.

The notes' four cases (human-level error ≈ 0 %): train 1 % / dev 11 % is high variance;
15 % / 16 % high bias; 15 % / 30 % both; 0.5 % / 1 % neither. The basic recipe: high bias →
bigger network, train longer; high variance → more data, regularization.

Then real runs on a Fashion-MNIST subset (1000 training, 1000 dev examples), Adam α = 1e-3,
batch 64, 40 epochs: too small a network (``[784, 2, 10]``: a 2-unit bottleneck), a big one
(``[784, 256, 256, 10]``) and the big one regularized (dropout keep_prob 0.5 and L2 λ = 1).
Each is diagnosed by :func:`honed.diagnose.diagnose` (gaps above 2 points are "high") from
its final train and dev errors (eval mode), per seed (shown) and on the mean over seeds
(judged: one seed's late Adam spike can lift its final train error past the 2-point line).
Verdict: the notes' four cases get the notes' verdicts; on the seed means the small network
is high bias, the big network high variance and not high bias, and regularization shrinks the
big network's dev − train gap seed by seed (paired: the same data and initial weights per
seed; :mod:`honed.lab.base`'s rule).
"""

from __future__ import annotations

import time

from honed.diagnose import diagnose
from honed.lab.base import LabResult, all_checks, mean_sd, paired, png, seeds_list
from honed.lab.common import pyplot
from honed.lab.data import fashion_subset
from honed.lab.runner import SOFTMAX_LOSS, Spec, train_variants

NAME = "bias-variance"
CLAIM = "train vs dev error tells high bias from high variance (the notes' four cases); a tiny network is high bias, a big one on little data high variance, and regularization shrinks the gap"
#: the notes' four cases: (train error, dev error) -> verdict
CASES = {
    (0.01, 0.11): "high variance",
    (0.15, 0.16): "high bias",
    (0.15, 0.30): "high bias and high variance",
    (0.005, 0.01): "low bias and low variance",
}
DEFAULTS = {
    "n_train": 1000,
    "n_dev": 1000,
    "lr": 1e-3,
    "batch_size": 64,
    "epochs": 40,
    "small": [784, 2, 10],
    "big": [784, 256, 256, 10],
    "keep_prob": 0.5,
    "l2": 1.0,
    "human_error": 0.0,
    "threshold": 0.02,
}
QUICK = {"n_train": 500, "n_dev": 500, "epochs": 25}


def run(seeds=5, quick: bool = False, **overrides) -> LabResult:
    s = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    seeds = seeds_list(seeds)
    started = time.perf_counter()
    rows, checks = [], []
    for (tr, dv), expected in CASES.items():
        got = diagnose(tr, dv, 0.0).verdict
        rows.append([f"notes: {100 * tr:g}% / {100 * dv:g}%", tr, dv, "", got])
        checks.append((got == expected, f"{100 * tr:g}%/{100 * dv:g}% → {got}"))
    common = {
        "optimizer": "adam",
        "lr": s["lr"],
        "batch_size": s["batch_size"],
        "epochs": s["epochs"],
        "loss": SOFTMAX_LOSS,
    }
    specs = [
        Spec("small network", s["small"], **common),
        Spec("big network", s["big"], **common),
        Spec("big + dropout + L2", s["big"], keep_prob=s["keep_prob"], l2=s["l2"], **common),
    ]
    results = train_variants(
        specs, seeds, lambda seed: fashion_subset(s["n_train"], s["n_dev"], seed), dev="dev"
    )
    m = {}
    for name, runs in results.items():
        d = [
            diagnose(r.errors["train"], r.errors["dev"], s["human_error"], s["threshold"])
            for r in runs
        ]
        m[name] = {
            "train_error": [x.train_error for x in d],
            "dev_error": [x.dev_error for x in d],
            "gap": [x.variance for x in d],
            "verdict": [x.verdict for x in d],
            "high_bias": [x.high_bias for x in d],
            "high_variance": [x.high_variance for x in d],
        }
        verdicts = sorted(set(m[name]["verdict"]))
        rows.append(
            [
                name,
                mean_sd(m[name]["train_error"]),
                mean_sd(m[name]["dev_error"]),
                mean_sd(m[name]["gap"]),
                ", ".join(verdicts),
            ]
        )
    small, big, reg = (m[sp.name] for sp in specs)

    def on_means(d):
        return diagnose(
            mean_sd(d["train_error"])[0],
            mean_sd(d["dev_error"])[0],
            s["human_error"],
            s["threshold"],
        )

    d_small, d_big = on_means(small), on_means(big)
    checks += [
        (
            d_small.high_bias,
            f"small network on the means: {d_small.verdict} (seeds: {sum(small['high_bias'])}/{len(seeds)} high bias)",
        ),
        (
            d_big.high_variance and not d_big.high_bias,
            f"big network on the means: {d_big.verdict} (seeds: {sum(big['high_variance'])}/{len(seeds)} high variance, {sum(big['high_bias'])} high bias)",
        ),
        paired(big["gap"], reg["gap"], "regularization shrinks the big network's dev − train gap"),
    ]
    return LabResult(
        name=NAME,
        claim=CLAIM,
        settings=s,
        columns=["case", "train error", "dev error", "dev − train", "diagnosis"],
        rows=rows,
        measurements=m,
        figures={"curves": png(_figure(results))},
        verdict=all_checks(checks),
        seeds=seeds,
        seconds=time.perf_counter() - started,
        percent=("train error", "dev error", "dev − train"),
        notes="the notes' four cases are exact; the Fashion-MNIST runs are honed's own",
    )


def _figure(results):
    from honed.plots.overlay import draw_runs

    plt = pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 3.8), sharey=True)
    for ax, (name, runs) in zip(axes, results.items()):
        draw_runs(
            ax,
            {
                "train (mini-batch)": [r.column("train_error") for r in runs],
                "dev": [r.column("dev_error") for r in runs],
            },
            ylabel="error",
        )
        ax.set_title(name)
    fig.tight_layout()
    return fig
