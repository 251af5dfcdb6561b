"""Per-epoch values on their way to the study: held in memory, written in batches.

A population of 64 members reports 64 values per epoch; written one by one, each is a
journal append (a file lock, a write and an fsync) or an SQLite transaction, and storage
costs more than training (three quarters of a population study's time, measured). So while
a study runs, its driver holds the values here and writes all that are pending at once
(``StudyStorage.write_reports``: one append, or one transaction):

* at least every ``REPORT_INTERVAL`` seconds (a background thread), so optuna-dashboard
  stays live and a killed driver (SIGKILL, power cut) loses at most that much;
* before a trial is marked finished, and before anything reads the study (a pruner asked
  in the driver must see the values it decides on);
* when the study stops: at the end, on Ctrl-C and on SIGTERM (the CLI turns SIGTERM into
  an interruption).

Writes keep the order in which values were reported, and one write runs at a time, so a
trial's outcome is never stored before its last per-epoch values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["REPORT_INTERVAL", "ReportBatcher"]

#: seconds between two timed writes of the pending per-epoch values (at most)
REPORT_INTERVAL = 0.5

Report = tuple[int, int, float]  # (Optuna trial id, step, value)


class ReportBatcher:
    """Pending ``(trial id, step, value)`` reports and the thread that writes them on time.

    Args:
        write: stores a list of reports at once (raises on failure; they stay pending).
        interval: seconds between timed writes (default ``REPORT_INTERVAL``).

    Attributes:
        writes: how many writes were made (each one append or one transaction).
        error: the last failure of a timed write (the next ``flush`` tries again and
            raises its own).
    """

    def __init__(self, write: Callable[[list[Report]], None], interval: float | None = None):
        interval = REPORT_INTERVAL if interval is None else float(interval)
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        self.interval = interval
        self.writes = 0
        self.error: BaseException | None = None
        self._write = write
        self._pending: list[Report] = []
        self._pending_lock = threading.Lock()
        # held while a batch is taken *and* written: a flush that starts while the timer's
        # write runs waits for it, so nothing it must follow is still in flight
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, trial_id: int, step: int, value: float) -> None:
        """Hold one value until the next write."""
        with self._pending_lock:
            self._pending.append((trial_id, step, value))

    def pending(self) -> int:
        """How many values wait for the next write."""
        with self._pending_lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write every pending value now (one write); returns how many.

        Raises:
            whatever the write raises; the values stay pending for the next try.
        """
        with self._write_lock:
            with self._pending_lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                self._write(batch)
            except BaseException:
                with self._pending_lock:  # in front: the order of reports is kept
                    self._pending[:0] = batch
                raise
            self.writes += 1
            return len(batch)

    def start(self) -> ReportBatcher:
        """Start the thread that flushes every ``interval`` seconds."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._timed, name="honed-report-writer", daemon=True
            )
            self._thread.start()
        return self

    def _timed(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception as err:  # kept pending; the driver's next flush raises it
                self.error = err

    def close(self) -> None:
        """Stop the timer and write what is pending."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()
        self.flush()
