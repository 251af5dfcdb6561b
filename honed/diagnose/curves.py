"""Reading the learning curves of a run: what the per-epoch history says beyond the final
train/dev errors.

Three patterns, each with the notes' remedy (``w`` = the last min(5, n) epochs):

* **still improving**: the dev error (train cost without a dev set) is lowest in the last
  two epochs and fell by more than ``tol`` over the window → train longer.
* **cost oscillating or rising**: the training cost went up in at least 2 of the window's
  epoch-to-epoch steps, or ends more than 5 % above its minimum → lower the learning rate α
  (or decay it).
* **overfitting**: the dev error's minimum lies before the window's last two epochs and the
  dev error has since risen by more than ``tol`` while the training cost kept falling →
  early stopping, regularization (L2, dropout), more data.

``tol`` is 0.2 percentage points for errors and 1 % (relative) for costs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ERROR_TOL = 0.002
COST_TOL = 0.01


@dataclass
class CurveFinding:
    """One pattern found in the curves: its kind, what was seen, and what to do."""

    kind: str  # "still_improving", "unstable_cost", "overfitting"
    message: str
    advice: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "advice": self.advice}


def _column(records, key) -> np.ndarray | None:
    values = [r.get(key) for r in records]
    if any(v is None for v in values):
        return None
    return np.asarray(values, dtype=np.float64)


def read_curves(records: list[dict]) -> list[CurveFinding]:
    """The patterns of the module docstring found in per-epoch ``records`` (History.epochs
    or metrics.jsonl rows); fewer than 3 epochs say nothing."""
    n = len(records)
    if n < 3:
        return []
    w = min(5, n)
    findings = []
    train_cost = _column(records, "train_cost")
    dev_error = _column(records, "dev_error")
    epochs = [int(r["epoch"]) for r in records]
    # a regression's error is its RMSE / σ of the training targets, not a fraction wrong
    regression = "dev_r2" in records[-1]
    error_name = "dev RMSE/σ" if regression else "dev error"

    def fmt(value: float) -> str:
        return f"{value:.3f}" if regression else f"{value:.2%}"

    monitored, tol, what = (
        (dev_error, ERROR_TOL, error_name)
        if dev_error is not None
        else (train_cost, COST_TOL * float(np.abs(train_cost).max()), "training cost")
    )
    if monitored is not None:
        best = int(np.argmin(monitored))
        drop = monitored[-w] - monitored[-2:].min()
        if best >= n - 2 and drop > tol:
            shown = fmt(drop) if what == error_name else f"{drop:.4f}"
            findings.append(
                CurveFinding(
                    "still_improving",
                    f"the {what} was still falling at the end ({shown} over the last {w} epochs, "
                    f"lowest at epoch {epochs[best]})",
                    "train longer (more epochs: honed resume RUN --epochs N)",
                )
            )

    if train_cost is not None:
        steps = np.diff(train_cost[-w:])
        rises = int((steps > COST_TOL * np.abs(train_cost[-w:-1])).sum())
        low = float(train_cost.min())
        if rises >= 2 or train_cost[-1] > low * 1.05 + 1e-12:
            findings.append(
                CurveFinding(
                    "unstable_cost",
                    f"the training cost rose in {rises} of the last {w - 1} epochs and ends at "
                    f"{train_cost[-1]:.4f} (lowest {low:.4f})",
                    "lower the learning rate α, or decay it (train.schedule)",
                )
            )

    if dev_error is not None and train_cost is not None:
        best = int(np.argmin(dev_error))
        rise = dev_error[-1] - dev_error[best]
        if best < n - 2 and rise > ERROR_TOL and train_cost[-1] < train_cost[best]:
            findings.append(
                CurveFinding(
                    "overfitting",
                    f"the {error_name} rose by {fmt(rise)} since its lowest at epoch {epochs[best]} "
                    "while the training cost kept falling",
                    "early stopping (train.early_stopping), regularization (L2, dropout), "
                    "more data",
                )
            )
    return findings


__all__ = ["CurveFinding", "read_curves"]
