import math

import pytest

from honed.optim import (
    constant,
    exponential,
    inverse_sqrt,
    inverse_time,
    manual,
    schedule_from_config,
    staircase,
)

EPOCHS = range(101)


def test_closed_forms_for_epochs_0_to_100():
    a0 = 0.2
    cases = [
        (constant(a0), lambda e: a0),
        (inverse_time(a0, decay_rate=1.0), lambda e: a0 / (1 + 1.0 * e)),
        (inverse_time(a0, decay_rate=0.3), lambda e: a0 / (1 + 0.3 * e)),
        (exponential(a0), lambda e: 0.95**e * a0),
        (exponential(a0, base=0.5), lambda e: 0.5**e * a0),
        (inverse_sqrt(a0, k=2.0), lambda e: 2.0 / math.sqrt(max(e, 1)) * a0),
        (staircase(a0, factor=0.5, every=10), lambda e: a0 * 0.5 ** (e // 10)),
    ]
    for schedule, closed_form in cases:
        for e in EPOCHS:
            assert schedule(e) == pytest.approx(closed_form(e), rel=1e-15, abs=0), (schedule, e)


def test_notes_examples():
    # α₀ = 0.2, decay_rate = 1: epochs 1, 2, 3, 4 (the notes count from 1) give
    # 0.1, 0.067, 0.05, 0.04.
    s = inverse_time(0.2, 1.0)
    assert [round(s(e), 3) for e in (1, 2, 3, 4)] == [0.1, 0.067, 0.05, 0.04]
    assert inverse_sqrt(0.1, k=1.0)(0) == inverse_sqrt(0.1, k=1.0)(1) == 0.1


def test_manual_table():
    s = manual(0.1, {"10": 0.01, 20: 0.001})  # str keys as TOML gives them
    assert [s(e) for e in (0, 9, 10, 19, 20, 100)] == [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    s.set(15, 0.005)
    s.set(10, 0.02)  # replaces
    assert [s(e) for e in (9, 10, 14, 15, 20)] == [0.1, 0.02, 0.02, 0.005, 0.001]
    assert s.table == {10: 0.02, 15: 0.005, 20: 0.001}


@pytest.mark.parametrize(
    "schedule",
    [
        constant(0.1),
        inverse_time(0.1, 0.5),
        exponential(0.1, 0.9),
        inverse_sqrt(0.1, 3.0),
        staircase(0.1, 0.1, 5),
        manual(0.1, {3: 0.05}),
    ],
    ids=repr,
)
def test_config_round_trip_and_repr(schedule):
    config = schedule.to_config()
    assert all(isinstance(k, str) for k in config.get("table", {}))
    again = schedule_from_config(config)
    assert again == schedule and repr(again) == repr(schedule)
    assert [again(e) for e in EPOCHS] == [schedule(e) for e in EPOCHS]
    assert repr(schedule).startswith(config["name"] + "(lr=0.1")


def test_config_from_an_experiment_file():
    s = schedule_from_config({"name": "inverse_time", "decay_rate": 1.0}, lr=0.5)
    assert s == inverse_time(0.5, 1.0)
    assert repr(s) == "inverse_time(lr=0.5, decay_rate=1.0)"
    with pytest.raises(ValueError, match="needs lr"):
        schedule_from_config({"name": "inverse_time", "decay_rate": 1.0})
    with pytest.raises(ValueError, match="schedule name must be one of"):
        schedule_from_config({"name": "cosine", "lr": 0.1})
    with pytest.raises(ValueError, match=r"got unknown \['decay'\]"):
        schedule_from_config({"name": "inverse_time", "lr": 0.1, "decay": 1.0})


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: constant(0), ValueError, "lr must be > 0, got 0"),
        (lambda: inverse_time(-0.1), ValueError, "lr must be > 0, got -0.1"),
        (lambda: inverse_time(0.1, decay_rate=-1), ValueError, "decay_rate must be >= 0, got -1"),
        (lambda: exponential(0.1, base=0), ValueError, "base must be > 0, got 0"),
        (lambda: exponential(0.1, base=1.5), ValueError, r"base must be in \(0, 1\], got 1.5"),
        (lambda: inverse_sqrt(0.1, k=0), ValueError, "k must be > 0, got 0"),
        (lambda: staircase(0.1, factor=2), ValueError, r"factor must be in \(0, 1\], got 2"),
        (lambda: staircase(0.1, every=0), ValueError, "every must be an integer >= 1, got 0"),
        (lambda: manual(0.1, {-1: 0.1}), ValueError, "epoch must be an integer >= 0, got -1"),
        (lambda: manual(0.1, {1: 0}), ValueError, "lr must be > 0, got 0"),
        (lambda: constant(0.1)(-1), ValueError, "epoch must be an integer >= 0, got -1"),
        (lambda: constant(0.1)(1.5), ValueError, "epoch must be an integer, got 1.5"),
    ],
)
def test_validation(make, error, message):
    with pytest.raises(error, match=message):
        make()
