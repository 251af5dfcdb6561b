"""SIGTERM handled like Ctrl-C, so ``kill PID`` (or a batch system's stop) ends a run cleanly.

Inside :func:`terminate_as_interrupt`, SIGTERM raises :class:`Terminated` (a
``KeyboardInterrupt``) in the process that entered the block: the trainer then saves a
checkpoint of its last completed epoch and the run is recorded ``interrupted``, resumable.
Child processes forked inside the block (tuning workers) keep the default behaviour: the
handler re-sends the signal to itself with the default action, so a pool that terminates
its workers still does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

__all__ = ["Terminated", "terminate_as_interrupt"]


class Terminated(KeyboardInterrupt):
    """SIGTERM received; handled as an interruption (exit code 130)."""


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises :class:`Terminated` in this process for the duration of the block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def handler(signum, frame):
        if os.getpid() != owner:  # a forked child: die as SIGTERM would have it
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Terminated("terminated (SIGTERM)")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
