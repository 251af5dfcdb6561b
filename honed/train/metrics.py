"""Training metrics: the per-epoch History (errors come from each loss's ``error``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from honed.train.status import Status


class Record(dict):
    """One epoch's record: a dict that can also be called, so ``history.last["dev_error"]``,
    ``history.last()`` (the whole record) and ``history.last("dev_error")`` all work."""

    def __call__(self, key: str | None = None, default: Any = None) -> Any:
        return self if key is None else self.get(key, default)


@dataclass
class History:
    """What happened in each epoch, plus events such as a learning-rate change.

    ``epochs`` holds one dict per epoch with ``epoch`` (1-based), ``train_cost``,
    ``train_error`` (averaged over the epoch's mini-batches, in training mode, as Keras
    reports them), ``dev_cost``, ``dev_error`` (eval mode, after the epoch), ``lr``,
    ``seconds`` and ``samples_per_s``.
    """

    epochs: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    status: Status = Status.NEW
    message: str = ""

    def append(self, record: dict[str, Any]) -> None:
        self.epochs.append(dict(record))

    def column(self, key: str) -> list[float]:
        return [r.get(key, math.nan) for r in self.epochs]

    @property
    def last(self) -> Record:
        """The last epoch's record (empty before the first epoch); usable as a dict or
        called: ``history.last["dev_error"]``, ``history.last()``, ``history.last("lr")``."""
        return Record(self.epochs[-1]) if self.epochs else Record()

    def best(self, key: str = "dev_error") -> dict[str, Any]:
        values = [r for r in self.epochs if r.get(key) is not None and math.isfinite(r[key])]
        return min(values, key=lambda r: r[key]) if values else {}

    def truncate(self, epoch: int) -> None:
        """Forget epochs after ``epoch`` (used when resuming from an earlier checkpoint)."""
        self.epochs = [r for r in self.epochs if r["epoch"] <= epoch]

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs": self.epochs,
            "events": self.events,
            "status": self.status,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        return cls(
            list(d.get("epochs", [])),
            list(d.get("events", [])),
            Status.parse(d.get("status", "new")),
            d.get("message", ""),
        )

    def __len__(self) -> int:
        return len(self.epochs)
