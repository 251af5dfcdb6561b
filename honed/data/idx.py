"""Reading and writing IDX files, the format of MNIST and Fashion-MNIST.

An IDX file is::

    magic   4 bytes: 0x00 0x00 <dtype code> <number of dims d>
    dims    d big-endian uint32 sizes
    payload prod(dims) items, big-endian, C order

Dtype codes: 0x08 ubyte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32,
0x0E float64. Files may be gzip-compressed; compression is detected from the gzip magic
bytes ``1f 8b``, not the file name.
"""

from __future__ import annotations

import gzip as _gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .decoded_cache import decoded_copy_path, store_decoded

__all__ = ["IDX_DTYPES", "read_idx", "write_idx"]

#: IDX dtype code -> big-endian NumPy dtype.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.str[1:]: code for code, dt in IDX_DTYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def _read_bytes(path: Path, cache: bool) -> tuple[bytes | np.ndarray, Path | None]:
    """The file's decompressed bytes and, when they came from the decoded cache, its path.

    A gzip file is decompressed once and kept uncompressed in the user cache (see
    :mod:`honed.data.decoded_cache`); later reads memory-map that copy, which costs nothing
    up front and shares the pages between processes (parallel tuning workers all read the
    same data).
    """
    with open(path, "rb") as f:
        magic = f.read(2)
    cached = decoded_copy_path(path) if cache and magic == _GZIP_MAGIC else None
    if cached is not None and cached.is_file() and cached.stat().st_size > 0:
        copy = np.memmap(cached, dtype=np.uint8, mode="r")
        if _matches_gzip_trailer(path, copy):
            return copy, cached
        del copy  # damaged or stale: decompress again and replace it below
    raw = path.read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw, None
    try:
        # gzip.decompress runs in C over the whole buffer: about 0.3 s for the 26 MB
        # training images, far faster than streaming through GzipFile.
        data = _gzip.decompress(raw)
    except EOFError as e:
        raise ValueError(f"{path}: truncated gzip stream ({e})") from None
    except (OSError, zlib.error) as e:  # BadGzipFile is an OSError
        raise ValueError(f"{path}: corrupt gzip stream ({e})") from None
    if cached is not None:
        store_decoded(cached, data)
    return data, None


def _matches_gzip_trailer(path: Path, data: np.ndarray) -> bool:
    """Whether ``data`` is the decompressed content of the gzip file ``path``: its length
    (mod 2³²) and CRC-32 equal the gzip trailer's ISIZE and CRC32 fields (RFC 1952), so a
    truncated or damaged decoded-cache copy is never used."""
    with open(path, "rb") as f:
        f.seek(-8, os.SEEK_END)
        trailer = f.read(8)
    if len(trailer) != 8:
        return False
    crc, isize = int.from_bytes(trailer[:4], "little"), int.from_bytes(trailer[4:], "little")
    return len(data) % (1 << 32) == isize and zlib.crc32(data) == crc


def read_idx(path: str | os.PathLike, copy: bool = True, cache: bool = True) -> np.ndarray:
    """Read an IDX file (plain or gzip) into a native-endian NumPy array.

    Args:
        path: File to read.
        copy: Return a writable array that owns its memory. ``False`` may return a read-only
            view of the decoded bytes (saves a copy of single-byte data, e.g. 47 MB for
            Fashion-MNIST's training images).
        cache: Keep a decompressed copy of a gzip file in ``$XDG_CACHE_HOME/honed/decoded``
            and memory-map it on later reads (about 0.3 s saved per process for
            Fashion-MNIST's training images). The copy is keyed by the source's path, size
            and modification time; a damaged copy is ignored and rewritten.

    Returns:
        Array with the file's shape and dtype (uint8, int8, int16, int32, float32 or float64),
        in native byte order.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is not valid IDX: bad magic number (first two bytes must be
            zero), unknown dtype code, header shorter than its dimensions, a payload whose
            length is not exactly ``prod(dims) * itemsize``, or a truncated/corrupt gzip
            stream. The message names the file and the problem; a short array is never
            returned silently.
    """
    path = Path(path)
    data, cached = _read_bytes(path, cache)
    if cached is not None:
        try:
            return _parse(data, cached, copy)
        except ValueError:  # a damaged cached copy: forget it and decode the source again
            del data
            cached.unlink(missing_ok=True)
            data, _ = _read_bytes(path, cache)
    return _parse(data, path, copy)


def _parse(data, path: Path, copy: bool) -> np.ndarray:
    """The array in the IDX bytes ``data`` (bytes or a uint8 memmap); ``path`` names errors."""
    if len(data) < 4:
        raise ValueError(f"{path}: too short for an IDX header ({len(data)} bytes, need 4)")
    if data[0] != 0 or data[1] != 0:
        raise ValueError(
            f"{path}: bad magic number: the first two bytes must be 0x00 0x00, "
            f"got 0x{data[0]:02x} 0x{data[1]:02x} (not an IDX file)"
        )
    code, ndim = int(data[2]), int(data[3])
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise ValueError(f"{path}: unknown IDX dtype code 0x{code:02X} (known: {known})")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{path}: header truncated: {ndim} dims need {header} header bytes, "
            f"file has {len(data)}"
        )
    shape = struct.unpack(f">{ndim}I", bytes(data[4:header]))
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header
    if got != expected:
        what = "too short (truncated)" if got < expected else "too long (trailing bytes)"
        raise ValueError(
            f"{path}: payload {what}: shape {tuple(shape)} of {dtype.name} needs "
            f"{expected} bytes, got {got}"
        )
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    if dtype.itemsize == 1 and not copy:
        return arr.view(dtype.newbyteorder("="))
    # astype copies: native byte order, and a writable array that owns its memory.
    return arr.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike, array: np.ndarray, gzip: bool | None = None) -> Path:
    """Write an array as an IDX file.

    Args:
        path: Destination file.
        array: Array of dtype uint8, int8, int16, int32, float32 or float64, with 1 to 255
            dimensions.
        gzip: Compress with gzip. ``None`` (default) compresses when ``path`` ends in ``.gz``.

    Returns:
        The path written.

    Raises:
        ValueError: If the dtype has no IDX code or the number of dims is outside 1..255.
    """
    path = Path(path)
    array = np.asarray(array)
    key = array.dtype.str[1:]  # drop the byte-order character
    if key not in _CODES:
        raise ValueError(
            f"array dtype must be one of uint8, int8, int16, int32, float32, float64, "
            f"got {array.dtype}"
        )
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array.ndim must be in 1..255, got {array.ndim}")
    code = _CODES[key]
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
    payload = np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    data = header + payload
    if gzip is None:
        gzip = path.suffix == ".gz"
    if gzip:
        data = _gzip.compress(data, compresslevel=6)
    path.write_bytes(data)
    return path
