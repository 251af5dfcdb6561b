"""Durable file writes: a file is either its old content or its complete new content.

Every write goes to a temporary file with a unique name in the target's directory (two
processes writing the same file never share a temporary), is flushed and ``fsync``-ed, then
renamed over the target (``os.replace``, atomic on POSIX), and the directory is ``fsync``-ed
so the rename itself survives a power cut. A full disk or a permission error leaves the old
file untouched and no temporary behind, and raises ``OSError`` naming the target.

SIGINT and SIGTERM arriving during the write are held back until the file is complete
(:func:`deferred_signals`), so a second Ctrl-C during the save of a checkpoint never leaves
it half-written.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = [
    "atomic_open",
    "atomic_write",
    "deferred_signals",
    "os_error_hint",
    "read_json",
    "write_json",
]


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM for the duration of the block, then deliver them.

    Only possible in the main thread (elsewhere the block runs unprotected). A signal that
    arrived is re-raised at the end of the block as ``KeyboardInterrupt`` (SIGINT) or by the
    handler that was in place before (SIGTERM).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):  # not settable here: unprotected
            previous[signum] = signal.signal(signum, lambda s, _f: received.append(s))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received:
            first = received[0]
            handler = previous.get(first)
            if callable(handler):
                handler(first, None)
            elif first == signal.SIGINT or handler is None:
                raise KeyboardInterrupt
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), first)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some file systems do not open directories; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _describe(err: OSError, path: Path) -> OSError:
    """The same kind of OSError, its message naming the target and what to do."""
    new = type(err)(err.errno, f"cannot write {path}: {os_error_hint(err)}")
    new.filename = str(path)
    return new


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs) -> Iterator[IO]:
    """Open a temporary file to write ``path``; on a clean exit it replaces ``path``.

    ``mode`` is ``"w"`` (text, UTF-8 unless ``encoding`` is given) or ``"wb"``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    if mode == "w":
        kwargs.setdefault("encoding", "utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise IsADirectoryError(21, "is a directory", str(path))
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise _describe(err, path) from None
    try:
        with deferred_signals():
            with os.fdopen(fd, mode, **kwargs) as f:
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise _describe(err, path) from None
        raise
    _fsync_dir(path.parent)


def atomic_write(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` (text or bytes) to ``path`` durably; returns the path."""
    with atomic_open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)
    return Path(path)


def write_json(path: str | os.PathLike, obj) -> Path:
    """``obj`` as indented JSON in ``path``, written durably (NumPy scalars as floats)."""
    return atomic_write(path, json.dumps(obj, indent=2, default=float))


_HINTS = {
    "ENOSPC": "the disk is full: free some space and run the command again",
    "EDQUOT": "the disk quota is exceeded: free some space and run the command again",
    "EACCES": "permission denied: check the permissions of the file and its directory",
    "EPERM": "operation not permitted: check the permissions of the file and its directory",
    "EROFS": "the file system is read-only: use a directory you can write to",
    "EISDIR": "it is a directory, a file was expected: give the file's path",
    "ENOTDIR": "a part of the path is a file, not a directory",
    "ENOENT": "no such file or directory: check the path",
    "EIO": "input/output error: the disk or network file system failed",
}


def os_error_hint(err: OSError) -> str:
    """What went wrong and what to do, for an ``OSError``, in one phrase."""
    import errno

    name = errno.errorcode.get(err.errno or -1, "")
    return _HINTS.get(name, err.strerror or str(err))


def read_json(path: str | os.PathLike, what: str = "file"):
    """The JSON in ``path``; ``ValueError`` naming the file when it is damaged or not UTF-8."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{what} {path} is not UTF-8 text ({err.reason} at byte {err.start})"
        ) from None
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{what} {path} is damaged: not valid JSON ({err.msg} at line {err.lineno}, "
            f"column {err.colno})"
        ) from None
