"""How a training run (or a tuning trial) stands: one vocabulary, as ``str`` enums.

A ``Status`` compares equal to its string (``Status.COMPLETE == "complete"``), so it is
written to JSON and read back as plain text.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The state of a training run; the words a tuning trial's state shares with it."""

    NEW = "new"  # built, not trained yet
    RUNNING = "running"
    COMPLETE = "complete"  # every epoch asked for was trained
    EARLY_STOPPED = "early_stopped"  # early stopping ended it (the best weights restored)
    DIVERGED = "diverged"  # the cost became NaN or infinite
    INTERRUPTED = "interrupted"  # Ctrl-C or a signal: resumable from its last checkpoint
    FAILED = "failed"  # an error after the run started (bad data, disk): the reason recorded

    @property
    def finished(self) -> bool:
        """True for a run that ended normally (complete or early-stopped)."""
        return self in (Status.COMPLETE, Status.EARLY_STOPPED)

    @classmethod
    def parse(cls, value: str) -> Status:
        """A status from its text; ``"completed"`` (written before 0.2) reads as complete."""
        return cls.COMPLETE if value == "completed" else cls(value)
