import functools
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

import honed.data.mnist_data as M
from honed.data import DataNotFoundError, fashion_mnist, mnist, pixels_to_unit, write_idx

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
HAVE_DEBIAN = (DEBIAN / "train-images-idx3-ubyte.gz").is_file()


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


@pytest.mark.skipif(
    not HAVE_DEBIAN,
    reason="Fashion-MNIST not installed in "
    "/usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist)",
)
def test_fashion_mnist_from_debian():
    train, test = fashion_mnist(path=DEBIAN, download=False)
    for d, m in ((train, 60_000), (test, 10_000)):
        assert d.X.shape == (m, 784) and d.X.dtype == np.float32
        assert d.y.shape == (m,) and d.y.dtype == np.int64
        assert d.X.min() == 0.0 and d.X.max() == 1.0
        assert d.image_shape == (28, 28) and d.n_classes == 10
        np.testing.assert_array_equal(d.class_counts(), np.full(10, m // 10))
    assert train.class_names[0] == "T-shirt/top" and train.class_names[9] == "Ankle boot"
    # Stable checksums of the decoded data: pixels * 255 back to uint8 must be exact.
    assert _sha(np.rint(train.X * 255).astype(np.uint8)) == (
        "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012"
    )
    assert _sha(np.rint(test.X * 255).astype(np.uint8)) == (
        "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a"
    )
    assert _sha(train.y.astype(np.uint8)) == (
        "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7"
    )
    assert _sha(test.y.astype(np.uint8)) == (
        "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9"
    )


@pytest.mark.skipif(not HAVE_DEBIAN, reason="Fashion-MNIST Debian package not installed")
def test_hardcoded_checksums_match_debian_files():
    for name, want in M.FASHION_MNIST_SHA256.items():
        assert M._sha256(DEBIAN / name) == want


def _make_files(directory: Path, n_train=12, n_test=6, gz=True) -> dict[str, str]:
    """Small MNIST-format files; returns their sha256 by name."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 4, 5)).astype(np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 4, 5)).astype(np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 3).astype(np.uint8),
    }
    sums = {}
    for stem, a in arrays.items():
        name = stem + (".gz" if gz else "")
        write_idx(directory / name, a, gzip=gz)
        sums[name] = M._sha256(directory / name)
    return sums


@pytest.fixture
def no_system_data(tmp_path, monkeypatch):
    """Hide the Debian dir, $HONED_DATA and the real cache."""
    monkeypatch.setattr(M, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.delenv("HONED_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def test_load_small_idx_dir(tmp_path):
    _make_files(tmp_path / "d")
    train, test = mnist(tmp_path / "d")
    assert train.X.shape == (12, 20) and train.image_shape == (4, 5)
    assert test.X.dtype == np.float32 and test.X.min() >= 0 and test.X.max() <= 1
    np.testing.assert_array_equal(train.y, np.arange(12) % 10)


def test_plain_files_and_subdir(tmp_path):
    _make_files(tmp_path / "root" / "fashion-mnist", gz=False)
    train, _ = fashion_mnist(path=tmp_path / "root", download=False)
    assert len(train) == 12


def test_honed_data_env(no_system_data, monkeypatch):
    _make_files(no_system_data / "env" / "fashion-mnist")
    monkeypatch.setenv("HONED_DATA", str(no_system_data / "env"))
    train, test = fashion_mnist(download=False)
    assert len(train) == 12 and len(test) == 6


def test_missing_data_message(no_system_data):
    with pytest.raises(DataNotFoundError) as e:
        fashion_mnist(download=False)
    msg = str(e.value)
    assert isinstance(e.value, FileNotFoundError)
    assert "apt-get install dataset-fashion-mnist" in msg
    assert M.FASHION_MNIST_URL in msg
    assert str(no_system_data / "cache" / "honed" / "fashion-mnist") in msg
    assert "train-images-idx3-ubyte.gz" in msg


def test_download_file_url(no_system_data):
    src = no_system_data / "mirror"
    sums = _make_files(src)
    train, test = fashion_mnist(base_url=src.as_uri() + "/", sha256=sums)
    assert len(train) == 12 and len(test) == 6
    cache = no_system_data / "cache" / "honed" / "fashion-mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(sums)  # no temp files left
    # Now found in the cache, without downloading.
    train2, _ = fashion_mnist(download=False)
    np.testing.assert_array_equal(train.X, train2.X)


@pytest.fixture
def http_server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{srv.server_address[1]}/"
    srv.shutdown()
    srv.server_close()


def test_download_http_into_path(tmp_path, http_server):
    root, url = http_server
    sums = _make_files(root)
    dest = tmp_path / "dest"
    train, _ = fashion_mnist(path=dest, base_url=url, sha256=sums)
    assert len(train) == 12
    assert all((dest / n).is_file() for n in sums)


def test_checksum_mismatch_not_kept(tmp_path, http_server):
    root, url = http_server
    sums = _make_files(root)
    name = "train-images-idx3-ubyte.gz"
    sums[name] = "0" * 64
    dest = tmp_path / "dest"
    with pytest.raises(DataNotFoundError, match=r"checksum mismatch.*train-images.*not kept"):
        fashion_mnist(path=dest, base_url=url, sha256=sums)
    assert not (dest / name).exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]  # temp file removed


def test_failed_download_says_how(no_system_data):
    empty = no_system_data / "empty-mirror"
    empty.mkdir()
    with pytest.raises(DataNotFoundError, match=r"download of .* failed") as e:
        fashion_mnist(base_url=empty.as_uri() + "/")
    assert "apt-get install dataset-fashion-mnist" in str(e.value)


def test_default_checksums_reject_small_files(no_system_data):
    src = no_system_data / "mirror"
    _make_files(src)
    with pytest.raises(DataNotFoundError, match="checksum mismatch"):
        fashion_mnist(base_url=src.as_uri())  # official checksums by default


def test_raw_pixels_convert_to_the_same_floats(tmp_path):
    _make_files(tmp_path / "d")
    raw_train, raw_test = mnist(tmp_path / "d", raw=True)
    train, _ = mnist(tmp_path / "d")
    assert (
        raw_train.X.dtype == np.uint8
        and raw_train.X.shape == (12, 20)
        and raw_test.X.shape == (6, 20)
    )
    assert raw_train.image_shape == (4, 5) and not raw_train.X.flags.writeable
    rows = np.array([7, 2, 11])
    # Selecting rows first, then converting, is bit-identical to converting everything.
    np.testing.assert_array_equal(pixels_to_unit(raw_train.X[rows]), train.X[rows])
