import contextlib
import csv
import json
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import pytest

from honed.tune import Study, StudyBusy, TrialState, optimize, trial_seeds
from honed.tune.executors import Executor
from honed.tune.synthetic import bowl, flaky, seeded_noise, slow_bowl

BOWL = {"lr": {"log": [1e-4, 1]}, "beta": {"one_minus_log": [0.9, 0.999]}}
X = {"x": {"uniform": [-1, 1]}}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_inprocess(objective, space, n, path, **kw):
    return optimize(objective, space, n, path, executor="inprocess", progress=False, **kw)


def key(study):
    return [(t.number, t.state, t.params, t.seed, t.value) for t in study.trials]


@pytest.mark.parametrize("name", ["s.journal", "s.db"])  # Optuna's journal file and its SQLite
def test_optimize_records_everything(tmp_path, name):
    db = tmp_path / name
    study = run_inprocess(bowl, BOWL, 12, db, user_attrs={"experiment": {"epochs": 3}})
    trials = study.trials
    assert [t.number for t in trials] == list(range(12))
    assert all(t.state == TrialState.COMPLETE and t.attempts == 1 for t in trials)
    assert all(t.seed == trial_seeds(0, t.number) for t in trials)
    assert study.summary()["complete"] == 12
    best = study.best_trials(3)
    assert [b.value for b in best] == sorted(t.value for t in trials)[:3]
    assert study.best_trial == best[0] and study.best_params == best[0].params
    reopened = Study(db)
    assert reopened.user_attrs == {"experiment": {"epochs": 3}}
    assert key(reopened) == key(study)

    study.export_csv(tmp_path / "t.csv")
    rows = list(csv.DictReader((tmp_path / "t.csv").read_text().splitlines()))
    assert len(rows) == 12 and "param:train.lr" not in rows[0] and "param:lr" in rows[0]
    assert float(rows[0]["value"]) == trials[0].value
    study.export_json(tmp_path / "t.json")
    doc = json.loads((tmp_path / "t.json").read_text())
    assert doc["summary"]["complete"] == 12 and len(doc["trials"]) == 12
    assert doc["space"] == BOWL


def test_reopening_with_other_settings_is_an_error(tmp_path):
    db = tmp_path / "s.journal"
    run_inprocess(bowl, BOWL, 2, db, seed=1)
    with pytest.raises(ValueError, match="seed"):
        run_inprocess(bowl, BOWL, 2, db, seed=2)
    with pytest.raises(ValueError, match="space"):
        run_inprocess(bowl, X, 2, db, seed=1)
    with pytest.raises(ValueError, match="sampler"):
        run_inprocess(bowl, BOWL, 2, db, seed=1, sampler="grid")
    with pytest.raises(ValueError, match="does not exist"):
        Study(db, "other")
    run_inprocess(bowl, BOWL, 2, db, study_name="other", seed=2)  # another study in the same file


def test_resume_runs_only_missing_trials(tmp_path):
    calls = []
    full = run_inprocess(bowl, BOWL, 10, tmp_path / "full.journal")
    run_inprocess(bowl, BOWL, 4, tmp_path / "part.journal")
    study = run_inprocess(
        bowl, BOWL, 10, tmp_path / "part.journal", callbacks=[lambda s, t: calls.append(t.number)]
    )
    assert calls == list(range(4, 10))
    assert key(study) == key(full)
    run_inprocess(
        bowl, BOWL, 10, tmp_path / "part.journal", callbacks=[lambda s, t: calls.append(-1)]
    )
    assert -1 not in calls


def test_failures_and_divergence_are_recorded_and_the_study_goes_on(tmp_path):
    study = run_inprocess(flaky, X, 10, tmp_path / "s.journal")
    by = {t.number: t for t in study.trials}
    assert len(by) == 10
    for n, t in by.items():
        k = n % 5
        if k == 1:
            assert t.state == "failed" and t.error == f"RuntimeError: boom in trial {n}"
            assert "Traceback" in t.traceback and "flaky" in t.traceback
        elif k == 2:
            assert t.state == "diverged" and "nan" in t.error and t.value is None
        elif k == 3:
            assert t.state == "diverged" and "loss became inf" in t.error
        else:
            assert t.state == "complete" and t.value == t.params["x"] ** 2
    s = study.summary()
    assert (s["complete"], s["failed"], s["diverged"]) == (4, 2, 4)
    assert all(t.state == "complete" for t in study.best_trials(10))


