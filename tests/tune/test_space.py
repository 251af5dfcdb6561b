import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from honed.tune import (
    Choice,
    Int,
    LogInt,
    LogUniform,
    OneMinusLogUniform,
    SearchSpace,
    Trial,
    Uniform,
    distribution_from_json,
)

ALL = [
    Uniform(0, 1),
    Int(50, 100),
    LogUniform(1e-4, 1),
    LogInt(16, 1024),
    OneMinusLogUniform(0.9, 0.999),
    Choice([64, 128, 256]),
    Choice(["relu", "tanh"]),
]


def draws(dist, n, seed=0):
    rng = np.random.default_rng(seed)
    return [dist.sample(rng) for _ in range(n)]


def test_log_uniform_puts_a_quarter_in_each_decade():
    x = np.array(draws(LogUniform(1e-4, 1), 4000))
    assert x.min() >= 1e-4 and x.max() <= 1
    for lo in (1e-4, 1e-3, 1e-2, 1e-1):
        share = np.mean((x >= lo) & (x < 10 * lo))
        assert abs(share - 0.25) <= 0.03, (lo, share)


def test_notes_alpha_recipe_is_log_uniform():
    # notes: r = -4 * rand(); alpha = 10**r  <=>  LogUniform(1e-4, 1) on the internal scale
    d = LogUniform(1e-4, 1)
    assert d.internal_bounds == (-4.0, 0.0)
    assert d.from_internal(-4 * 0.25) == pytest.approx(0.1)


def test_one_minus_log_uniform_half_above_099():
    d = OneMinusLogUniform(0.9, 0.999)
    assert d.internal_bounds == pytest.approx((-3.0, -1.0))
    x = np.array(draws(d, 4000))
    assert x.min() >= 0.9 and x.max() <= 0.999
    assert abs(np.mean(x > 0.99) - 0.5) <= 0.03
    # a linear draw would put only 1 % of them there
    assert d.from_internal(-2.0) == pytest.approx(0.99)


def test_int_is_uniform_over_every_integer():
    x = draws(Int(2, 4), 3000)
    assert set(x) == {2, 3, 4} and all(isinstance(v, int) for v in x)
    counts = np.bincount(x)[2:]
    assert np.all(np.abs(counts / 3000 - 1 / 3) < 0.03)


def test_choice_and_log_int():
    assert set(draws(Choice([64, 128, 256]), 300)) == {64, 128, 256}
    x = draws(LogInt(16, 1024), 500)
    assert min(x) >= 16 and max(x) <= 1024 and all(isinstance(v, int) for v in x)


@pytest.mark.parametrize("dist", ALL, ids=repr)
def test_json_round_trip_and_contains(dist):
    again = distribution_from_json(dist.to_json())
    assert again == dist and type(again) is type(dist)
    for v in draws(dist, 50):
        assert dist.contains(v)
        assert (
            dist.from_internal(dist.to_internal(v)) == pytest.approx(v)
            if not isinstance(v, str)
            else dist.from_internal(dist.to_internal(v)) == v
        )
    lo, hi = dist.internal_bounds
    assert lo < hi


@settings(max_examples=60, deadline=None)
@given(st.floats(0, 1))
def test_internal_maps_stay_in_bounds(frac):
    for dist in ALL:
        lo, hi = dist.internal_bounds
        assert dist.contains(dist.from_internal(lo + frac * (hi - lo)))


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: Uniform(1, 1), ["low", "high", "1"]),
        (lambda: LogUniform(0, 1), ["low", "log", "0"]),
        (lambda: LogUniform(-1, 1), ["low", "-1"]),
        (lambda: OneMinusLogUniform(0.9, 1.0), ["high", "[0, 1)", "1.0"]),
        (lambda: OneMinusLogUniform(-0.1, 0.9), ["low", "-0.1"]),
        (lambda: Choice([]), ["choices", "non-empty"]),
        (lambda: Int(1.5, 3), ["low", "integer", "1.5"]),
        (lambda: Uniform(0, math.inf), ["high", "finite"]),
    ],
)
def test_validation_names_argument_and_value(make, words):
    with pytest.raises(ValueError) as e:
        make()
    for w in words:
        assert w in str(e.value)


def test_search_space_from_toml_config():
    cfg = {
        "train.lr": {"log": [1e-4, 1]},
        "train.beta": {"one_minus_log": [0.9, 0.999]},
        "model.hidden": {"int": [50, 100]},
        "model.layers": {"int": [2, 4]},
        "train.batch_size": {"choice": [64, 128, 256]},
        "x": {"uniform": [0, 1]},
    }
    sp = SearchSpace.from_config(cfg)
    assert list(sp) == list(cfg)
    assert isinstance(sp["train.lr"], LogUniform)
    assert isinstance(sp["train.beta"], OneMinusLogUniform)
    assert isinstance(sp["model.hidden"], Int)
    assert sp.to_json() == cfg
    assert SearchSpace.from_config(sp.to_json()) == sp


def test_unknown_kind_names_the_key():
    with pytest.raises(ValueError, match=r"train\.lr.*unknown kind 'logg'"):
        SearchSpace.from_config({"train.lr": {"logg": [1e-4, 1]}})
    with pytest.raises(ValueError, match=r"model\.hidden"):
        SearchSpace.from_config({"model.hidden": {"int": [100, 50]}})
    with pytest.raises(ValueError, match=r"x"):
        SearchSpace.from_config({"x": [0, 1]})


def test_define_by_run_is_reproducible_and_uses_space_values():
    t1 = Trial(3, {"train.lr": 0.01}, seed=7, study_seed=5)
    t2 = Trial(3, {}, seed=7, study_seed=5)
    assert t1.suggest_float("train.lr", 1e-4, 1, scale="log") == 0.01
    b1 = t1.suggest_float("beta", 0.9, 0.999, scale="one_minus_log")
    # order of suggestions does not matter: each name has its own generator
    n2 = t2.suggest_int("hidden", 50, 100)
    b2 = t2.suggest_float("beta", 0.9, 0.999, scale="one_minus_log")
    assert b1 == b2 and 0.9 <= b1 <= 0.999
    assert t1.suggest_int("hidden", 50, 100) == n2
    assert t1.suggest_categorical("act", ["relu", "tanh"]) in ("relu", "tanh")
    assert Trial(4, {}, 7, 5).suggest_float("beta", 0.9, 0.999, scale="one_minus_log") != b1
    with pytest.raises(ValueError, match="scale"):
        t1.suggest_float("y", 0, 1, scale="cubic")
