"""The logic of ``honed lab`` and ``honed compare`` (honed/cli.py only wires the parsers)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from honed import lab

#: exit codes of ``honed lab``: a verdict FAIL, or no FAIL but an INCONCLUSIVE one
EXIT_FAIL, EXIT_INCONCLUSIVE = 6, 7


def lab_command(name: str | None, seeds: int, out, quick: bool, run_all: bool, config=None) -> int:
    """List the experiments, run one, or run all and write the gallery; returns 0 when every
    verdict is PASS, 6 when one is FAIL, else 7 when one is INCONCLUSIVE (so scripts can
    tell a refuted claim from one the seeds could not decide)."""
    if run_all and name:
        raise ValueError(f"give an experiment name or --all, not both (got {name!r} and --all)")
    if not name and not run_all:
        width = max(len(n) for n in lab.names())
        print("experiments (honed lab NAME [--seeds N] [--out DIR] [--quick]):")
        for n in lab.names():
            print(f"  {n:<{width}}  {lab.summary(n)}")
        return 0
    todo = lab.names() if run_all else [name]
    if config and run_all:
        raise ValueError("--config sets one experiment's settings; it cannot go with --all")
    overrides = lab.load_settings(config) if config else {}
    if not run_all:
        lab.get(name)  # an unknown name fails before anything runs
    out = Path(out) if out else Path("lab")
    results = []
    for n in todo:
        started = time.perf_counter()
        result = lab.run(n, seeds=seeds, quick=quick, **overrides)
        directory = result.save(out / n)
        print(result.text())
        print(f"({time.perf_counter() - started:.1f} s) results and figures: {directory}\n")
        results.append(result)
    if run_all:
        from honed.lab.gallery import write_gallery

        command = "honed lab --all" + (" --quick" if quick else "") + f" --seeds {seeds}"
        print(f"gallery: {write_gallery(results, out, f'{command} --out {out}')}")
    words = [r.verdict.word for r in results]
    if len(results) > 1:
        print(", ".join(f"{words.count(w)} {w}" for w in (lab.PASS, lab.FAIL, lab.INCONCLUSIVE)))
    if lab.FAIL in words:
        return EXIT_FAIL
    if lab.INCONCLUSIVE in words:
        print(
            "INCONCLUSIVE: an effect within the seed spread; more seeds decide "
            f"(--seeds {2 * seeds})"
        )
        return EXIT_INCONCLUSIVE
    return 0


def _flatten(obj, prefix: str = "") -> dict:
    flat = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def _read_run(run) -> dict:
    run = Path(run)
    if not (run / "summary.json").exists():
        from honed.experiment.runs import no_summary

        raise FileNotFoundError(f"{no_summary(run)}; compare needs finished runs")
    config = json.loads((run / "config.json").read_text()) if (run / "config.json").exists() else {}
    summary = json.loads((run / "summary.json").read_text())
    metrics = run / "metrics.jsonl"
    records = (
        [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
        if metrics.exists()
        else []
    )
    return {"path": run, "config": _flatten(config), "summary": summary, "records": records}


def _rounded(value, digits: int):
    """``value`` with every float rounded to ``digits`` significant digits."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    return value


def _column(values: list) -> list[str]:
    """One setting's cells: floats to 4 significant digits (0.002097, not
    0.0020971337060578976), more only where that is needed to tell two values apart."""
    distinct = len({json.dumps(v, sort_keys=True, default=str) for v in values})
    for digits in range(4, 18):
        cells = [json.dumps(_rounded(v, digits), default=str) for v in values]
        if len(set(cells)) == distinct:
            return cells
    return [json.dumps(v, default=str) for v in values]


def compare_rows(runs: list[dict]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: each run's differing settings, then status and final errors."""
    keys = sorted({k for r in runs for k in r["config"]})
    differing = [
        k
        for k in keys
        if len({json.dumps(r["config"].get(k), sort_keys=True, default=str) for r in runs}) > 1
        and k != "name"
    ]
    splits = []
    for r in runs:
        for split in r["summary"].get("errors") or {}:
            if split not in splits:
                splits.append(split)
    # regression runs report RMSE and R² (targets' units), classifiers their error in %
    regression = any("r2" in e for r in runs for e in (r["summary"].get("errors") or {}).values())
    metric_names = [f"{s} error" for s in splits]
    if regression:
        metric_names += [f"{s} {m}" for s in splits for m in ("RMSE", "R²")]

    def metrics(errors: dict) -> list[str]:
        cells = [
            f"{100 * errors[s]['error']:.2f}%" if s in errors and "r2" not in errors[s] else ""
            for s in splits
        ]
        if regression:
            cells += [
                format(errors[s][k], ".4g" if k == "rmse" else ".4f")
                if s in errors and k in errors[s]
                else ""
                for s in splits
                for k in ("rmse", "r2")
            ]
        return cells

    header = ["run", *differing, "status", "epochs", *metric_names]
    columns = {k: _column([r["config"].get(k) for r in runs]) for k in differing}
    rows = []
    for i, r in enumerate(runs):
        errors = r["summary"].get("errors") or {}
        rows.append(
            [r["path"].name]
            + [columns[k][i] for k in differing]
            + [str(r["summary"].get("status")), str(r["summary"].get("epoch"))]
            + metrics(errors)
        )
    return header, rows


def compare_command(paths: list[str], out) -> int:
    """Print the runs' settings (only what differs) and results; overlay their curves."""
    if len(paths) < 2:
        raise ValueError(f"compare needs at least 2 run directories, got {len(paths)}")
    runs = [_read_run(p) for p in paths]
    header, rows = compare_rows(runs)
    widths = [max(len(x) for x in col) for col in zip(header, *rows)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    out = Path(out) if out else Path("compare.png")
    print(f"curves: {plot_compare(runs, out)}")
    return 0


def plot_compare(runs: list[dict], path) -> Path:
    """Cost and error per epoch of each run (train solid, dev dashed) in one PNG."""
    from honed.plots.figure import finish, pyplot

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for i, r in enumerate(runs):
        colour = f"C{i % 10}"
        epochs = [rec["epoch"] for rec in r["records"]]
        for ax, key in zip(axes, ("cost", "error")):
            ax.plot(
                epochs,
                [rec.get(f"train_{key}") for rec in r["records"]],
                color=colour,
                label=f"{r['path'].name} train",
            )
            dev = [rec.get(f"dev_{key}") for rec in r["records"]]
            if any(v is not None for v in dev):
                ax.plot(
                    epochs,
                    [float("nan") if v is None else v for v in dev],
                    "--",
                    color=colour,
                    label=f"{r['path'].name} dev",
                )
    for ax, key in zip(axes, ("cost", "error")):
        ax.set(xlabel="epoch", ylabel=key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return finish(fig, path)
