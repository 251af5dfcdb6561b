"""honed's user cache, and the decompressed copies of gzip data files kept in it.

Decompressing Fashion-MNIST's 26 MB training images takes about 0.3 s, in every process that
reads them (each tuning worker, each ``honed train``). :func:`~honed.data.idx.read_idx` keeps
the decompressed bytes under ``cache_root()/decoded`` and memory-maps them on later reads.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["cache_root", "decoded_copy_path", "store_decoded"]


def cache_root() -> Path:
    """honed's user cache directory: ``$XDG_CACHE_HOME/honed`` (``~/.cache/honed`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "honed"


def decoded_copy_path(path: Path) -> Path | None:
    """Where the decompressed copy of the gzip file ``path`` is kept, or None if caching is off.

    The name carries a digest of the file's absolute path, size and modification time, so an
    edited or replaced source never reads a stale copy. ``HONED_DECODED_CACHE=0`` turns the
    cache off.
    """
    if os.environ.get("HONED_DECODED_CACHE", "1") == "0":
        return None
    st = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[
        :16
    ]
    return cache_root() / "decoded" / f"{path.name.removesuffix('.gz')}.{key}"


def store_decoded(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically (a temporary file, then rename); best effort:
    a read-only or full disk only means the next read decompresses again."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass
