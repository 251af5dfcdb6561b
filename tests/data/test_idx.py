import gzip
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from honed.data import read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(tmp_path, dtype, compress):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    p = write_idx(tmp_path / "a.idx", a, gzip=compress)
    b = read_idx(p)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    np.testing.assert_array_equal(a, b)
    assert b.flags.writeable


def test_big_endian_on_disk(tmp_path):
    p = write_idx(tmp_path / "x", np.array([1, 256], dtype=np.int32))
    raw = p.read_bytes()
    assert raw[:4] == b"\x00\x00\x0c\x01"
    assert raw[4:8] == struct.pack(">I", 2)
    assert raw[8:] == b"\x00\x00\x00\x01\x00\x00\x01\x00"


def test_gzip_detected_by_magic_not_name(tmp_path):
    a = np.arange(10, dtype=np.uint8)
    p = write_idx(tmp_path / "plain-name-idx1-ubyte", a, gzip=True)  # no .gz suffix
    assert p.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(p), a)
    q = write_idx(tmp_path / "raw.gz", a, gzip=False)  # .gz name, plain content
    np.testing.assert_array_equal(read_idx(q), a)


def _raw(tmp_path, data: bytes, name="bad"):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_bad_magic(tmp_path):
    p = _raw(tmp_path, b"\x01\x00\x08\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match=r"bad.*magic number.*0x01 0x00"):
        read_idx(p)


def test_bad_dtype_code(tmp_path):
    p = _raw(tmp_path, b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match=r"unknown IDX dtype code 0x07"):
        read_idx(p)


def test_payload_too_short(tmp_path):
    p = _raw(tmp_path, b"\x00\x00\x08\x02" + struct.pack(">II", 3, 4) + bytes(11))
    with pytest.raises(ValueError, match=r"bad: payload too short.*needs 12 bytes, got 11"):
        read_idx(p)


def test_payload_too_long(tmp_path):
    p = _raw(tmp_path, b"\x00\x00\x08\x02" + struct.pack(">II", 3, 4) + bytes(13))
    with pytest.raises(ValueError, match=r"payload too long.*needs 12 bytes, got 13"):
        read_idx(p)


def test_header_truncated(tmp_path):
    p = _raw(tmp_path, b"\x00\x00\x08\x03" + struct.pack(">I", 3))
    with pytest.raises(ValueError, match=r"header truncated"):
        read_idx(p)
    with pytest.raises(ValueError, match=r"too short for an IDX header"):
        read_idx(_raw(tmp_path, b"\x00\x00", "tiny"))


def test_truncated_gzip(tmp_path):
    p = write_idx(
        tmp_path / "a.gz", np.random.default_rng(0).integers(0, 255, 5000).astype(np.uint8)
    )
    raw = p.read_bytes()
    q = _raw(tmp_path, raw[: len(raw) // 2], "half.gz")
    with pytest.raises(ValueError, match=r"half.gz: truncated gzip stream"):
        read_idx(q)


def test_corrupt_gzip(tmp_path):
    data = gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 4) + bytes(4))
    bad = bytearray(data)
    bad[-8] ^= 0xFF  # CRC
    with pytest.raises(ValueError, match=r"corrupt gzip stream"):
        read_idx(_raw(tmp_path, bytes(bad), "crc.gz"))


def test_payload_short_inside_gzip(tmp_path):
    data = gzip.compress(b"\x00\x00\x08\x01" + struct.pack(">I", 10) + bytes(9))
    with pytest.raises(ValueError, match=r"payload too short"):
        read_idx(_raw(tmp_path, data, "short.gz"))


def test_write_rejects_bad_dtype(tmp_path):
    with pytest.raises(ValueError, match=r"array dtype must be one of .* got int64"):
        write_idx(tmp_path / "x", np.arange(3, dtype=np.int64))


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


def test_no_copy_view_is_read_only(tmp_path):
    p = write_idx(tmp_path / "a.gz", np.arange(6, dtype=np.uint8))
    a = read_idx(p, copy=False)
    np.testing.assert_array_equal(a, np.arange(6))
    assert read_idx(p).flags.writeable


@settings(max_examples=30, deadline=None)
@given(
    shape=st.lists(st.integers(0, 4), min_size=1, max_size=4),
    dtype=st.sampled_from(["u1", "i1", "i2", "i4", "f4", "f8"]),
    compress=st.booleans(),
)
def test_round_trip_property(tmp_path_factory, shape, dtype, compress):
    a = (np.arange(int(np.prod(shape))) % 100).astype(dtype).reshape(shape)
    p = write_idx(tmp_path_factory.mktemp("h") / "x", a, gzip=compress)
    b = read_idx(p)
    assert b.shape == a.shape and b.dtype == a.dtype
    np.testing.assert_array_equal(a, b)


def _decoded_files(cache_home):
    return sorted((cache_home / "honed" / "decoded").glob("*"))


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("HONED_DECODED_CACHE", raising=False)
    return home


def test_gzip_decoded_once_then_memory_mapped(tmp_path, cache_home):
    a = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    p = write_idx(tmp_path / "x-idx3-ubyte.gz", a)
    first = read_idx(p, copy=False)
    (cached,) = _decoded_files(cache_home)
    assert cached.name.startswith("x-idx3-ubyte.") and cached.stat().st_size == 16 + a.size
    again = read_idx(p, copy=False)
    np.testing.assert_array_equal(first, a)
    np.testing.assert_array_equal(again, a)
    assert not again.flags.writeable
    base = again
    while base.base is not None and not isinstance(base, np.memmap):
        base = base.base
    assert isinstance(base, np.memmap)  # the second read is a view of the cached copy
    copied = read_idx(p)  # copy=True still gives a writable array of its own
    assert copied.flags.writeable and copied.flags.owndata


def test_decoded_copy_follows_the_source(tmp_path, cache_home):
    p = tmp_path / "x.gz"
    write_idx(p, np.zeros(5, np.uint8))
    read_idx(p)
    write_idx(p, np.arange(7, dtype=np.uint8))  # replaced: other size, other mtime
    np.testing.assert_array_equal(read_idx(p), np.arange(7))
    assert len(_decoded_files(cache_home)) == 2  # a new key, never the stale copy


def test_damaged_decoded_copy_is_rewritten(tmp_path, cache_home):
    p = write_idx(tmp_path / "x.gz", np.arange(40, dtype=np.int32))
    read_idx(p)
    (cached,) = _decoded_files(cache_home)
    cached.write_bytes(cached.read_bytes()[:30])  # truncated, e.g. a full disk long ago
    np.testing.assert_array_equal(read_idx(p), np.arange(40))
    assert cached.stat().st_size == 8 + 4 * 40  # rewritten whole: 8-byte header, 40 int32


def test_decoded_cache_can_be_turned_off(tmp_path, cache_home, monkeypatch):
    p = write_idx(tmp_path / "x.gz", np.arange(5, dtype=np.uint8))
    read_idx(p, cache=False)
    assert _decoded_files(cache_home) == []
    monkeypatch.setenv("HONED_DECODED_CACHE", "0")
    read_idx(p)
    assert _decoded_files(cache_home) == []
    plain = write_idx(tmp_path / "plain", np.arange(5, dtype=np.uint8))
    monkeypatch.delenv("HONED_DECODED_CACHE")
    read_idx(plain)  # uncompressed files are read directly, never copied
    assert _decoded_files(cache_home) == []


def test_unwritable_cache_still_reads(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory would go")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    p = write_idx(tmp_path / "x.gz", np.arange(5, dtype=np.uint8))
    np.testing.assert_array_equal(read_idx(p), np.arange(5))
