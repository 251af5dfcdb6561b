"""The one early-stopping rule: vectorized over members, equal to one member at a time."""

import math

import numpy as np
import pytest

from honed.train import EarlyStopping
from honed.train.stopping import PatienceRule, best_epoch


def scalar_rule(values, patience, min_delta):
    """The rule written out for one member: (best, best_epoch, stopped epoch or None)."""
    best, best_at, wait = math.inf, 0, 0
    for epoch, v in enumerate(values, start=1):
        if v is None or not math.isfinite(v):
            continue
        if v < best - min_delta:
            best, best_at, wait = v, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best, best_at, epoch
    return best, best_at, None


def test_members_follow_the_scalar_rule_each():
    rng = np.random.default_rng(0)
    values = rng.random((40, 6))
    values[5, 2] = np.nan  # a NaN neither improves nor waits
    rule = PatienceRule(6, patience=4, min_delta=0.01)
    stopped = [None] * 6
    for epoch, row in enumerate(values, start=1):
        _, stop = rule.update(epoch, row)
        for k in np.flatnonzero(stop):
            stopped[k] = stopped[k] or epoch
    for k in range(6):
        best, best_at, stop_at = scalar_rule(values[:, k].tolist(), 4, 0.01)
        assert stopped[k] == stop_at
        if stop_at is None:
            assert rule.best[k] == best and rule.best_epoch[k] == best_at


def test_max_mode_take_and_copy():
    rule = PatienceRule(3, patience=2, mode="max")
    improved, _ = rule.update(1, [0.5, None, 0.2])
    assert improved.tolist() == [True, False, True]
    rule.update(2, [0.4, 0.9, 0.1])
    _, stop = rule.update(3, [0.4, 0.9, 0.3])
    assert stop.tolist() == [True, False, False]
    rule.take([2, 1])
    rule.copy_member(0, 1)
    assert rule.best.tolist() == [0.9, 0.9] and rule.best_epoch.tolist() == [2, 2]


def test_best_epoch_of_a_history_and_bad_arguments():
    records = [{"epoch": e, "dev_error": v} for e, v in enumerate([0.5, 0.3, 0.29, 0.4], 1)]
    assert best_epoch(records, min_delta=0.02)["epoch"] == 2
    assert best_epoch(records)["epoch"] == 3
    assert best_epoch([{"epoch": 1, "dev_error": None}]) is None
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'low'"):
        PatienceRule(1, 3, mode="low")
    with pytest.raises(ValueError, match="min_delta must be >= 0, got -1"):
        EarlyStopping(min_delta=-1)
    with pytest.raises(ValueError, match="monitor must be .* got 'dev_acc'"):
        EarlyStopping(monitor="dev_acc")
