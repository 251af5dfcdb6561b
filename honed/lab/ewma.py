"""ewma: a larger β averages more days (smoother, later); bias correction fixes the start.

The notes: ``V_t = β V_{t−1} + (1−β) θ_t`` averages about ``1/(1−β)`` values: β = 0.9 ≈ 10
days, 0.98 ≈ 50 days (smoother, but it lags and adapts slowly), 0.5 ≈ 2 days (noisy). With
``V₀ = 0`` the first values are far too small; ``V_t / (1 − βᵗ)`` corrects them.

Setup: a year of London-like daily temperatures per seed (°F, as in the notes),
``θ_t = 55 + 20·sin(2π(t−100)/365) + ε``, ε ~ N(0, 5²). Measured for each β: roughness (sd
of day-to-day changes of the corrected V), lag (the shift in days that best aligns V with the
noise-free seasonal curve), and the mean error in the first 10 days with and without bias
correction. Verdict (:mod:`honed.lab.base`'s rule; every β smooths the same series of a
seed, so the comparisons are paired): roughness falls and lag grows with β (0.5 → 0.9 →
0.98), and for β = 0.98 the uncorrected start is off by more than 10 °F while the corrected
one is within 5 °F (means beyond 2 standard errors).
"""

from __future__ import annotations

import time

import numpy as np

from honed.lab.base import LabResult, all_checks, level, mean_sd, paired, png, seeds_list
from honed.lab.common import pyplot
from honed.optim import ewma

NAME = "ewma"
CLAIM = (
    "larger β: smoother but later (≈ 1/(1−β) days averaged); bias correction fixes the first values"
)
DEFAULTS = {"betas": [0.9, 0.98, 0.5], "days": 365, "noise": 5.0, "start_days": 10}
QUICK: dict = {}


def temperatures(days: int, noise: float, seed: int):
    """(θ with noise, the noise-free seasonal curve) for ``days`` days."""
    t = np.arange(days)
    clean = 55 + 20 * np.sin(2 * np.pi * (t - 100) / 365)
    return clean + np.random.default_rng(seed).normal(0, noise, days), clean


def lag(v, clean, max_lag: int = 120) -> int:
    """The shift k (days) minimising mean |v[t] − clean[t − k]| after the first 60 days."""
    errs = [np.abs(v[60 + k :] - clean[60 : len(clean) - k]).mean() for k in range(max_lag)]
    return int(np.argmin(errs))


def run(seeds=5, quick: bool = False, **overrides) -> LabResult:
    s = {**DEFAULTS, **(QUICK if quick else {}), **overrides}
    seeds = seeds_list(seeds)
    started = time.perf_counter()
    m = {
        b: {"roughness": [], "lag": [], "start_error_raw": [], "start_error_corrected": []}
        for b in s["betas"]
    }
    series = None
    for seed in seeds:
        theta, clean = temperatures(s["days"], s["noise"], seed)
        for beta in s["betas"]:
            v = ewma(theta, beta=beta)
            vc = ewma(theta, beta=beta, bias_correction=True)
            k = s["start_days"]
            m[beta]["roughness"].append(float(np.diff(vc).std()))
            m[beta]["lag"].append(lag(vc, clean))
            m[beta]["start_error_raw"].append(float(np.abs(v[:k] - clean[:k]).mean()))
            m[beta]["start_error_corrected"].append(float(np.abs(vc[:k] - clean[:k]).mean()))
        if series is None:
            series = theta, clean
    rows = [
        [
            f"β={b}",
            f"{1 / (1 - b):.0f}",
            mean_sd(v["roughness"]),
            mean_sd(v["lag"]),
            mean_sd(v["start_error_raw"]),
            mean_sd(v["start_error_corrected"]),
        ]
        for b, v in m.items()
    ]
    by = sorted(s["betas"])
    top = by[-1]
    checks = []
    for small, large in zip(by, by[1:]):
        checks.append(
            paired(
                m[small]["roughness"],
                m[large]["roughness"],
                f"roughness falls from β={small} to β={large}",
                scale=1.0,
                unit=" °F/day",
            )
        )
        checks.append(
            paired(
                m[large]["lag"],
                m[small]["lag"],
                f"lag grows from β={small} to β={large}",
                scale=1.0,
                unit=" days",
            )
        )
    k = s["start_days"]
    checks.append(
        level(
            m[top]["start_error_raw"],
            10.0,
            f"β={top}: first {k} days off uncorrected by",
            scale=1.0,
            unit=" °F",
        )
    )
    checks.append(
        level(
            m[top]["start_error_corrected"],
            5.0,
            f"β={top}: first {k} days off corrected by",
            above=False,
            scale=1.0,
            unit=" °F",
        )
    )
    return LabResult(
        name=NAME,
        claim=CLAIM,
        settings=s,
        columns=[
            "β",
            "≈ days 1/(1−β)",
            "roughness (°F/day)",
            "lag (days)",
            "start error raw (°F)",
            "start error corrected (°F)",
        ],
        rows=rows,
        measurements={str(b): v for b, v in m.items()},
        figures={"series": png(_figure(series, s))},
        verdict=all_checks(checks),
        seeds=seeds,
        seconds=time.perf_counter() - started,
        notes="the notes' worked example (40, 42, 44, 46, 48 with β = 0.9) is a doctest of honed.optim.ewma",
    )


def _figure(series, s):
    plt = pyplot()
    theta, clean = series
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    colours = {0.9: "tab:red", 0.98: "tab:green", 0.5: "tab:orange"}
    for ax, corrected in zip(axes, (True, False)):
        ax.plot(theta, ".", ms=3, color="tab:blue", alpha=0.5, label="θ (daily)")
        for b in s["betas"]:
            ax.plot(
                ewma(theta, beta=b, bias_correction=corrected), color=colours.get(b), label=f"β={b}"
            )
        ax.set_xlabel("day")
        ax.set_ylabel("°F")
        ax.set_title("with bias correction" if corrected else "without bias correction (V₀ = 0)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
