"""Live progress of a study: a bar with the best and running trials on a terminal, a few
plain lines in a log, nothing when switched off.

``mode``:
    ``"auto"`` (default): a tqdm bar when the stream is a terminal (a plain ``\\r`` line
    without tqdm); otherwise plain lines at every 10 % of the trials and at the end, so
    a log file stays short.
    ``"lines"``: one plain line per finished trial.  ``False``/``"off"``: silent.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO, Any

from .trial import FrozenTrial, TrialState

__all__ = ["Progress"]


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.4g}"


def _short(params: dict[str, Any], width: int = 60) -> str:
    s = " ".join(
        f"{k.rsplit('.', 1)[-1]}={v:.3g}" if isinstance(v, float) else f"{k.rsplit('.', 1)[-1]}={v}"
        for k, v in params.items()
    )
    return s if len(s) <= width else s[: width - 1] + "…"


class Progress:
    def __init__(
        self,
        total: int,
        mode: Any = "auto",
        stream: IO[str] | None = None,
        direction: str = "minimize",
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.total = total
        self.sign = 1.0 if direction == "minimize" else -1.0
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        if mode in (False, None, "off"):
            self.mode = "off"
        elif mode == "auto":
            self.mode = "bar" if tty else "quiet_lines"
        elif mode in ("lines", "bar", True):
            self.mode = "bar" if mode is True else mode
        else:
            raise ValueError(f"progress must be 'auto', 'lines', 'bar' or False, got {mode!r}")
        self.done = 0
        self.best: FrozenTrial | None = None
        self.counts: dict[str, int] = {}
        self._bar = None
        self._next_line = 0
        if self.mode == "bar":
            try:
                from tqdm.auto import tqdm

                self._bar = tqdm(total=total, file=self.stream, unit="trial", dynamic_ncols=True)
            except ImportError:
                self._bar = None

    def start(self, already_done: Sequence[FrozenTrial]) -> None:
        for t in already_done:
            self._account(t)
        if self._bar is not None:
            self._bar.update(self.done)

    def _account(self, t: FrozenTrial) -> None:
        if t.state not in TrialState.FINISHED:
            return
        self.done += 1
        self.counts[t.state] = self.counts.get(t.state, 0) + 1
        if t.finished_ok:
            best = self.best
            if best is None or self.sign * t.value < self.sign * best.value:
                self.best = t

    def status(self, running: Sequence[FrozenTrial]) -> str:
        best = (
            f"best {_fmt(self.best.value)} (#{self.best.number} {_short(self.best.params, 40)})"
            if self.best
            else "best -"
        )
        other = ", ".join(
            f"{k} {v}" for k, v in sorted(self.counts.items()) if k != TrialState.COMPLETE
        )
        run = ",".join(f"#{t.number}" for t in sorted(running, key=lambda t: t.number))
        return " | ".join(s for s in (best, f"running {run or '-'}", other) if s)

    def trial_finished(self, t: FrozenTrial, running: Sequence[FrozenTrial]) -> None:
        self._account(t)
        if self.mode == "off":
            return
        if self.mode == "bar":
            if self._bar is not None:
                self._bar.set_postfix_str(self.status(running), refresh=False)
                self._bar.update(1)
            else:
                self.stream.write(f"\r[{self.done}/{self.total}] {self.status(running)}\x1b[K")
                self.stream.flush()
            return
        if self.mode == "quiet_lines":
            if self.done < self._next_line and self.done != self.total:
                return
            self._next_line = self.done + max(1, self.total // 10)
        val = _fmt(t.value) if t.value is not None else t.state
        self.stream.write(
            f"trial {t.number} {t.state} {val} [{self.done}/{self.total}] {self.status(running)}\n"
        )
        self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "bar":
            self.stream.write("\n")
