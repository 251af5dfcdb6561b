import warnings

import numpy as np
import pytest

from honed.data import (
    Dataset,
    DistributionMismatchWarning,
    check_same_distribution,
    default_holdout_size,
    kfold,
    train_dev_split,
    train_dev_test_split,
)


def make(m, probs=(0.5, 0.3, 0.15, 0.05), seed=0):
    """Row i has feature i, so subsets can be traced back to indices."""
    y = np.random.default_rng(seed).choice(len(probs), size=m, p=probs)
    return Dataset(np.arange(m, dtype=np.float64)[:, None], y, n_classes=len(probs))


def ids(d):
    return d.X[:, 0].astype(np.int64)


def test_default_sizes_small():
    tr, dv, te = train_dev_test_split(make(5_000))
    assert (len(tr), len(dv), len(te)) == (3_000, 1_000, 1_000)


def test_default_sizes_large():
    tr, dv, te = train_dev_test_split(make(200_000))
    assert (len(tr), len(dv), len(te)) == (196_000, 2_000, 2_000)


@pytest.mark.parametrize(
    "m, n",
    [
        (100, 20),
        (9_999, 2_000),
        (10_000, 1_000),
        (50_000, 1_000),
        (200_000, 2_000),
        (1_000_000, 10_000),
        (5_000_000, 10_000),
    ],
)
def test_default_holdout_rule(m, n):
    assert default_holdout_size(m) == n


def test_fractions_and_counts():
    d = make(1_000)
    tr, dv, te = train_dev_test_split(d, dev=0.1, test=50)
    assert (len(tr), len(dv), len(te)) == (850, 100, 50)
    with pytest.raises(ValueError, match=r"dev must be .* got 1.5"):
        train_dev_test_split(d, dev=1.5)
    with pytest.raises(ValueError, match=r"test must be an integer >= 1, got 0"):
        train_dev_test_split(d, test=0)
    with pytest.raises(ValueError, match=r"at least one training example"):
        train_dev_test_split(d, dev=500, test=500)


def test_disjoint_and_complete():
    d = make(3_000)
    tr, dv, te = train_dev_test_split(d, seed=7)
    all_ids = np.concatenate([ids(tr), ids(dv), ids(te)])
    assert len(np.unique(all_ids)) == len(d) == len(all_ids)
    np.testing.assert_array_equal(tr.y, d.y[ids(tr)])  # labels travel with their rows


@pytest.mark.parametrize("m", [5_000, 200_000])
def test_stratified_within_1_percent(m):
    d = make(m)
    p = d.class_counts() / m
    for s in train_dev_test_split(d, seed=3):
        assert np.abs(s.class_counts() / len(s) - p).max() < 0.01
    tr, dv = train_dev_split(d, seed=3)
    for s in (tr, dv):
        assert np.abs(s.class_counts() / len(s) - p).max() < 0.01


def test_reproducible_and_seed_dependent():
    d = make(2_000)
    a = train_dev_test_split(d, seed=1)
    b = train_dev_test_split(d, seed=1)
    c = train_dev_test_split(d, seed=2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(ids(x), ids(y))
    assert not np.array_equal(ids(a[1]), ids(c[1]))
    # Not stratified: still reproducible, still disjoint.
    u = train_dev_test_split(d, stratify=False, seed=1)
    v = train_dev_test_split(d, stratify=False, seed=1)
    np.testing.assert_array_equal(ids(u[2]), ids(v[2]))
    assert not set(ids(u[1])) & set(ids(u[2]))


def test_train_dev_split_for_data_with_test_set():
    train = make(60_000)
    tr, dv = train_dev_split(train)
    assert (len(tr), len(dv)) == (59_000, 1_000)
    assert not set(ids(tr)) & set(ids(dv))
    tr, dv = train_dev_split(train, dev=0.1, seed=5)
    assert len(dv) == 6_000


def test_real_targets_split():
    d = Dataset(np.arange(100.0)[:, None], np.linspace(0, 1, 100))
    tr, dv, te = train_dev_test_split(d)  # stratify ignored for real targets
    assert (len(tr), len(dv), len(te)) == (60, 20, 20)


def test_kfold_covers_each_example_once():
    d = make(103)
    seen = []
    for tr, dv in kfold(d, k=5, seed=0):
        assert len(tr) + len(dv) == 103
        assert not set(ids(tr)) & set(ids(dv))
        assert len(dv) in (20, 21)
        seen.append(ids(dv))
    seen = np.concatenate(seen)
    np.testing.assert_array_equal(np.sort(seen), np.arange(103))


def test_kfold_stratified_and_validation():
    d = make(1_000)
    p = d.class_counts() / len(d)
    for _, dv in kfold(d, k=4, seed=1):
        assert np.abs(dv.class_counts() / len(dv) - p).max() < 0.01
    with pytest.raises(ValueError, match=r"k must be an integer >= 2, got 1"):
        next(kfold(d, k=1))
    with pytest.raises(ValueError, match=r"k must be <= the number of examples"):
        next(kfold(d[:3], k=4))


def test_check_same_distribution():
    a = Dataset(np.zeros((100, 1)), np.repeat([0, 1], [50, 50]))
    b = Dataset(np.zeros((100, 1)), np.repeat([0, 1], [80, 20]))
    with pytest.warns(DistributionMismatchWarning, match=r"total variation distance 0.300"):
        tv = check_same_distribution(a, b)
    assert tv == pytest.approx(0.3)
    assert issubclass(DistributionMismatchWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check_same_distribution(a, a) == 0.0
        train_dev_test_split(make(5_000))  # stratified: no warning


def test_split_warns_on_mismatch_via_test_set():
    train = make(2_000)
    skewed_test = Dataset(np.zeros((100, 1)), np.zeros(100, dtype=int), n_classes=4)
    with pytest.warns(DistributionMismatchWarning):
        train_dev_split(train, test=skewed_test)


def test_kfold_balanced_with_two_equal_classes():
    # Equal class sizes interleave perfectly in the stratified order: taking every k-th
    # position would put one class into one fold. Blocks keep both classes in each fold.
    d = Dataset(np.arange(100.0)[:, None], np.arange(100) % 2)
    for _, dv in kfold(d, k=2, seed=0):
        np.testing.assert_array_equal(dv.class_counts(), [25, 25])


def test_small_sets_do_not_warn_by_chance():
    d = Dataset(np.arange(30.0)[:, None], np.arange(30) % 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_dev_test_split(d, stratify=False, seed=0)
