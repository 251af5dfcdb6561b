import numpy as np
import pytest

from honed.data import Dataset, MinMaxScaler, NotFittedError, Standardizer


@pytest.fixture
def sets():
    rng = np.random.default_rng(0)
    train = rng.normal([1.0, -2.0, 5.0], [2.0, 0.5, 3.0], size=(500, 3)).astype(np.float32)
    dev = rng.normal([3.0, -2.0, 5.0], [2.0, 0.5, 3.0], size=(200, 3)).astype(np.float32)
    return train, dev


def test_train_statistics_applied_to_dev(sets):
    train, dev = sets
    s = Standardizer().fit(train)
    np.testing.assert_allclose(s.mean_, train.mean(0, dtype=np.float64), rtol=1e-6)
    np.testing.assert_allclose(s.std_, train.std(0, dtype=np.float64), rtol=1e-6)
    zt = s.transform(train)
    np.testing.assert_allclose(zt.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(zt.std(0), 1, atol=1e-5)
    zd = s.transform(dev)
    # dev is shifted by +2 in feature 0: with train's μ, σ its mean is ≈ 2/2 = 1, not 0.
    assert zd.mean(0)[0] == pytest.approx((dev[:, 0].mean() - s.mean_[0]) / s.std_[0], rel=1e-4)
    assert zd.mean(0)[0] > 0.7
    np.testing.assert_allclose(zd, (dev - s.mean_) / s.std_, rtol=1e-5, atol=1e-6)


def test_float32_kept_and_input_untouched(sets):
    train, _ = sets
    copy = train.copy()
    z = Standardizer().fit_transform(train)
    assert z.dtype == np.float32
    np.testing.assert_array_equal(train, copy)
    assert Standardizer().fit_transform(train.astype(np.float64)).dtype == np.float64


def test_zero_variance_feature():
    X = np.array([[1.0, 0.1], [2.0, 0.1], [3.0, 0.1]], dtype=np.float32)
    s = Standardizer().fit(X)
    assert s.std_[1] == 1.0
    z = s.transform(X)
    assert np.isfinite(z).all()
    np.testing.assert_allclose(z[:, 1], 0, atol=1e-7)
    m = MinMaxScaler().fit(X)
    assert np.isfinite(m.transform(X)).all()


def test_inverse_round_trip(sets):
    train, dev = sets
    for scaler in (Standardizer(), Standardizer(per_feature=False), MinMaxScaler((-1, 1))):
        scaler.fit(train)
        np.testing.assert_allclose(
            scaler.inverse_transform(scaler.transform(dev)), dev, rtol=1e-5, atol=1e-5
        )


def test_scalar_mode_for_images():
    X = np.random.default_rng(0).random((10, 4, 4)).astype(np.float32)
    s = Standardizer(per_feature=False).fit(X)
    assert s.mean_.shape == () and s.std_.shape == ()
    z = s.transform(X)
    assert z.shape == X.shape
    assert z.mean() == pytest.approx(0, abs=1e-5) and z.std() == pytest.approx(1, abs=1e-4)


def test_minmax(sets):
    train, _ = sets
    m = MinMaxScaler().fit(train)
    z = m.transform(train)
    np.testing.assert_allclose(z.min(0), 0, atol=1e-6)
    np.testing.assert_allclose(z.max(0), 1, atol=1e-6)
    with pytest.raises(ValueError, match=r"feature_range must be \(a, b\) with a < b"):
        MinMaxScaler((1, 0))


def test_errors(sets):
    train, _ = sets
    with pytest.raises(NotFittedError, match=r"transform called before fit"):
        Standardizer().transform(train)
    with pytest.raises(NotFittedError):
        MinMaxScaler().inverse_transform(train)
    s = Standardizer().fit(train)
    with pytest.raises(ValueError, match=r"feature shape \(3,\) .* got X of shape \(4, 2\)"):
        s.transform(np.zeros((4, 2)))
    bad = train.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="must be finite"):
        Standardizer().fit(bad)


def test_dataset_in_dataset_out(sets):
    train, _ = sets
    dtr = Dataset(train, np.arange(500) % 2)
    s = Standardizer()
    out = s.fit_transform(dtr)
    assert isinstance(out, Dataset) and out.X.dtype == np.float32
    np.testing.assert_array_equal(out.y, dtr.y)


@pytest.mark.parametrize("cls", [Standardizer, MinMaxScaler])
def test_state_dict_round_trip_through_npz(tmp_path, sets, cls):
    train, dev = sets
    a = cls(per_feature=False).fit(train) if cls is Standardizer else cls((-1, 2)).fit(train)
    np.savez(tmp_path / "s.npz", **a.state_dict())
    with np.load(tmp_path / "s.npz") as f:
        b = cls.from_state_dict(f)
    np.testing.assert_array_equal(a.transform(dev), b.transform(dev))
    assert b.per_feature == a.per_feature
    with pytest.raises(ValueError, match="state_dict type must be"):
        (MinMaxScaler if cls is Standardizer else Standardizer).from_state_dict(a.state_dict())
