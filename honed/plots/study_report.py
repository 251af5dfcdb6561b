"""``honed study report STUDY --html``: one self-contained page of a study's figures.

Every figure is a PNG embedded as base64 (no network, no scripts), so the page opens
anywhere and can be mailed as one file:

* dev error per hyperparameter on its own scale (log α, 1−β axis), best so far over the
  trial number, zoom boxes (``plot_study``);
* best so far over wall time (finish time since the first trial started);
* per-epoch dev error of every trial, pruned trials in red with a × where they stopped;
* parameter importances by honed's own fANOVA-free measure, the correlation ratio
  η² of each parameter: complete trials binned into ``B`` equal-count bins of the
  parameter's internal scale (``B = min(10, ⌈√n⌉)``; a choice's values are its bins),
  ``η² = Σ_b n_b (ȳ_b − ȳ)² / Σ_i (y_i − ȳ)²`` (the share of the dev error's variance
  explained by that parameter alone), shown normalised to sum to 1;
* a warning for each parameter whose best value sits at the edge of its range (within
  5 % of its internal width): the optimum may lie outside, widen the range.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from typing import Any

import numpy as np

__all__ = ["edge_warnings", "importances", "sampler_words", "write_report"]

_EDGE = 0.05


def importances(study: Any, trials=None) -> dict[str, float]:
    """η² of each parameter, normalised to sum to 1 (see the module docstring)."""
    trials = study.trials if trials is None else trials
    ok = [t for t in trials if t.finished_ok]
    y = np.array([t.value for t in ok], dtype=float)
    out: dict[str, float] = {}
    if len(ok) < 3 or np.var(y) == 0:
        return {n: 0.0 for n in study.space}
    total = float(np.sum((y - y.mean()) ** 2))
    for name, dist in study.space.items():
        u = np.array([dist.to_internal(t.params[name]) for t in ok], dtype=float)
        if dist.kind == "choice":
            labels = u.astype(int)
        else:
            bins = min(10, math.ceil(math.sqrt(len(u))))
            order = np.argsort(u, kind="stable")
            labels = np.empty(len(u), dtype=int)
            labels[order] = np.arange(len(u)) * bins // len(u)
        between = sum(
            (labels == b).sum() * (y[labels == b].mean() - y.mean()) ** 2 for b in np.unique(labels)
        )
        out[name] = float(between / total)
    s = sum(out.values())
    return {n: (v / s if s > 0 else 0.0) for n, v in out.items()}


def edge_warnings(study: Any, best=None) -> list[str]:
    """One sentence per parameter whose best value is within 5 % of a range end."""
    best = study.best_trial if best is None else best
    if best is None:
        return []
    out = []
    for name, dist in study.space.items():
        if dist.kind == "choice" or name not in best.params:
            continue
        lo, hi = dist.internal_bounds
        u = dist.to_internal(best.params[name])
        frac = (u - lo) / (hi - lo)
        if frac <= _EDGE or frac >= 1 - _EDGE:
            # on a 1-β scale the internal low end is β's high end
            side = "lower" if frac <= _EDGE else "upper"
            if dist.kind == "one_minus_log":
                side = "upper" if side == "lower" else "lower"
            out.append(
                f"{name}: the best value {best.params[name]:.4g} sits at the {side} edge of "
                f"its range [{dist.low:.4g}, {dist.high:.4g}]; the optimum may lie outside "
                "it -- widen the range"
            )
    return out


def sampler_words(config: dict[str, Any]) -> str:
    """A sampler's config (``Sampler.to_config()``) in words: its name, then its settings
    as ``key value``, unset ones left out -- ``zoom (stages 2, top k 4, budget 32)``."""

    def words(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:g}"
        if isinstance(v, (list, tuple)):
            return "/".join(words(x) for x in v)
        if isinstance(v, dict):
            return ", ".join(f"{k} {words(x)}" for k, x in v.items() if x is not None)
        return str(v)

    config = dict(config)
    name = str(config.pop("name", "?"))
    settings = {k.replace("_", " "): v for k, v in config.items() if v not in (None, {}, [])}
    return f"{name} ({words(settings)})" if settings else name


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _wall_time_figure(study, trials):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.4))
    ax = fig.subplots()
    sign = 1.0 if study.direction == "minimize" else -1.0
    done = sorted((t for t in trials if t.finished_ok and t.finished), key=lambda t: t.finished)
    starts = [t.started for t in trials if t.started]
    if done and starts:
        t0 = min(starts)
        xs, ys, cur = [], [], math.inf
        for t in done:
            cur = min(cur, sign * t.value)
            xs.append(t.finished - t0)
            ys.append(sign * cur)
        ax.step(xs, ys, where="post", color="C3", label="best so far")
        ax.scatter(xs, [t.value for t in done], s=8, color="grey", alpha=0.5, label="trial")
        ax.legend(fontsize=7)
    ax.set_xlabel("wall time since the first trial started (s)")
    ax.set_ylabel(study.value_name if study.direction == "minimize" else "value")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _curves_figure(trials, value_name: str = "dev error"):
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.4))
    ax = fig.subplots()
    kept, pruned, ends = [], [], []
    for t in trials:
        if not t.intermediate:
            continue
        pts = [(s, v) for s, v in sorted(t.intermediate.items()) if math.isfinite(v)]
        if not pts:
            continue
        (pruned if t.state == "pruned" else kept).append(pts)
        if t.state == "pruned":
            ends.append(pts[-1])
    # one collection each: thousands of curves draw in a fraction of a second
    if kept:
        ax.add_collection(LineCollection(kept, colors="C0", alpha=0.35, lw=0.8, label="trained"))
    if pruned:
        ax.add_collection(LineCollection(pruned, colors="C3", alpha=0.5, lw=0.8, label="pruned"))
        ax.scatter(*zip(*ends), marker="x", color="C3", s=14, zorder=3, label="pruned here")
    if kept or pruned:
        ax.autoscale()
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no per-epoch values reported", ha="center", transform=ax.transAxes)
    ax.set_xlabel("epoch")
    ax.set_ylabel(value_name)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _importance_figure(imp: dict[str, float]):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 0.5 + 0.45 * max(1, len(imp))))
    ax = fig.subplots()
    names = sorted(imp, key=imp.get)
    ax.barh(names, [imp[n] for n in names], color="C2")
    ax.set_xlabel("importance (share of explained variance, η², normalised)")
    ax.set_xlim(0, 1)
    fig.tight_layout()
    return fig


def write_report(study: Any, path: str | os.PathLike) -> str:
    """Write the page for ``study`` (a ``honed.tune.Study``) to ``path``; returns it."""
    from .tune import plot_study

    trials = study.trials
    best = study.best_trials(1)
    best = best[0] if best else None
    buf = io.BytesIO()
    tmp = os.fspath(path) + ".png.tmp"
    plot_study(study, tmp)
    with open(tmp, "rb") as f:
        buf.write(f.read())
    os.remove(tmp)
    main_png = base64.b64encode(buf.getvalue()).decode("ascii")
    imp = importances(study, trials)
    figures = [
        (
            f"{study.value_name.capitalize()} per hyperparameter (own scales), best so far, zoom boxes",
            main_png,
        ),
        ("Best so far over wall time", _png(_wall_time_figure(study, trials))),
        (
            f"Per-epoch {study.value_name} (pruned trials in red)",
            _png(_curves_figure(trials, study.value_name)),
        ),
        ("Parameter importances (η², honed's own; not fANOVA)", _png(_importance_figure(imp))),
    ]
    counts = ", ".join(f"{n} {s}" for s, n in study.summary().items() if n)
    warnings = edge_warnings(study, best)
    esc = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>study {esc(study.name)}</title>",
        "<style>body{font-family:sans-serif;max-width:1300px;margin:1em auto;color:#222}"
        "img{max-width:100%;border:1px solid #ddd}.warn{background:#fff3cd;padding:.5em;"
        "border-left:4px solid #e0a800}td,th{padding:2px 8px;text-align:right}</style>",
        "</head><body>",
        f"<h1>Study {esc(study.name)}</h1>",
        f"<p>{esc(str(study.storage_path))}: {len(trials)} trials ({esc(counts)}); sampler "
        f"{esc(sampler_words(study.sampler.to_config()))}; seed {study.seed}</p>",
    ]
    for w in warnings:
        parts.append(f"<p class='warn'>&#9888; {esc(w)}</p>")
    if best is not None:
        parts.append(
            f"<p>Best: trial #{best.number}, {esc(study.value_name)} {best.value:.4g}: "
            + esc(
                ", ".join(
                    f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for k, v in best.params.items()
                )
            )
            + "</p>"
        )
    parts.append("<table><tr><th>parameter</th><th>importance</th></tr>")
    for n, v in sorted(imp.items(), key=lambda kv: -kv[1]):
        parts.append(f"<tr><td>{esc(n)}</td><td>{v:.2f}</td></tr>")
    parts.append("</table>")
    for title, data in figures:
        parts.append(
            f"<h2>{esc(title)}</h2><img alt='{esc(title)}' src='data:image/png;base64,{data}'>"
        )
    parts.append("</body></html>")
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(parts))
    return path
