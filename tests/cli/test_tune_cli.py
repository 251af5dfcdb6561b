"""`honed tune`, `honed study show|report` and `honed train --from-study`, in-process."""

import json

import pytest

from honed import experiment as ex
from honed.cli import main
from honed.experiment.tuning import ExperimentObjective, best_params, open_study, trial_config

TUNE = """
name = "tinytune"
seed = 0
[data]
dataset = "moons"
n_samples = 300
[model]
hidden = [8]
activation = "tanh"
[train]
epochs = 3
batch_size = 32
[tune]
trials = 5
[tune.space]
"train.lr" = { log = [1e-3, 1e-1] }
"model.hidden" = { int = [4, 16] }
"train.beta1" = { one_minus_log = [0.8, 0.99] }
"""


@pytest.fixture
def experiment(tmp_path):
    path = tmp_path / "tune.toml"
    path.write_text(TUNE)
    return path


def test_tune_then_show_report_and_train_the_best(experiment, tmp_path, capsys):
    study = tmp_path / "s.sqlite"
    assert main(["tune", str(experiment), "--study", str(study), "--executor", "inprocess"]) == 0
    out = capsys.readouterr().out
    assert "5 trials (5 complete)" in out and "--from-study" in out
    # Running again continues the study: 7 in total, the first 5 untouched.
    before = {t.number: (t.params, t.value) for t in open_study(study).trials}
    assert (
        main(
            [
                "tune",
                str(experiment),
                "--study",
                str(study),
                "--trials",
                "7",
                "--executor",
                "inprocess",
            ]
        )
        == 0
    )
    after = {t.number: (t.params, t.value) for t in open_study(study).trials}
    assert len(after) == 7 and all(after[n] == before[n] for n in before)

    assert main(["study", "show", str(study), "--export", str(tmp_path / "trials.json")]) == 0
    assert "train.lr" in capsys.readouterr().out
    assert len(json.loads((tmp_path / "trials.json").read_text())["trials"]) == 7
    assert main(["study", "report", str(study), "--out", str(tmp_path / "study.png")]) == 0
    assert (tmp_path / "study.png").stat().st_size > 10_000

    best = best_params(study)
    assert (
        main(
            [
                "train",
                str(experiment),
                "--from-study",
                str(study),
                "--out",
                str(tmp_path / "runs"),
                "--quiet",
            ]
        )
        == 0
    )
    run = next((tmp_path / "runs").iterdir())
    config = json.loads((run / "config.json").read_text())
    assert config["train"]["lr"] == pytest.approx(best["train.lr"])
    assert config["model"]["hidden"] == best["model.hidden"]


def test_tune_rejects_a_space_key_that_is_not_an_experiment_key(experiment, capsys):
    assert (
        main(
            [
                "tune",
                str(experiment),
                "--set",
                'tune.space={"train.lrate" = {log = [0.001, 0.1]}}',
                "--executor",
                "inprocess",
            ]
        )
        == 1
    )
    assert "tune.space key 'train.lrate' is not an experiment key" in capsys.readouterr().err


def test_trial_values_are_validated_like_the_file():
    config = ex.resolve_config({"data": {"dataset": "moons"}})
    with pytest.raises(ValueError, match="model.keep_prob must be in"):
        trial_config(config, {"model.keep_prob": 1.5})


def test_objective_reports_each_epoch_and_is_reproducible(experiment):
    config = ex.load_config(experiment)

    class FakeTrial:
        def __init__(self):
            self.params = {"train.lr": 0.05, "model.hidden": 8, "train.beta1": 0.9}
            self.seed, self.reports, self.attrs = 7, [], {}

        def report(self, epoch, value):
            self.reports.append((epoch, value))

        def should_prune(self):
            return False

        def set_user_attr(self, key, value):
            self.attrs[key] = value

    a, b = FakeTrial(), FakeTrial()
    objective = ExperimentObjective(config)
    assert objective(a) == objective(b)
    assert [e for e, _ in a.reports] == [1, 2, 3] and a.reports == b.reports


def test_tune_stops_with_exit_code_5_when_workers_keep_dying(
    experiment, tmp_path, capsys, monkeypatch
):
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    import honed.tune.study as study_module
    from honed.tune import Executor

    class Dying(Executor):
        max_workers = 1

        def submit(self, fn, *args):
            fut = Future()
            fut.set_exception(BrokenProcessPool("killed by the OOM killer"))
            return fut

    monkeypatch.setattr(study_module, "make_executor", lambda executor, workers: Dying())
    study = tmp_path / "s.sqlite"
    assert main(["tune", str(experiment), "--study", str(study)]) == 5
    assert "died 2 times in a row" in capsys.readouterr().err
    assert [t.state for t in open_study(study).trials] == ["interrupted", "interrupted"]


def test_resuming_with_another_experiment_is_refused_unless_new_study(experiment, tmp_path, capsys):
    study = tmp_path / "s.journal"
    base = ["tune", str(experiment), "--study", str(study), "--executor", "inprocess"]
    assert main([*base, "--trials", "2"]) == 0
    # trial count and workers may change; the experiment may not
    assert main([*base, "--trials", "3", "--workers", "1"]) == 0
    capsys.readouterr()
    assert main([*base, "--set", "train.epochs=4", "--set", "model.activation=relu"]) == 1
    err = capsys.readouterr().err
    assert "made from another experiment: model.activation, train.epochs differ" in err
    assert "--new-study" in err
    assert main([*base, "--trials", "2", "--set", "train.epochs=4", "--new-study"]) == 0
    assert open_study(study).name == "tinytune-2"
    assert len(open_study(study).trials) == 2


def test_train_from_study_checks_the_experiment_and_records_the_trial(experiment, tmp_path, capsys):
    study = tmp_path / "s.journal"
    assert main(["tune", str(experiment), "--study", str(study), "--executor", "inprocess"]) == 0
    capsys.readouterr()
    other = tmp_path / "other.toml"
    other.write_text(TUNE.replace('activation = "tanh"', 'activation = "relu"'))
    runs = str(tmp_path / "runs")
    assert main(["train", str(other), "--from-study", str(study), "--out", runs, "--quiet"]) == 1
    assert "model.activation differ" in capsys.readouterr().err
    assert main(["train", str(experiment), "--from-study", str(study), "--out", runs]) == 0
    best = open_study(study).best_trial
    assert f"trial #{best.number}" in capsys.readouterr().out
    run = next((tmp_path / "runs").iterdir())
    used = json.loads((run / "from_study.json").read_text())
    assert used["trial"] == best.number and used["params"] == best.params
