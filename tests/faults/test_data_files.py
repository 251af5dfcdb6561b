"""Users' data files and data options: refused naming the file and the problem, or warned."""

import gzip
import warnings

import numpy as np
import pytest

from honed.data import DataWarning, load_csv, read_idx, write_idx
from honed.experiment.bundle import load_run

EXP = """
name = "data"
[data]
dataset = "{dataset}"
path = "{path}"
{extra}
[model]
hidden = [4]
[train]
epochs = 1
batch_size = 16
"""


def _experiment(tmp_path, dataset, path, extra=""):
    exp = tmp_path / "data.toml"
    exp.write_text(EXP.format(dataset=dataset, path=path, extra=extra))
    return exp


def _csv_rows(n=60, classes=3, label=None):
    rng = np.random.default_rng(0)
    lines = ["a,b,label"]
    for i in range(n):
        y = i % classes if label is None else label
        lines.append(f"{rng.normal():.3f},{rng.normal():.3f},{y}")
    return "\n".join(lines) + "\n"


BAD_CSV = [
    # (file bytes, extra [data] lines, text the message must hold)
    (b"\xff\xfe1,2,3\n", "", "not UTF-8"),
    (b"", "", "holds no rows"),
    (b"a,b,label\n", "", "only a header row"),
    (b"1,2,0\n3,4\n5,6,1\n" * 10, "", "has 2 fields, expected 3"),
    (b"1,2,0\n3,x,1\n" * 10, "", "every cell must be a number"),
    (b"1,nan,0\n3,4,1\n" * 10, "", "NaN"),
    (b"1,2,-1\n3,4,1\n" * 10, "", "class labels must be integers >= 0, got -1"),
    (_csv_rows(label=None).encode() + b"1,1,10\n", "n_classes = 3", "data.n_classes = 3"),
    (_csv_rows().encode(), "n_classes = 2", "data.n_classes = 2"),
    (_csv_rows().encode(), 'target = "nolabel"', "target column 'nolabel' not found"),
    (_csv_rows().encode(), "target = 7", "target column index must be in"),
    (_csv_rows(n=30).encode(), "subset = 1000", "data.subset = 1000 is larger than the data"),
    (b"1.5,2,0.5\n3,4,1.25\n" * 30, "n_classes = 2", "data.n_classes = 2 is for class labels"),
]


@pytest.mark.parametrize(
    "content, extra, expected",
    BAD_CSV,
    ids=[
        "non-utf8",
        "empty",
        "header-only",
        "ragged",
        "text-cell",
        "nan-cell",
        "negative-label",
        "label-10-with-n_classes",
        "labels-beyond-n_classes",
        "missing-target-name",
        "target-index-out-of-range",
        "subset-larger-than-data",
        "n_classes-on-real-targets",
    ],
)
def test_bad_csv_is_refused_naming_the_file(content, extra, expected, cli, tmp_path):
    data = tmp_path / "data.csv"
    data.write_bytes(content)
    r = cli("train", _experiment(tmp_path, "csv", data, extra), "--out", tmp_path / "runs")
    assert r.code == 1, r
    assert expected in r.err, r
    if "data.n_classes" not in expected and "subset" not in expected:
        assert str(data) in r.err, r
    assert data.read_bytes() == content  # the input is never touched


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b""], ids=["bom", "no-bom"])
@pytest.mark.parametrize("header", [True, False], ids=["header", "no-header"])
def test_csv_with_a_byte_order_mark_keeps_every_row(bom, header, tmp_path):
    rows = "1,2,0\n3,4,1\n5,6,0\n"
    data = tmp_path / "bom.csv"
    data.write_bytes(bom + (("a,b,y\n" if header else "") + rows).encode())
    ds = load_csv(data)
    assert len(ds) == 3 and ds.X[0].tolist() == [1, 2]


def test_label_10_without_n_classes_is_warned_about(cli, tmp_path):
    data = tmp_path / "typo.csv"
    data.write_text(_csv_rows(n=200, classes=10) + "0.1,0.2,10\n")
    with pytest.warns(DataWarning, match=r"class\(es\) \[10\] have at most 2"):
        r = cli("train", _experiment(tmp_path, "csv", data), "--out", tmp_path / "runs")
    assert r.code == 0, r


