"""A honed study is an Optuna study: Optuna reads it, optuna-dashboard serves it, Optuna's
samplers and pruners run in it, and a sampler registered from outside honed is named like
a built-in one."""

import json
import math
import threading
import urllib.request
from functools import partial

import optuna
import pytest

from honed.tune import (
    SAMPLERS,
    OptunaSampler,
    Sampler,
    Study,
    SuccessiveHalvingPruner,
    optimize,
    register_sampler,
    sampler_from_config,
)
from honed.tune.synthetic import bowl, curves, flaky

BOWL = {"lr": {"log": [1e-4, 1]}, "beta": {"one_minus_log": [0.9, 0.999]}}
X = {"x": {"uniform": [0, 1]}}
STATES = {
    "complete": optuna.trial.TrialState.COMPLETE,
    "pruned": optuna.trial.TrialState.PRUNED,
    "failed": optuna.trial.TrialState.FAIL,
    "diverged": optuna.trial.TrialState.FAIL,
}


def _mixed(trial):
    """Curves that get pruned, and every fifth-ish trial failing or diverging."""
    if trial.number % 5 in (1, 2, 3) and trial.number >= 10:
        return flaky(trial)
    return curves(trial)


def _load(path, name="default"):
    journal = optuna.storages.journal.JournalFileBackend(str(path))
    return optuna.load_study(study_name=name, storage=optuna.storages.JournalStorage(journal))


@pytest.mark.parametrize("executor,workers", [("inprocess", 1), ("process", 2)])
def test_optuna_load_study_reads_a_honed_study(tmp_path, executor, workers):
    path = tmp_path / "s.journal"
    pruner = SuccessiveHalvingPruner(min_epochs=1, reduction_factor=3, min_trials=2)
    study = optimize(
        _mixed, X, 15, path, executor=executor, workers=workers, pruner=pruner, progress=False
    )
    honed_trials = study.trials
    ours = {t.state for t in honed_trials}
    assert {"complete", "pruned", "failed", "diverged"} <= ours
    theirs = _load(path).trials
    assert len(theirs) == len(honed_trials) == 15
    for h, o in zip(honed_trials, theirs):
        assert o.number == h.number and o.params == h.params
        assert o.state == STATES[h.state]
        assert o.value == h.value or (o.value is None and h.value is None)
        assert o.intermediate_values == h.intermediate
        assert o.system_attrs["honed:seed"] == h.seed
    assert study.best_trial.value == _load(path).best_value


def test_dashboard_serves_the_study_on_localhost(tmp_path):
    pytest.importorskip("optuna_dashboard")
    from honed.tune.dashboard import serve

    path = tmp_path / "s.journal"
    optimize(curves, X, 4, path, executor="inprocess", progress=False)
    server, url = serve(path, host="127.0.0.1", port=0)
    assert url.startswith("http://127.0.0.1:") and url.endswith("/dashboard/")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = url.removesuffix("dashboard/")
        with urllib.request.urlopen(base + "api/studies", timeout=30) as r:
            studies = json.load(r)["study_summaries"]
        assert [s["study_name"] for s in studies] == ["default"]
        sid = studies[0]["study_id"]
        with urllib.request.urlopen(f"{base}api/studies/{sid}?after=0", timeout=30) as r:
            detail = json.load(r)
        assert [t["number"] for t in detail["trials"]] == [0, 1, 2, 3]
        assert all(len(t["intermediate_values"]) == 9 for t in detail["trials"])
        assert detail["has_intermediate_values"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_tpe_runs_by_name_and_is_reproducible_with_one_worker(tmp_path):
    a = optimize(
        bowl,
        BOWL,
        30,
        tmp_path / "a.journal",
        sampler="tpe",
        executor="inprocess",
        progress=False,
        seed=3,
    )
    b = optimize(
        bowl,
        BOWL,
        30,
        tmp_path / "b.journal",
        sampler="tpe",
        executor="inprocess",
        progress=False,
        seed=3,
    )
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert isinstance(a.sampler, OptunaSampler) and not a.sampler.reproducible
    assert all(0.9 <= t.params["beta"] <= 0.999 for t in a.trials)
    # TPE models log10(1-β): its last 10 trials sit closer to the bowl's bottom than the
    # first 10 (random start-up), by their median.
    first = sorted(t.value for t in a.trials[:10])[5]
    last = sorted(t.value for t in a.trials[-10:])[5]
    assert last < first
    # resumed by another driver: TPE learns from the stored trials and carries on
    c = optimize(
        bowl,
        None,
        36,
        tmp_path / "a.journal",
        sampler="tpe",
        seed=3,
        executor="inprocess",
        progress=False,
    )
    assert c.summary()["complete"] == 36


@pytest.mark.parametrize("pruner", ["median", "hyperband"])
def test_optuna_pruners_prune_the_bad_curves(tmp_path, pruner):
    study = optimize(
        curves, X, 24, tmp_path / "s.journal", pruner=pruner, executor="inprocess", progress=False
    )
    pruned = [t for t in study.trials if t.state == "pruned"]
    done = [t for t in study.trials if t.state == "complete"]
    assert pruned and done
    assert sum(t.params["x"] for t in pruned) / len(pruned) > sum(
        t.params["x"] for t in done
    ) / len(done)
    assert any(len(t.intermediate) < 9 for t in pruned)  # stopped before the end


def test_optuna_pruner_asked_from_worker_processes(tmp_path):
    study = optimize(
        curves, X, 12, tmp_path / "s.journal", pruner="median", workers=2, progress=False
    )
    assert study.summary()["pruned"] >= 1 and study.summary()["complete"] >= 1


class _Halves(Sampler):
    """A sampler from outside honed: x = 0, 1/2, 1/4, ... on the first parameter."""

    name = "halves"

    def __init__(self, start: float = 1.0):
        self.start = start

    def sample(self, number, space, seed, history, direction="minimize"):
        name = next(iter(space))
        return {name: self.start / 2**number}

    def to_config(self):
        return {"name": self.name, "start": self.start}


@pytest.fixture
def halves():
    register_sampler("halves", _Halves)
    yield
    SAMPLERS.unregister("halves")  # the registry is global: leave it as it was


def test_a_sampler_registered_from_outside_is_named_like_a_builtin(tmp_path, halves):
    assert "halves" in SAMPLERS.names()
    assert sampler_from_config({"name": "halves", "start": 0.5}).to_config() == {
        "name": "halves",
        "start": 0.5,
    }
    study = optimize(
        partial(_x_value),
        X,
        4,
        tmp_path / "s.journal",
        sampler="halves",
        executor="inprocess",
        progress=False,
    )
    assert [t.params["x"] for t in study.trials] == [1.0, 0.5, 0.25, 0.125]
    assert Study(tmp_path / "s.journal").sampler.to_config() == {"name": "halves", "start": 1.0}


def _x_value(trial):
    return trial.params["x"]


def test_nan_curves_and_define_by_run_params_reach_optuna(tmp_path):
    def objective(trial):
        units = trial.suggest_int("units", 16, 256, log=True)
        trial.report(1, math.nan)
        return float(units)

    path = tmp_path / "s.journal"
    optimize(objective, {}, 3, path, executor="inprocess", progress=False)
    t = _load(path).trials[0]
    assert t.distributions["units"] == optuna.distributions.IntDistribution(16, 256, log=True)
    assert math.isnan(t.intermediate_values[1])
