"""HTML views of runs for notebooks (``_repr_html_``): the errors table and the curves.

A run shows its status, the cost and error (or RMSE, MAE, R²) of each split as a table, the
bias/variance diagnosis, and ``curves.png`` from its directory when there is one, or the
curves drawn from the history of a run trained in this session.
"""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path


def _number(v) -> str:
    if isinstance(v, float):
        return "—" if not math.isfinite(v) else f"{v:.4g}"
    return html.escape(str(v))


def errors_table(errors: dict) -> str:
    """``{split: {metric: value}}`` as an HTML table, one row per split."""
    if not errors:
        return ""
    metrics = [m for m in next(iter(errors.values()))]
    head = "<tr><th>split</th>" + "".join(f"<th>{html.escape(m)}</th>" for m in metrics)
    rows = [
        f"<tr><td>{html.escape(split)}</td>"
        + "".join(f"<td>{_number(values.get(m))}</td>" for m in metrics)
        + "</tr>"
        for split, values in errors.items()
    ]
    return "<table>" + head + "</tr>" + "".join(rows) + "</table>"


def image(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def run_html(title: str, run_dir=None, status: str = "", errors=None, diagnosis=None, history=None):
    """A run's card: title, status, errors table, diagnosis, curves."""
    summary = {}
    if run_dir is not None and (Path(run_dir) / "summary.json").is_file():
        summary = json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))
    status = status or summary.get("status", "")
    errors = errors if errors is not None else summary.get("errors") or {}
    diagnosis = diagnosis if diagnosis is not None else (summary.get("diagnosis") or {})
    parts = [f"<h4>{html.escape(title)}</h4>"]
    if status:
        parts.append(f"<p>status: <b>{html.escape(str(status))}</b></p>")
    parts.append(errors_table(errors))
    verdict = diagnosis.get("verdict") if isinstance(diagnosis, dict) else diagnosis
    if verdict:
        parts.append(f"<p>{html.escape(str(verdict))}</p>")
    curves = None if run_dir is None else Path(run_dir) / "curves.png"
    if curves is not None and curves.is_file():
        parts.append(image(curves.read_bytes(), "curves"))
    elif history is not None and len(history):
        try:
            from honed.plots.curves import curves_png

            parts.append(image(curves_png(history, title), "curves"))
        except ImportError:  # matplotlib is optional
            pass
    return "\n".join(p for p in parts if p)


__all__ = ["errors_table", "image", "run_html"]
