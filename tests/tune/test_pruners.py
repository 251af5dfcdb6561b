import math

import pytest

from honed.tune import NopPruner, SuccessiveHalvingPruner, optimize
from honed.tune.synthetic import curves


def test_rungs_are_min_epochs_times_powers_of_eta():
    p = SuccessiveHalvingPruner(min_epochs=2, reduction_factor=3)
    assert [e for e in range(1, 60) if p.is_rung(e)] == [2, 6, 18, 54]
    assert [e for e in range(1, 30) if SuccessiveHalvingPruner().is_rung(e)] == [1, 3, 9, 27]


def test_keeps_the_top_third_at_a_rung():
    p = SuccessiveHalvingPruner(min_trials=3)
    peers = {0: 0.1, 1: 0.2, 2: 0.3, 3: 0.4, 4: 0.5, 5: 0.6}

    def get(step):
        return peers

    assert not p.prune(0, 1, 0.1, get) and not p.prune(1, 1, 0.2, get)  # top 6//3 = 2
    assert p.prune(2, 1, 0.3, get) and p.prune(5, 1, 0.6, get)
    assert not p.prune(5, 2, 0.6, get)  # epoch 2 is not a rung
    assert p.prune(5, 1, 0.6, get, "minimize")
    assert not p.prune(5, 1, 0.6, get, "maximize")
    assert not p.prune(1, 1, 0.9, lambda s: {0: 0.1, 1: 0.9})  # fewer than min_trials
    assert p.prune(1, 1, math.nan, get)
    assert not NopPruner().prune(5, 1, 0.6, get)
    with pytest.raises(ValueError, match="reduction_factor"):
        SuccessiveHalvingPruner(reduction_factor=1)


def test_bad_curves_are_pruned_at_the_first_rung(tmp_path):
    # dev(epoch) = x + 1/epoch: the curve's level is x, known in advance.
    study = optimize(
        curves,
        {"x": {"uniform": [0, 1]}},
        30,
        tmp_path / "s.journal",
        executor="inprocess",
        progress=False,
        pruner=SuccessiveHalvingPruner(min_epochs=1, reduction_factor=3, min_trials=3),
    )
    trials = study.trials
    by_x = sorted(trials, key=lambda t: t.params["x"])
    pruned = [t for t in trials if t.state == "pruned"]
    assert pruned and all(t.state in ("pruned", "complete") for t in trials)
    # the best curves are never pruned ...
    assert all(t.state == "complete" and max(t.intermediate) == 9 for t in by_x[:2])
    # ... and a bad curve that meets enough peers at epoch 1 stops there.
    for t in trials:
        earlier = sorted(u.params["x"] for u in trials if u.number <= t.number)
        n = len(earlier)
        if n >= 3 and t.params["x"] > earlier[n // 3]:
            assert t.state == "pruned" and max(t.intermediate) == 1, t
    assert all(t.value == t.intermediate[max(t.intermediate)] for t in pruned)
    assert sum(max(t.intermediate) for t in trials) < 0.5 * 9 * len(trials)  # epochs saved


def test_the_rung_schedule_and_survivors_are_one_rule():
    rule = SuccessiveHalvingPruner(min_epochs=2, reduction_factor=3)
    rungs = [e for e in range(1, 60) if rule.is_rung(e)]
    assert rungs == [2, 6, 18, 54]
    assert [rule.next_rung(e) for e in (0, 1, 2, 5, 6, 17, 18)] == [2, 2, 6, 6, 18, 18, 54]
    assert [rule.survivors(n) for n in (1, 2, 3, 8, 9, 10)] == [1, 1, 1, 2, 3, 3]
