import numpy as np
import pytest

from honed.data import Dataset


def test_basic():
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.array([0, 1, 2, 0, 1, 2])
    d = Dataset(X, y, class_names=["a", "b", "c"])
    assert len(d) == 6 and d.n_classes == 3 and d.y.dtype == np.int64
    np.testing.assert_array_equal(d.class_counts(), [2, 2, 2])
    Y = d.one_hot()
    assert Y.shape == (6, 3) and Y.dtype == np.float32
    np.testing.assert_array_equal(Y.argmax(1), y)
    r = repr(d)
    assert "(6, 2)" in r and "counts=[2, 2, 2]" in r


def test_indexing_returns_dataset():
    d = Dataset(np.arange(10.0)[:, None], np.arange(10) % 2, image_shape=None)
    s = d[2:5]
    assert isinstance(s, Dataset) and len(s) == 3 and s.n_classes == 2
    one = d[3]
    assert isinstance(one, Dataset) and one.X.shape == (1, 1) and one.X[0, 0] == 3
    assert d[-1].X[0, 0] == 9
    assert len(d[d.y == 1]) == 5
    assert len(d[np.array([0, 0, 1])]) == 3
    with pytest.raises(IndexError):
        d[10]


def test_trailing_shape_and_images():
    X = np.zeros((4, 9), dtype=np.float32)
    d = Dataset(X, [0, 1, 0, 1], image_shape=(3, 3))
    assert d.images().shape == (4, 3, 3)
    with pytest.raises(ValueError, match=r"image_shape .* got 4 pixels"):
        Dataset(X, [0, 1, 0, 1], image_shape=(2, 2))
    d3 = Dataset(np.zeros((4, 2, 3, 5)), np.zeros(4, dtype=int))
    assert d3.shape == (4, 2, 3, 5)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match=r"same number of rows, got X with 3 and y with 2"):
        Dataset(np.zeros((3, 2)), [0, 1])


def test_nan_features_message():
    X = np.zeros((5, 3))
    X[2, 1] = np.nan
    X[4, 0] = np.inf
    with pytest.raises(
        ValueError, match=r"X must be finite.*got 2 non-finite values, first at row 2"
    ):
        Dataset(X, np.zeros(5, dtype=int))


def test_labels_out_of_range():
    with pytest.raises(
        ValueError, match=r"\[0, n_classes=3\), got 5 at row 1 \(1 labels out of range\)"
    ):
        Dataset(np.zeros((3, 1)), [0, 5, 2], n_classes=3)


def test_declared_n_classes_refuses_labels_out_of_range_naming_the_first():
    from honed.data.checks import check_classes

    ds = Dataset(np.zeros((4, 1)), [0, 4, 1, 3])
    with pytest.raises(
        ValueError,
        match=r"data.n_classes = 3: the train labels must be in \[0, 3\), got 4 at row 1 "
        r"\(2 labels out of range\)",
    ):
        check_classes(ds, 3, "train")


def test_negative_labels():
    with pytest.raises(ValueError, match=r"labels >= 0, got -1 at row 2"):
        Dataset(np.zeros((3, 1)), [0, 1, -1])


def test_real_targets():
    d = Dataset(np.zeros((3, 1)), [0.5, 1.5, -2.0])
    assert d.n_classes is None and not d.is_classification
    with pytest.raises(ValueError, match="needs integer class labels"):
        d.one_hot()
    with pytest.raises(ValueError, match=r"y must be finite"):
        Dataset(np.zeros((2, 1)), [0.0, np.nan])
    with pytest.raises(ValueError, match=r"n_classes is only for integer class labels"):
        Dataset(np.zeros((2, 1)), [0.0, 1.0], n_classes=2)


def test_class_names_length():
    with pytest.raises(ValueError, match=r"class_names must have n_classes=3 entries, got 2"):
        Dataset(np.zeros((2, 1)), [0, 1], n_classes=3, class_names=["a", "b"])


def test_replace_keeps_metadata():
    d = Dataset(
        np.ones((4, 4), np.float32),
        [0, 1, 2, 1],
        n_classes=5,
        class_names="abcde",
        image_shape=(2, 2),
    )
    e = d.replace(X=d.X * 2)
    assert e.n_classes == 5 and e.class_names == tuple("abcde") and e.image_shape == (2, 2)
    np.testing.assert_array_equal(e.y, d.y)