def _interrupt_at_3(trial):
    if trial.number == 3:
        raise KeyboardInterrupt
    return trial.params["x"]


def test_ctrl_c_marks_running_trial_interrupted_and_resume_reruns_it(tmp_path):
    db = tmp_path / "s.journal"
    with pytest.raises(KeyboardInterrupt):
        run_inprocess(_interrupt_at_3, X, 6, db)
    before = Study(db).trials
    assert [t.state for t in before] == ["complete"] * 3 + ["interrupted"]
    study = run_inprocess(seeded_noise, X, 6, db)
    after = study.trials
    assert [t.state for t in after] == ["complete"] * 6
    assert after[3].params == before[3].params and after[3].seed == before[3].seed
    assert after[3].attempts == 2
    assert [t.value for t in after[:3]] == [t.value for t in before[:3]]


@pytest.mark.parametrize("executor", ["inprocess", "process"])
def test_sigkill_mid_study_then_resume(tmp_path, executor):
    db, marker = tmp_path / "s.journal", tmp_path / "killed"
    workers = 1 if executor == "inprocess" else 2
    script = textwrap.dedent(f"""
        import os
        from functools import partial
        from honed.tune import optimize
        from honed.tune.synthetic import slow_bowl
        os.environ["HONED_TEST_DRIVER_PID"] = str(os.getpid())
        if __name__ == "__main__":
            optimize(partial(slow_bowl, kill_at=5, marker={str(marker)!r}), {BOWL!r}, 10,
                     {str(db)!r}, executor={executor!r}, workers={workers}, progress=False)
    """)
    log = open(tmp_path / "log", "w+")  # noqa: SIM115 (closed at the end of the test)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        rc = proc.wait(timeout=120)
    finally:
        # the session holds only what we started: the driver and its workers
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    log.seek(0)
    assert rc == -signal.SIGKILL, log.read()
    crashed = Study(db).trials
    states = {t.number: t.state for t in crashed}
    assert states[5] == "running"  # the dead driver never got to say anything
    done = {t.number: t for t in crashed if t.state == "complete"}
    # each worker was running one trial when the driver died (which trial a worker runs
    # depends on how fast its process started); every other trial is complete
    running = {n for n, s in states.items() if s == "running"}
    assert len(running) <= workers and set(states) - running == set(done)

    study = optimize(slow_bowl, BOWL, 10, db, executor="inprocess", progress=False)
    after = {t.number: t for t in study.trials}
    assert sorted(after) == list(range(10))
    assert all(t.state == "complete" for t in after.values())
    for n, t in done.items():  # completed trials are kept as they were, not re-run
        assert (after[n].value, after[n].attempts, after[n].finished) == (t.value, 1, t.finished)
    for t in crashed:
        if t.state == "running":
            assert after[t.number].params == t.params and after[t.number].seed == t.seed
            assert after[t.number].attempts == 2
    reference = run_inprocess(bowl, BOWL, 10, tmp_path / "ref.journal")
    assert [t.params for t in reference.trials] == [after[n].params for n in range(10)]
    assert [t.value for t in reference.trials] == [after[n].value for n in range(10)]


