import numpy as np
import pytest

from honed.data import blobs, circles, flower, gates, moons


@pytest.mark.parametrize(
    "name, y",
    [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("nand", [1, 1, 1, 0]), ("XOR", [0, 1, 1, 0])],
)
def test_gates(name, y):
    d = gates(name)
    assert d.X.dtype == np.float32 and d.X.shape == (4, 2)
    np.testing.assert_array_equal(d.X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(d.y, y)


def test_gates_unknown():
    with pytest.raises(ValueError, match=r"name must be one of .* got 'xnor'"):
        gates("xnor")


@pytest.mark.parametrize("make", [moons, circles, flower, blobs])
def test_planar(make):
    d = make(n_samples=101, noise=0.1, seed=3)
    assert d.X.shape == (101, 2) and d.X.dtype == np.float32 and d.y.dtype == np.int64
    assert np.abs(np.diff(d.class_counts())).max() <= 1
    e = make(n_samples=101, noise=0.1, seed=3)
    np.testing.assert_array_equal(d.X, e.X)
    f = make(n_samples=101, noise=0.1, seed=4)
    assert not np.array_equal(d.X, f.X)
    with pytest.raises(ValueError, match="noise"):
        make(noise=-1.0)
    with pytest.raises(ValueError, match="n_samples"):
        make(n_samples=0)


def test_flower_shape_rule():
    d = flower(noise=0.0, seed=0)
    assert len(d) == 400
    r = np.hypot(d.X[:, 0], d.X[:, 1])
    assert r.max() <= 4.0 + 1e-5  # |a sin(4t)| <= a with no noise
    # Class 0 has t in [0, 3.12], class 1 t in [3.12, 6.24]: x = r sin t, y = r cos t.
    t = np.arctan2(d.X[:, 0], d.X[:, 1]) % (2 * np.pi)
    r_signed = 4.0 * np.sin(4 * t)
    np.testing.assert_allclose(np.abs(r_signed), r, atol=1e-4)


def test_circles_radii():
    d = circles(n_samples=100, noise=0.0, factor=0.3)
    r = np.hypot(*d.X.T)
    np.testing.assert_allclose(r[d.y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(r[d.y == 1], 0.3, rtol=1e-6)


def test_global_state_untouched():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    moons(seed=1), flower(seed=1), blobs(seed=1), circles(seed=1)
    np.testing.assert_array_equal(before, np.random.get_state()[1])


def test_test_samples_draws_a_separate_test_set():
    from honed.data import football

    for make in (moons, circles, football):
        train, test = make(n_samples=100, seed=3, test_samples=60)
        assert len(train) == 100 and len(test) == 60
        assert not np.isin(test.X[:, 0], train.X[:, 0]).any()
        alone = make(n_samples=100, seed=3)
        assert np.array_equal(alone.X, train.X)  # the training set is the same as without test
    with pytest.raises(ValueError, match="test_samples"):
        moons(test_samples=0)


def test_circles_factor_sets_the_inner_radius():
    d = circles(n_samples=200, noise=0.0, factor=0.8)
    r = np.hypot(d.X[:, 0], d.X[:, 1])
    assert np.allclose(r[d.y == 1], 0.8, atol=1e-6) and np.allclose(r[d.y == 0], 1.0, atol=1e-6)


def test_football_overlaps_near_the_line_and_flips_labels():
    from honed.data import football

    clean = football(n_samples=4000, overlap=1e-4, label_noise=0.0, seed=0)
    d = clean.X[:, 1] - (0.2 * np.sin(4 * clean.X[:, 0]) + 0.1 * clean.X[:, 0])
    assert np.array_equal(clean.y, (d > 0).astype(int))
    noisy = football(n_samples=4000, overlap=1e-4, label_noise=0.2, seed=0)
    assert abs((noisy.y != (d > 0)).mean() - 0.2) < 0.03
    assert np.abs(noisy.X).max() <= 0.75
    with pytest.raises(ValueError, match="label_noise"):
        football(label_noise=0.7)