def test_single_class_data_is_warned_about(cli, tmp_path):
    data = tmp_path / "one.csv"
    data.write_text(_csv_rows(n=60, label=1))
    with pytest.warns(DataWarning, match=r"one class only \(label 1\)"):
        cli("train", _experiment(tmp_path, "csv", data), "--out", tmp_path / "runs")


@pytest.mark.parametrize("n", [6, 12])
def test_tiny_data_is_warned_about_and_not_used_as_its_own_dev_set(n, tmp_path):
    from honed import experiment as ex

    data = tmp_path / "tiny.csv"
    data.write_text(_csv_rows(n=n, classes=2))
    config = ex.load_config(_experiment(tmp_path, "csv", data))
    with pytest.warns(DataWarning, match=f"only {n} examples"):
        try:
            prepared = ex.prepare_data(config)
        except ValueError as err:  # too small to split is a clear refusal too
            assert "dev" in str(err) or "test" in str(err)
            return
    assert prepared.dev is not prepared.train  # the truth-table rule is for the gates only


@pytest.mark.parametrize("gate", ["xor", "and", "or", "nand"])
def test_logic_gates_use_their_truth_table_for_every_set(gate):
    from honed import experiment as ex

    config = ex.resolve_config({"name": gate, "data": {"dataset": gate}})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        prepared = ex.prepare_data(config)
    assert len(prepared.train) == len(prepared.dev) == len(prepared.test) == 4


def _npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


X4 = np.random.default_rng(0).normal(size=(40, 2)).astype(np.float32)
Y4 = np.arange(40) % 2


def _make_npz(kind, path):
    if kind == "truncated":
        _npz(path, X=X4, y=Y4)
        path.write_bytes(path.read_bytes()[:200])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "not-a-zip":
        path.write_bytes(b"PK but not really a zip file" * 10)
    elif kind == "pickled":
        _npz(path, X=np.array([{"a": 1}] * 40, dtype=object), y=Y4)
    elif kind == "no-X":
        _npz(path, features=X4, y=Y4)
    elif kind == "no-y":
        _npz(path, X=X4, labels=Y4)
    elif kind == "row-mismatch":
        _npz(path, X=X4, y=Y4[:30])
    elif kind == "nan":
        bad = X4.copy()
        bad[5, 1] = np.nan
        _npz(path, X=bad, y=Y4)
    elif kind == "2d-labels":
        _npz(path, X=X4, y=np.stack([Y4, Y4], 1))
    elif kind == "single-array":
        np.save(path.with_suffix(".npy"), X4)
        path.with_suffix(".npy").rename(path)
    elif kind == "text-X":
        _npz(path, X=np.array(["a"] * 40), y=Y4)
    elif kind == "1d-X":
        _npz(path, X=X4[:, 0], y=Y4)
    elif kind == "4d-X":
        _npz(path, X=np.zeros((40, 2, 2, 3), np.float32), y=Y4)
    return path


NPZ = {
    "truncated": "is not a readable .npz",
    "empty": "is not a readable .npz",
    "not-a-zip": "is not a readable .npz",
    "pickled": "never unpickles",
    "no-X": "x_key='X' not found",
    "no-y": "y_key='y' not found",
    "row-mismatch": "same number of rows",
    "nan": "NaN",
    "2d-labels": "must be 1-D",
    "single-array": "single array",
    "text-X": "must be numeric",
    "1d-X": "X has shape (40,); honed's networks take rows (m, n_features)",
    "4d-X": "or grayscale images (m, height, width); flatten it first",
}


@pytest.mark.parametrize("kind", list(NPZ))
def test_bad_npz_is_refused_naming_the_file(kind, cli, tmp_path):
    data = _make_npz(kind, tmp_path / "data.npz")
    before = data.read_bytes()
    r = cli("train", _experiment(tmp_path, "npz", data), "--out", tmp_path / "runs")
    assert r.code == 1, r
    assert NPZ[kind] in r.err and str(data) in r.err, r
    assert data.read_bytes() == before
    assert not (tmp_path / "runs").exists()  # refused before a run directory was made


