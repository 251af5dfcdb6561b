"""HTML views of studies for notebooks (``Study._repr_html_``): the trials' states, the best
trials as a table, and the study's figure (:func:`honed.plots.tune.plot_study`)."""

from __future__ import annotations

import base64
import html
import tempfile
from pathlib import Path


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return html.escape(str(v))


def study_html(study, k: int = 5) -> str:
    """The study's card: name, counts per state, its ``k`` best trials and its figure."""
    counts = ", ".join(f"{n} {state}" for state, n in study.summary().items() if n)
    parts = [
        f"<h4>study {html.escape(study.name)} ({html.escape(study.direction)})</h4>",
        f"<p>{html.escape(counts or 'no trials yet')}</p>",
    ]
    best = study.best_trials(k)
    if best:
        names = sorted({n for t in best for n in t.params})
        head = "".join(f"<th>{html.escape(n)}</th>" for n in ["trial", "value", *names])
        rows = [
            "<tr>"
            + "".join(
                f"<td>{_cell(v)}</td>"
                for v in [t.number, t.value, *(t.params.get(n) for n in names)]
            )
            + "</tr>"
            for t in best
        ]
        parts.append(f"<table><tr>{head}</tr>{''.join(rows)}</table>")
    if study.trials:
        try:
            from honed.plots.tune import plot_study
        except ImportError:  # pragma: no cover - matplotlib is optional
            return "\n".join(parts)
        with tempfile.TemporaryDirectory() as tmp:
            png = Path(plot_study(study, Path(tmp) / "study.png")).read_bytes()
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<img alt="study" src="data:image/png;base64,{data}">')
    return "\n".join(parts)


__all__ = ["study_html"]
