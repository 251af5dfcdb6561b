import numpy as np
import pytest

from honed.data import load_csv, load_npz


def test_csv_header_by_name(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,label,b\n1,0,2\n3,1,4\n5,2,6\n")
    d = load_csv(p, target="label")
    np.testing.assert_array_equal(d.X, [[1, 2], [3, 4], [5, 6]])
    np.testing.assert_array_equal(d.y, [0, 1, 2])
    assert d.X.dtype == np.float32 and d.y.dtype == np.int64 and d.n_classes == 3


def test_csv_no_header_by_index(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("1.5,2,0.25\n3,4,0.5\n")
    d = load_csv(p, target=0)
    np.testing.assert_array_equal(d.y, [1.5, 3.0])
    assert not d.is_classification
    np.testing.assert_array_equal(d.X, [[2, 0.25], [4, 0.5]])
    assert load_csv(p).y.tolist() == [0.25, 0.5]  # default: last column


def test_csv_missing_column(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"target column 'label' not found in .*columns: a, b"):
        load_csv(p, target="label")
    with pytest.raises(ValueError, match=r"target column index must be in \[-2, 2\).*got 5"):
        load_csv(p, target=5)


def test_csv_bad_cell_and_ragged(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b\n1,2\n3,x\n")
    with pytest.raises(ValueError, match="every cell must be a number"):
        load_csv(p)
    p.write_text("1,2\n3\n")
    with pytest.raises(ValueError, match="line 2 has 1 fields, expected 2"):
        load_csv(p)


def test_npz(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(
        p, features=np.ones((3, 2)), labels=np.array([0, 1, 1]), class_names=np.array(["n", "p"])
    )
    d = load_npz(p, x_key="features", y_key="labels")
    assert d.class_names == ("n", "p") and len(d) == 3
    with pytest.raises(ValueError, match=r"x_key='X' not found in .*keys: features, labels"):
        load_npz(p)