def test_ctrl_c_with_process_workers_stops_cleanly(tmp_path):
    db, marker = tmp_path / "s.journal", tmp_path / "interrupted"
    script = textwrap.dedent(f"""
        import os, signal
        from functools import partial
        from honed.tune import optimize
        from honed.tune.synthetic import slow_bowl
        os.environ["HONED_TEST_DRIVER_PID"] = str(os.getpid())
        # A terminal's Ctrl-C: Python's handler, even when the test runs as a background job
        # (a shell starts those with SIGINT ignored, and Python then installs no handler).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if __name__ == "__main__":
            optimize(partial(slow_bowl, kill_at=3, marker={str(marker)!r}, sig=signal.SIGINT),
                     {BOWL!r}, 10, {str(db)!r}, executor="process", workers=2,
                     progress=False)
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, timeout=120, capture_output=True, text=True
    )
    assert proc.returncode != 0 and "KeyboardInterrupt" in proc.stderr
    assert "marked interrupted; run it again to resume" in proc.stderr
    trials = Study(db).trials
    states = {t.state for t in trials}
    assert "running" not in states and "interrupted" in states
    assert len(trials) < 10  # pending trials were not started
    study = optimize(slow_bowl, BOWL, 10, db, executor="inprocess", progress=False)
    assert study.summary()["complete"] == 10


def test_one_and_two_process_workers_agree(tmp_path):
    kw = dict(executor="process", progress=False, seed=11)
    one = optimize(seeded_noise, X, 8, tmp_path / "a.journal", workers=1, **kw)
    two = optimize(seeded_noise, X, 8, tmp_path / "b.journal", workers=2, **kw)
    assert key(one) == key(two)


def test_a_second_driver_of_a_running_study_is_refused(tmp_path):
    db = tmp_path / "s.journal"
    study = Study(db, space=BOWL)
    with study.storage.driver_lock("default"):  # what a running driver holds
        assert study.storage.is_locked()
        with pytest.raises(StudyBusy, match=r"is being run by .*:\d+; one driver"):
            run_inprocess(bowl, BOWL, 3, db)
    assert not study.storage.is_locked()
    assert run_inprocess(bowl, BOWL, 3, db).summary()["complete"] == 3


def test_unpicklable_objective_is_a_clear_error(tmp_path):
    with pytest.raises(TypeError, match="picklable"):
        optimize(lambda t: 0.0, X, 2, tmp_path / "s.journal", workers=1, progress=False)


def test_define_by_run_params_are_stored(tmp_path):
    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1, scale="log")
        act = trial.suggest_categorical("act", ["relu", "tanh"])
        trial.set_user_attr("act_was", act)
        return math.log10(lr) ** 2

    study = run_inprocess(objective, {}, 5, tmp_path / "s.journal")
    for t in study.trials:
        assert set(t.params) == {"lr", "act"} and t.user_attrs == {"act_was": t.params["act"]}


class _DyingWorkers(Executor):
    """Every trial's worker dies (the future fails the way a broken process pool fails)."""

    max_workers = 2
    restarts = 0

    def submit(self, fn, *args):
        fut = Future()
        fut.set_exception(BrokenProcessPool("a worker died"))
        return fut

    def restart(self):
        self.restarts += 1


def test_workers_that_keep_dying_stop_the_study_and_their_trials_rerun(tmp_path):
    db = tmp_path / "s.journal"
    dying = _DyingWorkers()
    with pytest.raises(RuntimeError, match=r"died 4 times in a row.*\[0, 1, 2, 3\].*interrupted"):
        optimize(bowl, BOWL, 10, db, executor=dying, progress=False)
    assert dying.restarts == 4
    assert [t.state for t in Study(db).trials] == [TrialState.INTERRUPTED] * 4
    study = run_inprocess(bowl, BOWL, 10, db)  # the cause fixed: the same trials run
    assert study.summary()["complete"] == 10
    assert [t.attempts for t in study.trials[:4]] == [2] * 4


class _SubmitFails(Executor):
    max_workers = 1

    def submit(self, fn, *args):
        raise OSError("cannot start a worker")


def test_a_trial_that_could_not_be_handed_out_is_not_left_running(tmp_path):
    db = tmp_path / "s.journal"
    with pytest.raises(OSError, match="cannot start a worker"):
        optimize(bowl, BOWL, 3, db, executor=_SubmitFails(), progress=False)
    assert [t.state for t in Study(db).trials] == [TrialState.INTERRUPTED]


def test_a_worker_importing_the_main_module_refuses_to_start_a_study(tmp_path, monkeypatch):
    # What a spawn worker sees while it re-runs a script's top level.
    monkeypatch.setattr(multiprocessing.current_process(), "_inheriting", True, raising=False)
    db = tmp_path / "s.journal"
    with pytest.raises(RuntimeError, match=r'if __name__ == "__main__"'):
        run_inprocess(bowl, BOWL, 3, db)
    assert not db.exists()  # refused before it touched the study file


def test_script_without_main_guard_stops_with_a_clear_error(tmp_path):
    script = tmp_path / "unguarded.py"
    db = tmp_path / "s.journal"
    script.write_text(
        textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {ROOT!r})
        from honed.tune import optimize
        from honed.tune.synthetic import bowl
        optimize(bowl, {BOWL!r}, 6, {str(db)!r}, workers=2, progress=False)
    """)
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode != 0
    assert "a study was started while a worker process was importing the main module" in proc.stderr
    assert "times in a row" in proc.stderr
    states = {t.state for t in Study(db).trials}
    assert states == {TrialState.INTERRUPTED}
