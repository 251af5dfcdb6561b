"""Error analysis: the confusion matrix and per-class precision, recall and F1.

The notes' next step after bias/variance: look at the examples the model gets wrong, by
class. With ``C[i, j]`` = number of examples of true class i predicted as class j:

    precision_j = C[j, j] / Σ_i C[i, j]      (of those predicted j, the share really j)
    recall_i    = C[i, i] / Σ_j C[i, j]      (of the true i, the share found)
    F1          = 2 · precision · recall / (precision + recall)
    accuracy    = Σ_i C[i, i] / Σ C           error = 1 − accuracy

A class never predicted has precision 0 (no true positive), one absent from the data has
recall 0; F1 is 0 when both are 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from honed import validation as check


def confusion_matrix(y_true, y_pred, n_classes: int) -> np.ndarray:
    """``C[i, j]``: how many examples of true class ``i`` were predicted as ``j`` (int64)."""
    n_classes = check.integer("n_classes", n_classes, minimum=1)
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length, got {len(y_true)} and {len(y_pred)}"
        )
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if len(y) and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(
                f"{name} must hold labels in [0, {n_classes}), got {y.min()}..{y.max()}"
            )
    return np.bincount(
        y_true.astype(np.int64) * n_classes + y_pred.astype(np.int64), minlength=n_classes**2
    ).reshape(n_classes, n_classes)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den > 0)
    return out


@dataclass
class ErrorAnalysis:
    """Accuracy, per-class precision / recall / F1 and the confusion matrix of one data set."""

    confusion: np.ndarray
    class_names: list[str]
    cost: float | None = None
    split: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def total(self) -> int:
        return int(self.confusion.sum())

    @property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / max(self.total, 1))

    @property
    def error(self) -> float:
        return 1.0 - self.accuracy

    @property
    def support(self) -> np.ndarray:
        return self.confusion.sum(axis=1)

    @property
    def precision(self) -> np.ndarray:
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=0))

    @property
    def recall(self) -> np.ndarray:
        return _ratio(np.diag(self.confusion), self.confusion.sum(axis=1))

    @property
    def f1(self) -> np.ndarray:
        p, r = self.precision, self.recall
        return _ratio(2 * p * r, p + r)

    def most_confused(self, top: int = 5) -> list[dict]:
        """The largest off-diagonal entries: ``{true, predicted, count, share}`` where
        ``share`` is the fraction of the true class that went to ``predicted``."""
        off = self.confusion.copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(off, axis=None, kind="stable")[::-1]
        pairs = []
        for flat in order[:top]:
            i, j = divmod(int(flat), off.shape[1])
            if off[i, j] == 0:
                break
            pairs.append(
                {
                    "true": self.class_names[i],
                    "predicted": self.class_names[j],
                    "count": int(off[i, j]),
                    "share": float(off[i, j] / max(self.support[i], 1)),
                }
            )
        return pairs

    def to_dict(self) -> dict:
        return {
            "split": self.split,
            "examples": self.total,
            "accuracy": self.accuracy,
            "error": self.error,
            "cost": self.cost,
            "classes": [
                {
                    "class": name,
                    "precision": float(p),
                    "recall": float(r),
                    "f1": float(f),
                    "support": int(s),
                }
                for name, p, r, f, s in zip(
                    self.class_names, self.precision, self.recall, self.f1, self.support
                )
            ],
            "confusion": self.confusion.tolist(),
            "most_confused": self.most_confused(),
            **self.extra,
        }

    def __str__(self) -> str:
        width = max(12, *(len(n) + 2 for n in self.class_names))
        head = f"{self.split} set: " if self.split else ""
        cost = f", cost {self.cost:.4f}" if self.cost is not None else ""
        lines = [
            f"{head}{self.total} examples, accuracy {self.accuracy:.2%}, "
            f"error {self.error:.2%}{cost}",
            "",
            f"{'class':<{width}}{'precision':>10}{'recall':>10}{'F1':>10}{'support':>9}",
        ]
        for name, p, r, f, s in zip(
            self.class_names, self.precision, self.recall, self.f1, self.support
        ):
            lines.append(f"{name:<{width}}{p:>10.2%}{r:>10.2%}{f:>10.2%}{int(s):>9}")
        lines += ["", "confusion matrix (rows: true class, columns: predicted)"]
        short = [n[:7] for n in self.class_names]
        lines.append(f"{'':<{width}}" + "".join(f"{n:>8}" for n in short))
        for name, row in zip(self.class_names, self.confusion):
            lines.append(f"{name:<{width}}" + "".join(f"{int(v):>8}" for v in row))
        pairs = self.most_confused()
        if pairs:
            lines += ["", "most confused (true → predicted):"]
            lines += [
                f"  {p['true']} → {p['predicted']}: {p['count']} ({p['share']:.1%} of {p['true']})"
                for p in pairs
            ]
        return "\n".join(lines)


def analyse(y_true, y_pred, class_names, cost=None, split: str = "") -> ErrorAnalysis:
    """The :class:`ErrorAnalysis` of predicted against true integer labels."""
    names = [str(c) for c in class_names]
    return ErrorAnalysis(confusion_matrix(y_true, y_pred, len(names)), names, cost, split)


__all__ = ["ErrorAnalysis", "analyse", "confusion_matrix"]
