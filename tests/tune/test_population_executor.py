"""The population executor: trials that share their architecture and batch size train as one
population, and the study records them like any other trials.

Tolerance: a member computes what its standalone trial computes up to floating-point
summation order (float32). Dev errors are counts of misclassified dev examples, so they
are compared to within one dev example (``1 / n_dev``); on these tests they come out equal.
The dev *cost* of a member against its standalone ``Trainer`` is compared to a relative
1e-5 (float32 rounding; measured up to ~1e-7).
"""

import contextlib
import math
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from honed import experiment as ex
from honed.cli import main
from honed.experiment.config import ConfigError
from honed.experiment.tuning import ExperimentObjective, open_study, trial_params, tune_experiment
from honed.tune import PopulationExecutor, Study, TrialState, optimize
from honed.tune.synthetic import seeded_noise

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPACE = {
    "train.lr": {"log": [1e-3, 1e-1]},
    "model.l2": {"log": [1e-4, 1e-1]},
    "model.keep_prob": {"uniform": [0.7, 1.0]},
    "train.batch_size": {"choice": [16, 32]},
}
BASE = {
    "name": "poptest",
    "seed": 0,
    "data": {"dataset": "moons", "n_samples": 300, "augment": [{"name": "noise", "std": 0.05}]},
    "model": {"hidden": [12, 8], "activation": "tanh", "batch_norm": True},
    "train": {"epochs": 4, "batch_size": 32, "optimizer": "adam"},
    "tune": {"trials": 8, "space": SPACE},
}


def config(**changes):
    raw = {k: dict(v) if isinstance(v, dict) else v for k, v in BASE.items()}
    for dotted, value in changes.items():
        section, _, key = dotted.partition(".")
        raw[section][key] = value
    return ex.resolve_config(raw)


def n_dev(cfg) -> int:
    return len(ex.prepare_data(cfg).dev)


def run(cfg, path, **kw):
    return tune_experiment(cfg, study_path=path, progress=False, **kw)


