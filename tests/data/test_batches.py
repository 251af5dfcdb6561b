import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from honed.data import minibatches, n_batches


def _epoch(m, bs, **kw):
    X = np.arange(m)[:, None] * np.ones((1, 3))
    y = np.arange(m)
    return list(minibatches(X, y, bs, **kw))


@pytest.mark.parametrize("m, bs", [(10, 3), (64, 64), (65, 64), (7, 1), (5, 100)])
def test_every_index_once(m, bs):
    batches = _epoch(m, bs, rng=np.random.default_rng(0))
    assert len(batches) == n_batches(m, bs)
    idx = np.concatenate([yb for _, yb in batches])
    np.testing.assert_array_equal(np.sort(idx), np.arange(m))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], yb)  # rows stay paired with labels
    sizes = [len(yb) for _, yb in batches]
    assert all(s == min(bs, m) for s in sizes[:-1])
    assert sizes[-1] == (m % bs or min(bs, m))  # last partial batch kept


def test_shuffled_and_reproducible():
    a = _epoch(100, 10, rng=np.random.default_rng(1))
    b = _epoch(100, 10, rng=np.random.default_rng(1))
    c = _epoch(100, 10, rng=np.random.default_rng(2))
    for (_, ya), (_, yb) in zip(a, b):
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a[0][1], c[0][1])
    assert not np.array_equal(np.concatenate([yb for _, yb in a]), np.arange(100))


def test_each_epoch_new_permutation_from_one_rng():
    rng = np.random.default_rng(0)
    e1 = np.concatenate([yb for _, yb in _epoch(50, 8, rng=rng)])
    e2 = np.concatenate([yb for _, yb in _epoch(50, 8, rng=rng)])
    assert not np.array_equal(e1, e2)


def test_no_shuffle_in_order():
    batches = _epoch(10, 4, shuffle=False)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), np.arange(10))


def test_drop_last():
    batches = _epoch(10, 4, rng=0, drop_last=True)
    assert [len(yb) for _, yb in batches] == [4, 4]
    assert n_batches(10, 4, drop_last=True) == 2 and n_batches(10, 4) == 3


def test_stochastic_and_batch():
    assert [len(yb) for _, yb in _epoch(5, 1, rng=0)] == [1] * 5
    ((_, yb),) = _epoch(5, 5, rng=0)
    np.testing.assert_array_equal(np.sort(yb), np.arange(5))


def test_validation():
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1, got 0"):
        minibatches(np.zeros((3, 1)), np.zeros(3), 0)
    with pytest.raises(ValueError, match=r"batch_size must be an integer, got 2.5"):
        minibatches(np.zeros((3, 1)), np.zeros(3), 2.5)
    with pytest.raises(ValueError, match=r"same number of rows, got X with 3 and y with 2"):
        minibatches(np.zeros((3, 1)), np.zeros(2), 2)


def test_y_none_and_global_state():
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    out = list(minibatches(np.zeros((6, 2)), None, 4, rng=3))
    assert [b[1] for b in out] == [None, None]
    np.testing.assert_array_equal(state, np.random.get_state()[1])


@settings(max_examples=50, deadline=None)
@given(
    m=st.integers(0, 200), bs=st.integers(1, 64), drop_last=st.booleans(), seed=st.integers(0, 9)
)
def test_coverage_property(m, bs, drop_last, seed):
    batches = list(minibatches(np.arange(m), np.arange(m), bs, rng=seed, drop_last=drop_last))
    assert len(batches) == n_batches(m, bs, drop_last)
    idx = np.concatenate([yb for _, yb in batches]) if batches else np.array([], int)
    assert len(np.unique(idx)) == len(idx)
    assert len(idx) == (m // bs * bs if drop_last else m)
