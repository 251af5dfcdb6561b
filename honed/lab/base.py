"""What every lab experiment returns: measurements, a table, figures and a verdict.

The table cells are ``(mean, sd)`` over seeds, or plain text; the verdict is computed from
the measurements by the experiment (never written in advance).

**The verdict rule.** Every variant of a seed sees the same data and starts from the same
initial weights, so a claim that compares variants ("dropout shrinks the gap") is checked
on the paired differences seed by seed (:func:`paired`): PASS when their mean clears 0 by
two standard errors, FAIL when it misses by as much, INCONCLUSIVE when the effect is within
the seed spread (more seeds decide; one seed never does). A claim about one variant's mean
("He reaches 90 %") reads the same way against its threshold (:func:`level`). Checks that
hold by construction or with no seed noise worth the name (a truth table, a gradient
error, 1000 draws of a distribution) stay plain PASS/FAIL. The experiment's verdict is
FAIL if any check fails, else INCONCLUSIVE if any is undecided, else PASS; ``honed lab``
exits 6 on FAIL and 7 on INCONCLUSIVE.
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


PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"
#: how many standard errors a mean must clear to count (:func:`paired`, :func:`level`)
Z = 2.0


@dataclass
class Verdict:
    """PASS, FAIL or INCONCLUSIVE for the course's claim, with the reason in numbers.

    ``Verdict(True, ...)`` and ``Verdict(False, ...)`` are PASS and FAIL.
    """

    outcome: str | bool
    reason: str

    def __post_init__(self):
        if isinstance(self.outcome, (bool, np.bool_)):
            self.outcome = PASS if self.outcome else FAIL
        if self.outcome not in (PASS, FAIL, INCONCLUSIVE):
            raise ValueError(
                f"outcome must be {PASS}, {FAIL} or {INCONCLUSIVE}, got {self.outcome!r}"
            )

    @property
    def passed(self) -> bool:
        return self.outcome == PASS

    @property
    def word(self) -> str:
        return str(self.outcome)

    def __str__(self) -> str:
        return f"{self.word}: {self.reason}"


def _outcome(ok) -> str:
    if isinstance(ok, str):
        return ok
    return PASS if ok else FAIL


def all_checks(checks: list[tuple[bool | str, str]]) -> Verdict:
    """One verdict from several ``(ok, why)`` checks, ``ok`` a bool or an outcome word.

    FAIL when any check fails (its reason starts with ``NOT``); else INCONCLUSIVE when any
    check is inconclusive (``UNDECIDED``); else PASS.
    """
    outcomes = [_outcome(ok) for ok, _ in checks]
    prefix = {PASS: "", FAIL: "NOT ", INCONCLUSIVE: "UNDECIDED "}
    reason = "; ".join(prefix[o] + why for o, (_, why) in zip(outcomes, checks))
    if FAIL in outcomes:
        return Verdict(FAIL, reason)
    return Verdict(INCONCLUSIVE if INCONCLUSIVE in outcomes else PASS, reason)


def _decide(mean: float, se: float, margin: float) -> str:
    """PASS when ``mean − Z·se > margin``, FAIL when ``mean + Z·se < margin``, else
    INCONCLUSIVE (also when a value is missing, or with one seed: no spread to judge by)."""
    if not (math.isfinite(mean) and math.isfinite(se)):
        return INCONCLUSIVE
    if mean - Z * se > margin:
        return PASS
    if mean + Z * se < margin:
        return FAIL
    return INCONCLUSIVE


def _mean_se(d: np.ndarray) -> tuple[float, float]:
    if d.size < 2 or not np.isfinite(d).all():
        return (float(d.mean()) if d.size else float("nan")), float("inf")
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(d.size))


def _spread(values: np.ndarray, se: float, scale: float, unit: str) -> str:
    if not np.isfinite(values).all():
        return f"{unit} (a seed has no value: it diverged)"
    if values.size < 2:
        return f"{unit} (one seed: no spread to judge by)"
    return f" ± {scale * se:.2g}{unit} (mean ± SE)"


def paired(
    a, b, label: str, margin: float = 0.0, scale: float = 100.0, unit: str = " points"
) -> tuple[str, str]:
    """A claim that variant A exceeds variant B, checked seed by seed.

    ``a[i]`` and ``b[i]`` were measured with seed ``i`` for both variants: the same data, the
    same initial weights (and batch order), so the seed's luck cancels in the paired
    difference ``d_i = a_i − b_i``. With ``n`` seeds, mean ``d̄`` and standard error
    ``SE = sd(d) / √n``:

    - PASS when ``d̄ − 2·SE > margin``: the effect clears the seed spread;
    - FAIL when ``d̄ + 2·SE < margin``: the opposite is shown;
    - INCONCLUSIVE otherwise: the effect is within the seed spread (more seeds decide),
      and always with one seed.

    ``margin`` 0 claims "A better than B"; a negative margin claims "A no worse than B by
    more than |margin|". Orient ``a``/``b`` so that larger ``d`` is the claim's direction
    (for "lower is better" pass B's values as ``a``).

    Returns:
        ``(outcome, why)`` for :func:`all_checks`; ``why`` shows the paired counts (seeds
        where ``d_i > margin``) and ``d̄ ± SE`` in ``unit`` (values × ``scale``).
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    mean, se = _mean_se(d)
    wins = int((d > margin).sum())
    bound = f" > {scale * margin:+.3g}{unit}" if margin else " > 0"
    why = (
        f"{label} in {wins}/{d.size} seeds, paired difference {scale * mean:+.3g}"
        f"{_spread(d, se, scale, unit)}{bound}"
    )
    return _decide(mean, se, margin), why


def level(
    values, threshold: float, label: str, above: bool = True, scale: float = 100.0, unit="%"
) -> tuple[str, str]:
    """A claim that one variant's mean is above (or below) ``threshold``, by the same rule
    as :func:`paired`: the mean must clear the threshold by 2 standard errors over seeds
    (PASS), or miss it by as much (FAIL); otherwise INCONCLUSIVE."""
    v = np.asarray(values, dtype=float)
    mean, se = _mean_se(v)
    sign = 1.0 if above else -1.0
    outcome = _decide(sign * mean, se, sign * threshold)
    hits = int(((v > threshold) if above else (v < threshold)).sum())
    why = (
        f"{label} {scale * mean:.3g}{_spread(v, se, scale, unit)} "
        f"{'>' if above else '<'} {scale * threshold:.3g}{unit} ({hits}/{v.size} seeds)"
    )
    return outcome, why


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
        quick: made by the quick form (fewer iterations), not the notes' full settings.
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
    quick: bool = False

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
        mode = "quick" if self.quick else "full"
        head = f"{self.name} ({mode}): mean ± sd over {len(self.seeds)} seed(s) {self.seeds}"
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
            "verdict": {
                "outcome": self.verdict.word,
                "passed": self.verdict.passed,
                "reason": self.verdict.reason,
            },
            "quick": self.quick,
            "notes": self.notes,
        }

    def _repr_html_(self) -> str:
        """In a notebook: the claim, the table, the verdict and the figures."""
        import base64
        import html

        def row(cells, tag):
            return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"

        color = {PASS: "#1a7f37", FAIL: "#cf222e", INCONCLUSIVE: "#9a6700"}[self.verdict.word]
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