def close(a, b, tol):
    return (a is None and b is None) or abs(a - b) <= tol


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same study, each trial alone (the inprocess executor)."""
    return run(config(), tmp_path_factory.mktemp("ref") / "s.journal", executor="inprocess")


@pytest.mark.parametrize(
    "executor",
    [
        PopulationExecutor(workers=1),  # one population per batch size
        PopulationExecutor(workers=2),  # populations cut in pieces to fill two threads
        PopulationExecutor(workers=1, max_members=3),  # 3 at a time: other groupings
    ],
    ids=["one-thread", "two-threads", "three-at-a-time"],
)
def test_trials_equal_their_standalone_runs_whatever_the_grouping(tmp_path, reference, executor):
    cfg = config()
    tol = 1.0 / n_dev(cfg) + 1e-12
    study = run(cfg, tmp_path / "s.journal", executor=executor)
    stored = Study(tmp_path / "s.journal", "poptest").trials  # as the file has them
    assert len(stored) == len(reference.trials) == 8
    for a, b in zip(reference.trials, stored):
        assert (a.number, a.state, a.params, a.seed) == (b.number, b.state, b.params, b.seed)
        assert b.state == TrialState.COMPLETE and b.attempts == 1
        assert close(a.value, b.value, tol), (a.number, a.value, b.value)
        assert sorted(b.intermediate) == [1, 2, 3, 4]  # every epoch's value is stored
        for epoch, v in a.intermediate.items():
            assert close(v, b.intermediate[epoch], tol)
        assert b.user_attrs["epochs"] == a.user_attrs["epochs"] == 4
        assert b.number in b.user_attrs["population"]
    groups = {tuple(t.user_attrs["population"]) for t in study.trials}
    sizes = {t.params["train.batch_size"] for t in study.trials}
    assert len(groups) >= len(sizes)  # never mixes batch sizes


def test_a_member_equals_its_standalone_trainer_in_float32():
    """Per-epoch dev cost of each member against the ``Trainer`` a trial builds (with
    early stopping and augmentation: the noise comes from each member's own generator)."""
    from honed.experiment.build import build_augmentation, build_trainer
    from honed.experiment.population_tuning import architecture, member
    from honed.experiment.tuning import _data_for, trial_config
    from honed.population import Population, PopulationTrainer

    cfg = config(
        **{
            "train.early_stopping": {"patience": 2},
            "data.augment": [{"name": "noise", "std": 0.1}],
        }
    )
    data = _data_for(cfg)
    params = [
        {"train.lr": 0.02, "model.l2": 0.01, "model.keep_prob": 0.8},
        {"train.lr": 0.005, "model.l2": 0.0, "model.keep_prob": 1.0},
    ]
    seeds = [11, 12]
    trials = [trial_config(cfg, p, seed=s) for p, s in zip(params, seeds)]
    pop = Population(architecture(cfg, data), [member(c, s) for c, s in zip(trials, seeds)])
    noise = build_augmentation(cfg, data.image_shape, data.normalizer)  # as a trial builds it
    trainer = PopulationTrainer(pop, batch_size=32, common_order=False, augment=noise)
    trainer.fit(data.train, data.dev, epochs=4)
    for k, c in enumerate(trials):
        trainer = build_trainer(c, data)
        trainer.fit(data.train, data.dev, epochs=4)
        for a, b in zip(trainer.history.epochs, pop.histories[k].epochs):
            assert math.isclose(a["dev_cost"], b["dev_cost"], rel_tol=1e-5), (k, a, b)
            assert a["dev_error"] == b["dev_error"]


def test_prune_is_successive_halving_inside_the_population(tmp_path):
    cfg = config(**{"tune.space": {"train.lr": {"log": [1e-3, 1e-1]}}, "tune.trials": 9})
    study = run(cfg, tmp_path / "s.journal", executor="population", prune=True, workers=1)
    trials = study.trials
    assert {t.user_attrs["population"][0] for t in trials} == {0}  # one population of 9

    # the pruner's rule (SuccessiveHalvingPruner: rungs at epochs 1, 3; η = 3; at least 3
    # trials at a rung) applied to the whole population at once, ties kept
    def kept(values: dict) -> set:
        if len(values) < 3:
            return set(values)
        keep = max(1, len(values) // 3)
        return {n for n, v in values.items() if sum(w < v for w in values.values()) < keep}

    past_1 = kept({t.number: t.intermediate[1] for t in trials})
    assert {t.number for t in trials if max(t.intermediate) > 1} == past_1
    assert len(past_1) < 9
    past_3 = kept({n: trials[n].intermediate[3] for n in past_1})
    assert {t.number for t in trials if t.state == TrialState.COMPLETE} == past_3
    for t in trials:
        if t.number not in past_3:
            assert t.state == TrialState.PRUNED
            assert t.value == t.intermediate[max(t.intermediate)]
            assert t.error.startswith("pruned after epoch")


def test_pbt_records_each_member_with_its_lineage(tmp_path):
    cfg = config(
        **{
            "tune.strategy": "pbt",
            "tune.executor": "population",
            "tune.pbt_every": 1,
            "tune.trials": 6,
            "train.batch_size": 16,
            "tune.space": {
                "train.lr": {"log": [1e-3, 1e-1]},
                "train.beta1": {"one_minus_log": [0.8, 0.99]},
            },
        }
    )
    study = run(cfg, tmp_path / "a.journal")
    again = run(cfg, tmp_path / "b.journal")
    assert [t.value for t in study.trials] == [t.value for t in again.trials]  # seeded
    numbers = {t.number for t in study.trials}
    events = 0
    for t in study.trials:
        assert t.state == TrialState.COMPLETE and sorted(t.intermediate) == [1, 2, 3, 4]
        pbt = t.user_attrs["pbt"]
        final = pbt["final_params"]
        assert set(final) == set(t.params) and trial_params(t) == final
        assert 1e-3 <= final["train.lr"] <= 1e-1 and 0.8 <= final["train.beta1"] <= 0.99
        assert pbt["initial"] == t.params
        for e in pbt["lineage"]:
            assert e["parent"] in numbers and e["parent"] != t.number
            assert e["parent_score"] <= e["member_score"]
            events += 1
        if not pbt["lineage"]:
            assert final == t.params
    assert events >= 3  # one of 6 replaced after each of epochs 1, 2, 3


def moons_toml(path, name: str, epochs: int, tune_lines: str = ""):
    """A small experiment file tuned on the population executor (4 trials over lr)."""
    path.write_text(
        textwrap.dedent(f"""
        name = "{name}"
        [data]
        dataset = "moons"
        n_samples = 300
        [model]
        hidden = [8]
        [train]
        epochs = {epochs}
        batch_size = 32
        [tune]
        trials = 4
        executor = "population"
        """)
        + tune_lines
        + '\n[tune.space]\n"train.lr" = { log = [1e-3, 1e-1] }\n'
    )
    return path


def test_config_key_executor_population_from_toml(tmp_path, capsys):
    path = moons_toml(tmp_path / "exp.toml", "toml_pop", epochs=3)
    study = tmp_path / "s.journal"
    assert main(["tune", str(path), "--study", str(study)]) == 0
    trials = open_study(study).trials
    assert all(t.number in t.user_attrs["population"] for t in trials)
    assert {n for t in trials for n in t.user_attrs["population"]} == {0, 1, 2, 3}
    # and on the command line, with PBT; then train the best member's final values
    study2 = tmp_path / "p.journal"
    argv = ["tune", str(path), "--study", str(study2), "--strategy", "pbt", "--trials", "4"]
    assert main(argv) == 0
    assert all("pbt" in t.user_attrs for t in open_study(study2).trials)
    figure = tmp_path / "p-lineage.png"
    shown = capsys.readouterr().out
    assert f"PBT lineage (the best trial's population): {figure}" in shown
    # the members that copied a better one list the values they ended with
    exploited = [t for t in open_study(study2).trials if t.user_attrs["pbt"]["lineage"]]
    assert exploited and shown.count("ended with") == len(exploited)
    assert figure.stat().st_size > 10_000
    out = ["train", str(path), "--from-study", str(study2), "--out", str(tmp_path / "runs")]
    assert main([*out, "--quiet", "--set", "train.epochs=1"]) == 0
    assert "is a PBT member" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("changes", "kw", "message"),
    [
        ({"tune.strategy": "pbt"}, {"executor": "process"}, r"tune\.strategy.*tune\.executor"),
        ({"tune.strategy": "pbt"}, {"executor": "population", "prune": True}, r"tune\.prune"),
        ({"train.drop_last": True}, {"executor": "population"}, r"^train\.drop_last"),
        ({"model.activation": "identity"}, {"executor": "population"}, r"^model\.activation"),
        ({"train.loss": "binary_cross_entropy"}, {"executor": "population"}, r"^train\.loss"),
        ({}, {"executor": "threads"}, r"^tune\.executor"),
        (
            {"tune.strategy": "pbt", "tune.space": {"train.batch_size": {"choice": [16, 32]}}},
            {"executor": "population"},
            r"tune\.space has none",
        ),
    ],
    ids=[
        "pbt-process",
        "pbt-prune",
        "drop-last",
        "activation",
        "loss",
        "name",
        "pbt-space",
    ],
)
def test_bad_combinations_are_refused_naming_the_key(tmp_path, changes, kw, message):
    with pytest.raises(ValueError, match=message):
        run(config(**changes), tmp_path / "s.journal", **kw)
    assert not (tmp_path / "s.journal").exists()  # refused before anything was stored


def test_a_choice_the_population_cannot_train_is_refused_up_front(tmp_path):
    space = {**SPACE, "model.activation": {"choice": ["tanh", "identity"]}}
    with pytest.raises(ConfigError, match=r"model\.activation.*tune\.space model\.activation"):
        run(config(**{"tune.space": space}), tmp_path / "s.journal", executor="population")


def test_pbt_sampler_needs_the_population_executor(tmp_path):
    with pytest.raises(ValueError, match="needs executor='population'"):
        optimize(
            seeded_noise,
            {"x": {"uniform": [0, 1]}},
            2,
            tmp_path / "s.journal",
            sampler="pbt",
            executor="inprocess",
            progress=False,
        )


def test_plain_objectives_run_one_by_one(tmp_path):
    space = {"x": {"uniform": [-1, 1]}}
    a = optimize(
        seeded_noise, space, 6, tmp_path / "a.journal", executor="inprocess", progress=False
    )
    b = optimize(
        seeded_noise,
        space,
        6,
        tmp_path / "b.journal",
        executor="population",
        workers=2,
        progress=False,
    )
    key = [(t.number, t.state, t.params, t.value) for t in a.trials]
    assert key == [(t.number, t.state, t.params, t.value) for t in b.trials]


def test_ctrl_c_marks_the_population_interrupted_and_resume_finishes_it(tmp_path, reference):
    db = tmp_path / "s.journal"
    cfg = config()

    def stop(study, trial):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        optimize(
            ExperimentObjective(cfg),
            SPACE,
            8,
            db,
            study_name="poptest",
            executor=PopulationExecutor(workers=1),
            progress=False,
            callbacks=[stop],
            user_attrs={"config": cfg.to_dict()},
        )
    cut = Study(db, "poptest").trials
    states = [t.state for t in cut]
    assert "running" not in states and "interrupted" in states
    done = {t.number: t for t in cut if t.state == TrialState.COMPLETE}
    assert len(done) == 1
    study = run(cfg, db, executor="population")
    tol = 1.0 / n_dev(cfg) + 1e-12
    for t, ref in zip(study.trials, reference.trials):
        assert t.state == TrialState.COMPLETE and close(t.value, ref.value, tol)
        assert t.attempts == (1 if t.number in done else 2)
        if t.number in done:
            assert (t.value, t.finished) == (done[t.number].value, done[t.number].finished)


def test_sigkill_mid_study_then_resume_keeps_the_completed_trials(tmp_path, reference):
    """A real driver, killed by SIGKILL after the first population's first trial."""
    db = tmp_path / "s.journal"
    script = textwrap.dedent(f"""
        import os, signal
        from honed import experiment as ex
        from honed.experiment.tuning import ExperimentObjective
        from honed.tune import PopulationExecutor, optimize
        from tests.tune.test_population_executor import config, SPACE

        def kill(study, trial):
            os.kill(os.getpid(), signal.SIGKILL)

        if __name__ == "__main__":
            cfg = config()
            optimize(ExperimentObjective(cfg), SPACE, 8, {str(db)!r}, study_name="poptest",
                     executor=PopulationExecutor(workers=1), progress=False, callbacks=[kill],
                     user_attrs={{"config": cfg.to_dict()}})
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    try:
        out, _ = proc.communicate(timeout=300)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL, out.decode()
    crashed = Study(db, "poptest").trials
    done = {t.number: t for t in crashed if t.state == TrialState.COMPLETE}
    assert len(done) == 1 and len(crashed) == 8
    assert all(t.state == TrialState.RUNNING for t in crashed if t.number not in done)

    study = run(config(), db, executor="population")
    tol = 1.0 / n_dev(config()) + 1e-12
    for t, ref in zip(study.trials, reference.trials):
        assert t.state == TrialState.COMPLETE and close(t.value, ref.value, tol)
        if t.number in done:  # kept as it was, not re-run
            old = done[t.number]
            assert (t.value, t.attempts, t.finished) == (old.value, 1, old.finished)
        else:
            assert t.attempts == 2 and t.params == crashed[t.number].params


def test_population_executor_arguments():
    with pytest.raises(ValueError, match="workers"):
        PopulationExecutor(workers=0)
    with pytest.raises(ValueError, match="max_members"):
        PopulationExecutor(max_members=0)
    assert PopulationExecutor(max_members=5).max_workers == 5
    assert PopulationExecutor(workers=1).threads == (os.cpu_count() or 1)


def test_max_members_hands_out_trials_in_waves(tmp_path, capsys):
    """tune.max_members (--max-members): no population larger, and the study asks for the
    next wave once one has finished (a learning sampler then sees finished trials)."""
    study = run(config(**{"tune.max_members": 3}), tmp_path / "s.journal", executor="population")
    groups = {tuple(t.user_attrs["population"]) for t in study.trials}
    assert max(len(g) for g in groups) <= 3 < len(study.trials)
    assert sorted(n for g in groups for n in g) == list(range(8))
    # trial 3 was handed out only once one of the first three had finished
    by_number = {t.number: t for t in study.trials}
    assert min(by_number[n].finished for n in range(3)) <= by_number[3].started
    path = moons_toml(tmp_path / "exp.toml", "waves", epochs=2, tune_lines='strategy = "tpe"\n')
    argv = ["tune", str(path), "--study", str(tmp_path / "w.journal"), "--workers", "1"]
    argv += ["--max-members", "2"]  # one thread: a wave is one population, not cut in two
    assert main(argv) == 0
    groups = {tuple(t.user_attrs["population"]) for t in open_study(tmp_path / "w.journal").trials}
    assert groups == {(0, 1), (2, 3)}
    assert main([*argv[:6], "--max-members", "0"]) == 1
    assert "--max-members must be" in capsys.readouterr().err
    assert main([*argv[:6], "--executor", "process", "--max-members", "2"]) == 1
    assert "tune.max_members (--max-members) sizes populations" in capsys.readouterr().err


def test_a_tiny_network_is_not_cut_into_pieces_but_a_large_one_is(tmp_path):
    """Two threads of the driver: moons members stay one population (two would share the
    GIL: their steps are Python, not BLAS), a Fashion-MNIST-sized MLP may be cut."""
    from honed.experiment.population_tuning import min_members

    one_group = config(**{"tune.space": {"train.lr": {"log": [1e-3, 1e-1]}}})
    study = run(one_group, tmp_path / "s.journal", executor="population", workers=2)
    assert {tuple(t.user_attrs["population"]) for t in study.trials} == {tuple(range(8))}
    assert min_members(config(), 2) > 8
    fashion = config(**{"model.hidden": [256, 256], "train.batch_size": 128})
    assert min_members(fashion, 784) == 1


def test_a_population_writes_no_value_once_the_study_was_interrupted():
    from honed.tune.population_executor import PopulationCancelled, _GuardedReporter

    class Sink:
        def __init__(self):
            self.values = []

        def report_intermediate(self, number, step, value):
            self.values.append((number, step, value))

        def intermediate_at(self, step):
            return {n: v for n, s, v in self.values if s == step}

        def should_prune(self, number):
            return number == 7

    sink, stopped = Sink(), [False]
    reporter = _GuardedReporter(sink, lambda: stopped[0])
    reporter.report_intermediate(3, 1, 0.5)
    assert reporter.intermediate_at(1) == {3: 0.5} and reporter.should_prune(7)
    stopped[0] = True
    with pytest.raises(PopulationCancelled, match="interrupted"):
        reporter.report_intermediate(3, 2, 0.4)
    assert sink.values == [(3, 1, 0.5)]
