"""What every lab experiment returns: measurements, a table, figures and a verdict.

The table cells are ``(mean, sd)`` over seeds, or plain text; the verdict is computed from
the measurements by the experiment (never written in advance).
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1; 0 for a single value), NaN kept."""
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        return float("nan"), float("nan")
    sd = float(v.std(ddof=1)) if v.size > 1 else 0.0
    return float(v.mean()), sd


@dataclass
class Verdict:
    """PASS or FAIL of the course's claim, with the reason in numbers."""

    passed: bool
    reason: str

    @property
    def word(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def __str__(self) -> str:
        return f"{self.word}: {self.reason}"


def all_checks(checks: list[tuple[bool, str]]) -> Verdict:
    """One verdict from several ``(ok, why)`` checks: PASS only if every one holds."""
    passed = all(ok for ok, _ in checks)
    reason = "; ".join(("" if ok else "NOT ") + why for ok, why in checks)
    return Verdict(bool(passed), reason)


@dataclass
class LabResult:
    """The outcome of one experiment.

    Attributes:
        name: the experiment's name (``init``).
        claim: the course's claim being checked.
        settings: the settings used (the notes' defaults unless overridden).
        columns: table header; ``rows``: one list per line, cells ``(mean, sd)`` or str.
        measurements: raw numbers per variant and seed (what the verdict reads).
        figures: name → PNG bytes.
        verdict: the check of the claim.
        seeds: the seeds used; ``seconds``: wall time of the run.
        percent: columns (by name) shown as percentages.
    """

    name: str
    claim: str
    settings: dict[str, Any]
    columns: list[str]
    rows: list[list[Any]]
    measurements: dict[str, Any]
    figures: dict[str, bytes]
    verdict: Verdict
    seeds: list[int] = field(default_factory=list)
    seconds: float = 0.0
    percent: tuple[str, ...] = ()
    notes: str = ""

    def cell(self, value, column: str) -> str:
        if isinstance(value, tuple) and len(value) == 2:
            m, sd = value
            if column in self.percent:
                return f"{100 * m:.1f} ± {100 * sd:.1f}%"
            return f"{_num(m)} ± {_num(sd)}"
        if isinstance(value, float):
            return f"{100 * value:.1f}%" if column in self.percent else _num(value)
        return str(value)

    def table(self) -> list[list[str]]:
        return [[self.cell(v, c) for v, c in zip(row, self.columns)] for row in self.rows]

    def text(self) -> str:
        """The table as aligned text, then the verdict."""
        body = [self.columns] + self.table()
        widths = [max(len(r[i]) for r in body) for i in range(len(self.columns))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in body]
        lines.insert(1, "  ".join("-" * w for w in widths))
        head = f"{self.name}: mean ± sd over {len(self.seeds)} seed(s) {self.seeds}"
        return "\n".join([head, *lines, "", f"verdict: {self.verdict}"])

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "claim": self.claim,
            "settings": self.settings,
            "seeds": self.seeds,
            "seconds": self.seconds,
            "columns": self.columns,
            "table": self.table(),
            "rows": self.rows,
            "measurements": self.measurements,
            "figures": sorted(self.figures),
            "verdict": {"passed": self.verdict.passed, "reason": self.verdict.reason},
            "notes": self.notes,
        }

    def _repr_html_(self) -> str:
        """In a notebook: the claim, the table, the verdict and the figures."""
        import base64
        import html

        def row(cells, tag):
            return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"

        color = "#1a7f37" if self.verdict.passed else "#cf222e"
        parts = [
            f"<h4>{html.escape(self.name)}: {html.escape(self.claim)}</h4>",
            "<table>" + row(self.columns, "th"),
            *(row(r, "td") for r in self.table()),
            "</table>",
            f'<p><b style="color:{color}">{self.verdict.word}</b>: '
            f"{html.escape(self.verdict.reason)}</p>",
        ]
        for name, png in self.figures.items():
            data = base64.b64encode(png).decode("ascii")
            parts.append(f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">')
        return "\n".join(parts)

    def save(self, out) -> Path:
        """Write ``results.json`` and one PNG per figure into ``out``; returns ``out``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        for name, png in self.figures.items():
            (out / f"{name}.png").write_bytes(png)
        (out / "results.json").write_text(json.dumps(_plain(self.to_json()), indent=2))
        return out


def _num(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.2e}"
    return f"{x:.4g}"


def _plain(obj):
    """JSON-ready: tuples to lists, NumPy scalars to floats, NaN to None."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


def seeds_list(seeds) -> list[int]:
    """``5`` → ``[0, 1, 2, 3, 4]``; a list is kept."""
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"seeds must be >= 1, got {seeds}")
        return list(range(int(seeds)))
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    return seeds