def test_npz_of_images_trains_on_their_pixels_and_predicts_from_either_shape(cli, tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(60, 5, 4)).astype(np.uint8)
    labels = (images[:, :, :2].mean(axis=(1, 2)) > images[:, :, 2:].mean(axis=(1, 2))) * 1
    data = tmp_path / "images.npz"
    _npz(data, X=images, y=labels)
    r = cli("train", _experiment(tmp_path, "npz", data), "--out", tmp_path / "runs", "--quiet")
    assert r.code == 0, r
    (run,) = (tmp_path / "runs").iterdir()
    bundle = load_run(run)
    assert bundle.input_shape == (20,) and bundle.image_shape == (5, 4)
    for name, X in (("rows", images.reshape(60, -1)), ("images", images)):
        _npz(tmp_path / f"{name}.npz", X=X, y=labels)
        out = tmp_path / f"{name}.csv"
        r = cli("predict", run, tmp_path / f"{name}.npz", "--out", out)
        assert r.code == 0 and len(out.read_text().splitlines()) == 61, r


@pytest.mark.parametrize("dataset", ["csv", "npz"])
def test_data_path_that_is_a_directory_or_missing(dataset, cli, tmp_path):
    d = tmp_path / f"data.{dataset}"
    d.mkdir()
    r = cli("train", _experiment(tmp_path, dataset, d), "--out", tmp_path / "runs")
    assert r.code == 1 and str(d) in r.err and "directory" in r.err, r
    missing = tmp_path / f"missing.{dataset}"
    r = cli("train", _experiment(tmp_path, dataset, missing), "--out", tmp_path / "runs")
    assert r.code == 1 and str(missing) in r.err, r


FASHION = '[data]\ndataset = "fashion_mnist"\n[train]\nepochs = 1\n'


@pytest.mark.parametrize("state", ["missing", "empty", "incomplete", "a-file"])
def test_honed_data_is_honoured_or_refused_with_its_value(state, cli, tmp_path, monkeypatch):
    target = tmp_path / "fm"
    if state == "empty":
        target.mkdir()
    elif state == "incomplete":
        target.mkdir()
        (target / "train-images-idx3-ubyte.gz").write_bytes(b"")
    elif state == "a-file":
        target.write_text("not a directory")
    monkeypatch.setenv("HONED_DATA", str(target))
    exp = tmp_path / "fm.toml"
    exp.write_text(FASHION)
    r = cli("train", exp, "--out", tmp_path / "runs")
    assert r.code == 1, r
    assert f"HONED_DATA={target}" in r.err, r  # named, not replaced by another copy
    if state in ("empty", "incomplete"):
        assert "train-labels-idx1-ubyte" in r.err  # the missing files are listed


def test_path_missing_one_file_names_it_not_a_failed_download(tmp_path):
    from honed.data import mnist_data

    d = tmp_path / "partial"
    d.mkdir()
    for name in list(mnist_data.FASHION_MNIST_FILES.values())[:3]:
        (d / name).write_bytes(b"")
    missing = list(mnist_data.FASHION_MNIST_FILES.values())[3]
    with pytest.raises(FileNotFoundError, match=f"lacks {missing}"):
        mnist_data.fashion_mnist(path=d, download=False)


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "extend"])
def test_damaged_decoded_cache_is_not_used(damage, tmp_path, monkeypatch):
    from honed.data.decoded_cache import decoded_copy_path

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    arr = np.arange(5 * 7 * 7, dtype=np.uint8).reshape(5, 7, 7)
    plain = tmp_path / "x-idx3-ubyte"
    write_idx(plain, arr)
    source = tmp_path / "x-idx3-ubyte.gz"
    source.write_bytes(gzip.compress(plain.read_bytes()))
    np.testing.assert_array_equal(read_idx(source), arr)  # fills the cache
    cached = decoded_copy_path(source)
    good = cached.read_bytes()
    bad = {
        "truncate": good[:-10],
        "flip": good[:-1] + bytes([good[-1] ^ 0xFF]),
        "empty": b"",
        "extend": good + b"\0" * 49,
    }[damage]
    cached.write_bytes(bad)
    np.testing.assert_array_equal(read_idx(source), arr)
    assert cached.read_bytes() == good  # repaired
