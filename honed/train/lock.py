"""A run lock: one process at a time trains (or resumes) a run directory.

The lock is the file ``run.lock`` in the run directory, created exclusively
(``O_CREAT | O_EXCL``, atomic on POSIX) and holding the owner's pid, host and process start
time. A second ``honed resume`` of the same run is refused, naming the owner. A lock whose
owner is gone — a killed ``honed train`` leaves its lock behind — is *stale*: same host and
the pid no longer runs (or runs a different process, started at another time); it is taken
over. Within one process the lock is re-entrant.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import json
import os
import socket
from pathlib import Path

__all__ = ["RunLocked", "hold_run_lock", "live_owner", "run_lock"]

LOCK_NAME = "run.lock"
_held: dict[Path, int] = {}  # lock file -> depth, in this process


class RunLocked(OSError):
    """Another live process holds the run's lock."""


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _owner(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _stale(owner: dict | None) -> bool:
    if not isinstance(owner, dict) or not isinstance(owner.get("pid"), int):
        return True  # empty or damaged: its writer died between create and write
    if owner.get("host") != socket.gethostname():
        return False  # cannot look at another machine's processes
    pid = owner["pid"]
    if not _alive(pid):
        return True
    started = owner.get("started")
    return started is not None and _start_time(pid) not in (None, started)


def live_owner(run_dir: str | os.PathLike) -> dict | None:
    """The live process holding ``run_dir``'s lock (``{"pid", "host", "started"}``), or None
    when nothing holds it or its holder is gone (a stale lock of a killed process)."""
    owner = _owner(Path(run_dir) / LOCK_NAME)
    return None if owner is None or _stale(owner) else owner


def acquire(run_dir: str | os.PathLike) -> Path:
    """Take the lock of ``run_dir``; :class:`RunLocked` when a live process holds it."""
    path = Path(run_dir) / LOCK_NAME
    key = path.resolve()
    if key in _held:
        _held[key] += 1
        return path
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": _start_time(os.getpid())}
    for _ in range(3):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner = _owner(path)
            if not _stale(owner):
                raise RunLocked(
                    errno.EBUSY,
                    f"{run_dir} is in use by process {owner['pid']} on {owner['host']} "
                    f"(lock {path}); wait for it to finish, or delete the lock if that "
                    "process is gone",
                ) from None
            # A stale lock: move it aside under a unique name (only one taker wins the
            # rename), then try again to create ours.
            aside = path.with_name(f"{LOCK_NAME}.stale.{os.getpid()}")
            with contextlib.suppress(FileNotFoundError):
                os.replace(path, aside)
                os.unlink(aside)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(me, f)
        _held[key] = 1
        return path
    raise RunLocked(errno.EBUSY, f"could not take the lock {path}: it keeps changing hands")


def release(run_dir: str | os.PathLike) -> None:
    """Give back a lock taken by :func:`acquire` in this process."""
    path = Path(run_dir) / LOCK_NAME
    key = path.resolve()
    depth = _held.get(key, 0)
    if depth > 1:
        _held[key] = depth - 1
        return
    _held.pop(key, None)
    owner = _owner(path)
    if isinstance(owner, dict) and owner.get("pid") == os.getpid():
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class run_lock:  # noqa: N801 - used as a context manager, like open()
    """``with run_lock(run_dir): ...`` holds the lock of ``run_dir`` (None: no lock)."""

    def __init__(self, run_dir):
        self.run_dir = run_dir

    def __enter__(self):
        # No directory, no lock: the function itself reports "not a run directory".
        self.taken = self.run_dir is not None and Path(self.run_dir).is_dir()
        if self.taken:
            acquire(self.run_dir)
        return self

    def __exit__(self, *exc):
        if self.taken:
            release(self.run_dir)


def hold_run_lock(func):
    """Decorate a function with a ``run_dir`` argument: it runs holding that run's lock."""
    signature = inspect.signature(func)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        run_dir = signature.bind(*args, **kwargs).arguments.get("run_dir")
        with run_lock(run_dir):
            return func(*args, **kwargs)

    return wrapper
