"""Storage contract (both Optuna storages honed uses) and the old format's upgrade."""

import math
import pickle
import shutil
from pathlib import Path

import optuna
import pytest

from honed.tune import (
    FORMAT,
    OldStudyFormat,
    SearchSpace,
    Study,
    StudyStorage,
    TrialState,
    optimize,
    upgrade_legacy,
)
from honed.tune.legacy import read_legacy
from honed.tune.synthetic import bowl

SPACE = SearchSpace.from_config({"x": {"uniform": [0, 1]}, "b": {"one_minus_log": [0.9, 0.999]}})
LEGACY = Path(__file__).parent / "data" / "study_v1.sqlite"  # written by honed before Optuna


@pytest.fixture(params=["s.journal", "s.db"])
def storage(request, tmp_path):
    return StudyStorage(tmp_path / request.param)


def test_storage_contract(storage):
    assert storage.kind == ("journal" if storage.path.endswith(".journal") else "rdb")
    row = storage.create_study("s", "minimize", SPACE.to_json(), {"name": "random"}, 7, {"k": 1})
    assert (row["seed"], row["format"], row["user_attrs"]) == (7, FORMAT, {"k": 1})
    assert storage.study_names() == ["s"] and storage.get_study("nope") is None
    sid = row["id"]
    a, n_a, _ = storage.create_trial(sid, {"x": 0.5, "b": 0.99}, SPACE, seed=11)
    b, n_b, _ = storage.create_trial(sid, {"x": 0.1, "b": 0.9}, SPACE, seed=12)
    assert (n_a, n_b) == (0, 1)
    storage.report(a, 1, 0.7)
    storage.report(a, 2, math.nan)  # a diverging curve is kept as NaN
    storage.finish(a, TrialState.PRUNED, 0.7, duration=0.5, worker="w:1")
    storage.finish(b, TrialState.DIVERGED, None, error="Diverged: inf")
    c, _, _ = storage.create_trial(sid, {"x": 0.2, "b": 0.95}, SPACE, seed=13)
    storage.mark_interrupted([c])
    trials, ids = storage.get_trials(sid)
    assert ids == [a, b, c]
    t0, t1, t2 = trials
    assert (t0.state, t0.value, t0.seed, t0.worker, t0.duration) == ("pruned", 0.7, 11, "w:1", 0.5)
    assert t0.intermediate[1] == 0.7 and math.isnan(t0.intermediate[2])
    assert (t1.state, t1.value, t1.error) == ("diverged", None, "Diverged: inf")
    assert (t2.state, t2.attempts) == ("interrupted", 1)
    storage.restart_trial(c, 2)
    storage.finish(c, TrialState.COMPLETE, 0.25)
    t2 = storage.get_trials(sid)[0][2]
    assert (t2.state, t2.attempts, t2.value, t2.params) == (
        "complete",
        2,
        0.25,
        {"x": 0.2, "b": 0.95},
    )
    with pytest.raises(ValueError, match="finished state"):
        d, _, _ = storage.create_trial(sid, {"x": 0.3, "b": 0.95}, SPACE, seed=14)
        storage.finish(d, TrialState.RUNNING, None)
    # pickles as its target: each process opens it itself
    again = pickle.loads(pickle.dumps(storage))
    assert [t.value for t in again.get_trials(sid)[0]][:3] == [0.7, None, 0.25]


def test_params_have_matching_optuna_distributions(tmp_path):
    space = {
        "lr": {"log": [1e-4, 1]},
        "beta": {"one_minus_log": [0.9, 0.999]},
        "units": {"log_int": [16, 1024]},
        "layers": {"int": [1, 4]},
        "act": {"choice": ["relu", "tanh"]},
        "p": {"uniform": [0.5, 1.0]},
    }

    def objective(trial):
        return trial.params["lr"]

    optimize(objective, space, 3, tmp_path / "s.journal", executor="inprocess", progress=False)
    journal = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "s.journal"))
    )
    t = optuna.load_study(study_name="default", storage=journal).trials[0]
    d = t.distributions
    FD, ID, CD = (
        optuna.distributions.FloatDistribution,
        optuna.distributions.IntDistribution,
        optuna.distributions.CategoricalDistribution,
    )
    assert d["lr"] == FD(1e-4, 1, log=True) and d["units"] == ID(16, 1024, log=True)
    assert d["beta"] == FD(0.9, 0.999)  # natural β; honed keeps the 1-β scale itself
    assert d["layers"] == ID(1, 4) and d["act"] == CD(["relu", "tanh"]) and d["p"] == FD(0.5, 1)
    assert 0.9 <= t.params["beta"] <= 0.999 and t.params["act"] in ("relu", "tanh")


def test_old_format_files_get_the_upgrade_command_and_upgrade(tmp_path):
    old = tmp_path / "study_v1.sqlite"
    shutil.copy(LEGACY, old)
    with pytest.raises(OldStudyFormat, match=rf"honed study upgrade {old}"):
        Study(old, "bowl")
    new = upgrade_legacy(old)
    assert new == str(tmp_path / "study_v1.journal")
    legacy = read_legacy(old)
    # what the fixture holds (so the reader is checked too, not only compared with itself)
    assert [(s.name, len(s.trials)) for s in legacy] == [("bowl", 6), ("curves", 8), ("flaky", 5)]
    assert [t.state for t in legacy[2].trials] == [
        "complete", "failed", "diverged", "diverged", "complete"
    ]  # fmt: skip
    assert sum(len(t.intermediate) for s in legacy for t in s.trials) == 42
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study_v1.journal", "study_v1.sqlite"]
    for before_study in legacy:
        before = before_study.trials
        study = Study(new, before_study.name)
        after = study.trials
        assert [(t.number, t.state, t.params, t.seed, t.value, t.attempts) for t in after] == [
            (t.number, t.state, t.params, t.seed, t.value, t.attempts) for t in before
        ]
        assert [t.intermediate for t in after] == [t.intermediate for t in before]
        assert [t.error for t in after] == [t.error for t in before]
        assert study.space.to_json() == before_study.space
    assert Study(new, "bowl").user_attrs == {"config": {"name": "bowl", "seed": 0}}
    with pytest.raises(ValueError, match="already exists"):
        upgrade_legacy(old)
    # an upgraded study resumes: more trials of the same (format-1) study
    grown = optimize(bowl, None, 8, new, "bowl", executor="inprocess", progress=False)
    assert [t.state for t in grown.trials] == ["complete"] * 8
