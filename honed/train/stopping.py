"""Early stopping's rule, for one model or for every member of a population at once.

The notes: stop when the dev error has not improved for a while and keep the parameters of
the epoch where it was lowest. Per member k, after each epoch e with monitored value v_k:

    improved_k = v_k < best_k − min_delta        (mode "min"; "max": v_k > best_k + min_delta)
    improved_k:   best_k := v_k,  best_epoch_k := e,  wait_k := 0
    otherwise:    wait_k := wait_k + 1;  stop_k = wait_k ≥ patience

A missing or non-finite value (no dev set yet, a NaN) neither improves nor counts as a wait.
``EarlyStopping`` (one model, P = 1), ``PopulationTrainer`` (P members) and the population
tuner's trial value (:func:`best_epoch` over a finished history) all use this one rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from honed import validation as check

#: the History columns early stopping may watch
MONITORS = ("dev_error", "dev_cost", "train_error", "train_cost")
MODES = ("min", "max")


def check_monitor(monitor: str) -> str:
    """``monitor`` if it is a column early stopping can watch, else ValueError naming it."""
    if monitor not in MONITORS:
        raise ValueError(
            f"monitor must be {', '.join(MONITORS[:-1])} or {MONITORS[-1]}, got {monitor!r}"
        )
    return monitor


class PatienceRule:
    """The rule of the module docstring for P members, as arrays of shape (P,).

    Args:
        size: P, the number of members (1 for a single model).
        patience: epochs without improvement before a member stops (≥ 1); None never stops
            (only the best epoch is tracked).
        min_delta: the smallest change that counts as an improvement (≥ 0).
        mode: ``"min"`` (errors, costs) or ``"max"``.

    Attributes:
        best: best value so far per member (±inf before the first).
        best_epoch: the epoch of ``best`` (0 before the first).
        wait: epochs since the last improvement.
    """

    def __init__(
        self, size: int, patience: int | None = None, min_delta: float = 0.0, mode: str = "min"
    ):
        size = check.integer("size", size, minimum=0)
        if patience is not None:
            patience = check.integer("patience", patience, minimum=1)
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta}")
        if mode not in MODES:
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.patience, self.min_delta, self.mode = patience, float(min_delta), mode
        self._sign = 1.0 if mode == "min" else -1.0
        self.best = np.full(size, math.inf * self._sign)
        self.best_epoch = np.zeros(size, dtype=np.int64)
        self.wait = np.zeros(size, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.best)

    def update(self, epoch: int, values) -> tuple[np.ndarray, np.ndarray]:
        """Apply epoch ``epoch``'s values (P,) (None or NaN: not measured).

        Returns:
            ``(improved, stop)``: boolean arrays (P,): which members reached a new best
            (keep their weights now) and which ran out of patience this epoch.
        """
        v = np.array([np.nan if x is None else x for x in values], dtype=np.float64)
        if v.shape != self.best.shape:
            raise ValueError(f"values has {v.size} entries, the rule tracks {len(self)} members")
        measured = np.isfinite(v)
        with np.errstate(invalid="ignore"):
            improved = measured & (self._sign * v < self._sign * self.best - self.min_delta)
        self.best[improved] = v[improved]
        self.best_epoch[improved] = epoch
        self.wait[improved] = 0
        waiting = measured & ~improved
        self.wait[waiting] += 1
        if self.patience is None:
            stop = np.zeros_like(improved)
        else:
            stop = waiting & (self.wait >= self.patience)
        return improved, stop

    def take(self, positions: Sequence[int]) -> None:
        """Keep only the members at ``positions``, in that order."""
        positions = list(positions)
        self.best = self.best[positions]
        self.best_epoch = self.best_epoch[positions]
        self.wait = self.wait[positions]

    def copy_member(self, dst: int, src: int) -> None:
        """Member ``dst`` takes ``src``'s best, best epoch and wait (PBT's exploit)."""
        for a in (self.best, self.best_epoch, self.wait):
            a[dst] = a[src]

    def state_dict(self) -> dict:
        return {
            "best": self.best.tolist(),
            "best_epoch": self.best_epoch.tolist(),
            "wait": self.wait.tolist(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.best = np.asarray(state["best"], dtype=np.float64).reshape(-1)
        self.best_epoch = np.asarray(state["best_epoch"], dtype=np.int64).reshape(-1)
        self.wait = np.asarray(state["wait"], dtype=np.int64).reshape(-1)


def best_epoch(
    records: Iterable[dict], monitor: str = "dev_error", min_delta: float = 0.0, mode: str = "min"
) -> dict | None:
    """The record of the epoch whose weights early stopping keeps (the rule replayed over a
    history's records), or None when ``monitor`` was never measured."""
    rule = PatienceRule(1, None, min_delta, mode)
    found = None
    for record in records:
        improved, _ = rule.update(record.get("epoch", 0), [record.get(monitor)])
        if improved[0]:
            found = record
    return found


__all__ = ["MODES", "MONITORS", "PatienceRule", "best_epoch", "check_monitor"]
