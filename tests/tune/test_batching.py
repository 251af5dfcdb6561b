"""Per-epoch values reach the study in batches: one journal append or one SQLite
transaction per flush, on time, before a trial finishes, before a pruner reads, and on
Ctrl-C and SIGTERM; after SIGKILL what the timed flush wrote is there and trials resume."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import urllib.request
from functools import partial
from pathlib import Path

import pytest

from honed.tune import Study, batching, optimize
from honed.tune.batching import ReportBatcher
from honed.tune.storage import StudyStorage
from honed.tune.synthetic import curves

ROOT = Path(__file__).resolve().parents[2]
X = {"x": {"uniform": [0, 1]}}


# -- the batcher --------------------------------------------------------------------------
def test_flush_writes_everything_pending_at_once_in_order():
    writes = []
    b = ReportBatcher(writes.append, interval=3600)
    for step in range(5):
        b.add(7, step, step / 10)
        b.add(8, step, -step / 10)
    assert writes == [] and b.pending() == 10
    assert b.flush() == 10
    assert writes == [[(t, s, sign * s / 10) for s in range(5) for t, sign in ((7, 1), (8, -1))]]
    assert b.flush() == 0 and len(writes) == 1 and b.writes == 1


def test_a_failed_write_keeps_the_values_pending_in_order():
    calls = []

    def write(batch):
        calls.append(list(batch))
        if len(calls) == 1:
            raise OSError("disk full")

    b = ReportBatcher(write, interval=3600)
    b.add(1, 1, 0.5)
    with pytest.raises(OSError, match="disk full"):
        b.flush()
    b.add(1, 2, 0.4)
    assert b.flush() == 2
    assert calls[1] == [(1, 1, 0.5), (1, 2, 0.4)]


def test_the_timer_flushes_and_close_writes_the_rest():
    written = threading.Event()
    batches = []

    def write(batch):
        batches.append(batch)
        written.set()

    b = ReportBatcher(write, interval=0.01).start()
    b.add(1, 1, 0.5)
    written.wait()  # the timer wrote it: nothing else flushed
    b.add(1, 2, 0.4)
    b.close()  # may race the timer for (1, 2): either way it is written exactly once
    assert [r for batch in batches for r in batch] == [(1, 1, 0.5), (1, 2, 0.4)]
    with pytest.raises(ValueError, match="interval must be > 0 seconds, got 0"):
        ReportBatcher(write, interval=0)


# -- the storage: one append / one transaction per flush -----------------------------------
def _study_with_trials(path, n):
    storage = StudyStorage(path)
    from honed.tune.space import SearchSpace

    space = SearchSpace.from_config(X)
    row = storage.create_study("s", "minimize", space.to_json(), {"name": "random"}, 0)
    ids = [storage.create_trial(row["id"], {"x": 0.5}, space, k)[0] for k in range(n)]
    return storage, row["id"], ids


def _count_writes(storage):
    """How many journal appends / SQLite commits the storage makes from now on."""
    counts = {"writes": 0}
    st = storage.optuna
    if storage.kind == "journal":
        backend = st._backend
        append = backend.append_logs

        def counted(logs):
            counts["writes"] += 1
            return append(logs)

        backend.append_logs = counted
    else:
        from sqlalchemy import event

        event.listen(
            st.engine, "commit", lambda conn: counts.__setitem__("writes", counts["writes"] + 1)
        )
    return counts


@pytest.mark.parametrize("suffix", [".journal", ".sqlite"])
def test_one_write_per_flush_and_every_value_arrives(tmp_path, suffix):
    path = tmp_path / f"s{suffix}"
    storage, sid, ids = _study_with_trials(path, 16)
    counts = _count_writes(storage)
    with storage.batched_reports(interval=3600) as batcher:
        for epoch in range(1, 4):
            for tid in ids:
                storage.report(tid, epoch, tid + epoch / 10)
        assert counts["writes"] == 0 and batcher.pending() == 48
        storage.flush_reports()
        assert counts["writes"] == 1
        storage.report(ids[0], 3, 0.25)  # the same step again: the later value wins
        storage.report(ids[1], 4, 0.75)
    assert counts["writes"] == 2 and batcher.writes == 2
    trials = {t.number: t for t in StudyStorage(path).get_trials(sid)[0]}  # a fresh reader
    for k, tid in enumerate(ids):
        expected = {e: tid + e / 10 for e in range(1, 4)}
        expected.update({0: {3: 0.25}, 1: {4: 0.75}}.get(k, {}))
        assert trials[k].intermediate == pytest.approx(expected)


@pytest.mark.parametrize("suffix", [".journal", ".sqlite"])
def test_values_are_written_before_the_trial_finishes(tmp_path, suffix):
    path = tmp_path / f"s{suffix}"
    storage, sid, ids = _study_with_trials(path, 3)
    with storage.batched_reports(interval=3600) as batcher:
        for tid in ids:
            storage.report(tid, 1, 0.5)
            storage.report(tid, 2, 0.4)
        storage.finish(ids[1], "complete", 0.4)
        assert batcher.pending() == 0  # every pending value went first
        storage.report(ids[1], 3, 0.3)  # too late: the trial is finished
        storage.report(ids[0], 3, 0.3)
    trials = StudyStorage(path).get_trials(sid)[0]
    assert trials[1].state == "complete" and trials[1].intermediate == {1: 0.5, 2: 0.4}
    assert trials[0].intermediate == {1: 0.5, 2: 0.4, 3: 0.3}
    assert trials[2].intermediate == {1: 0.5, 2: 0.4}


@pytest.mark.parametrize("suffix", [".journal", ".sqlite"])
def test_recording_an_outcome_is_one_write(tmp_path, suffix):
    from honed.tune.space import Uniform

    storage, sid, ids = _study_with_trials(tmp_path / f"s{suffix}", 1)
    counts = _count_writes(storage)
    storage.finish(
        ids[0],
        "complete",
        0.25,
        duration=1.5,
        worker="here",
        new_params={"y": (0.5, Uniform(0, 1))},
        user_attrs={"epochs": 3, "note": "ok"},
    )
    assert counts["writes"] == 1
    t = StudyStorage(tmp_path / f"s{suffix}").get_trials(sid)[0][0]
    assert (t.state, t.value, t.params["y"], t.user_attrs) == (
        "complete",
        0.25,
        0.5,
        {"epochs": 3, "note": "ok"},
    )
    assert (t.duration, t.worker) == (1.5, "here")


def test_an_optuna_pruner_decides_on_values_it_can_read(tmp_path, monkeypatch):
    """Median pruning in the driver makes the same decisions with batched reports as with
    every value written at once (the flush before each decision)."""
    monkeypatch.setattr(batching, "REPORT_INTERVAL", 3600.0)  # no timed flush
    run = partial(optimize, curves, X, 12, executor="inprocess", pruner="median", progress=False)
    batched = run(tmp_path / "b.journal")

    @contextlib.contextmanager
    def at_once(self, interval=None):
        yield None

    monkeypatch.setattr(StudyStorage, "batched_reports", at_once)
    direct = run(tmp_path / "d.journal")
    states = [t.state for t in batched.trials]
    assert "pruned" in states and states == [t.state for t in direct.trials]
    assert [t.intermediate for t in batched.trials] == [t.intermediate for t in direct.trials]


# -- real processes: Ctrl-C, SIGTERM, SIGKILL ------------------------------------------------
def _drive(tmp_path, executor, sig, wait_stored=False, interval=3600.0):
    db, marker = tmp_path / "s.journal", tmp_path / "signalled"
    workers = {"inprocess": 1, "process": 2, "population": 2}[executor]
    script = textwrap.dedent(f"""
        import os, signal
        from functools import partial
        from honed.tune import batching, optimize
        from honed.tune.synthetic import report_then_signal
        from honed.train.signals import terminate_as_interrupt
        batching.REPORT_INTERVAL = {interval!r}
        if __name__ == "__main__":  # the driver (workers import this module too)
            os.environ["HONED_TEST_DRIVER_PID"] = str(os.getpid())
            signal.signal(signal.SIGINT, signal.default_int_handler)  # a terminal's Ctrl-C
            objective = partial(report_then_signal, epochs=20, signal_at=6,
                                marker={str(marker)!r}, sig={int(sig)},
                                wait_stored={str(db) if wait_stored else None!r})
            with terminate_as_interrupt():  # as the command line runs a study
                optimize(objective, {X!r}, 4, {str(db)!r}, executor={executor!r},
                         workers={workers}, progress=False)
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):  # the session: driver and workers
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, out, db


@pytest.mark.parametrize(
    ("executor", "sig"),
    [
        ("inprocess", signal.SIGINT),
        ("inprocess", signal.SIGTERM),
        ("process", signal.SIGTERM),
        ("population", signal.SIGINT),
    ],
    ids=["inprocess-ctrl-c", "inprocess-sigterm", "process-sigterm", "population-ctrl-c"],
)
def test_an_interruption_writes_the_pending_values(tmp_path, executor, sig):
    # no timed flush in the driver: only the interruption can have written them
    rc, out, db = _drive(tmp_path, executor, sig)
    assert rc != 0 and "marked interrupted; run it again to resume" in out, out
    trial = Study(db).trials[0]
    assert trial.state == "interrupted"
    assert set(range(1, 7)) <= set(trial.intermediate), trial.intermediate
    assert all(
        trial.intermediate[e] == pytest.approx(trial.params["x"] + 1 / e) for e in range(1, 7)
    )


def test_sigkill_loses_only_what_the_timed_flush_had_not_written_and_the_study_resumes(tmp_path):
    # the objective waits until the timer has written epochs 1..6 (nothing else writes
    # while the trial runs), then its driver is killed
    rc, out, db = _drive(tmp_path, "inprocess", signal.SIGKILL, wait_stored=True, interval=0.5)
    assert rc == -signal.SIGKILL, out
    crashed = Study(db).trials
    assert crashed[0].state == "running" and sorted(crashed[0].intermediate)[:6] == list(
        range(1, 7)
    )
    study = optimize(partial(curves, epochs=20), X, 4, db, executor="inprocess", progress=False)
    trials = study.trials
    assert [t.state for t in trials] == ["complete"] * 4
    assert trials[0].attempts == 2 and trials[0].params == crashed[0].params
    assert sorted(trials[0].intermediate) == list(range(1, 21))


# -- optuna-dashboard sees values of a running population study ------------------------------
class _Gate:
    """Lets the test release each epoch and learn when it was reported."""

    def __init__(self):
        self.release = {e: threading.Event() for e in range(1, 4)}
        self.reported = {e: threading.Barrier(3) for e in range(1, 4)}  # 2 trials + the test
        self.done = threading.Event()


def gated_curve(trial, gate):
    """``curves`` that waits for the test before each epoch and after the last."""
    value = 0.0
    for epoch in range(1, 4):
        gate.release[epoch].wait()
        value = trial.params["x"] + 1.0 / epoch
        trial.report(epoch, value)
        gate.reported[epoch].wait()
    gate.done.wait()
    return value


def _api(base, route):
    with urllib.request.urlopen(base + route, timeout=30) as r:
        return json.load(r)


def test_dashboard_shows_per_epoch_values_of_a_running_population_study(tmp_path):
    pytest.importorskip("optuna_dashboard")
    from honed.tune.dashboard import serve

    path = tmp_path / "s.journal"
    gate = _Gate()
    Study(path, "live", space=X)  # the file exists before the dashboard opens it
    run = threading.Thread(
        target=optimize,
        args=(partial(gated_curve, gate=gate), X, 2, path, "live"),
        kwargs={"executor": "population", "workers": 2, "progress": False},
        daemon=True,
    )
    run.start()
    server, url = serve(path, host="127.0.0.1", port=0)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    base = url.removesuffix("dashboard/")
    try:
        sid = _api(base, "api/studies")["study_summaries"][0]["study_id"]
        for epoch in range(1, 4):
            gate.release[epoch].set()
            gate.reported[epoch].wait()  # both trials reported the epoch, and now wait
            seen: list = []
            polls = 0
            while len(seen) < 2 or any(len(v) < epoch for v in seen):
                # only the timed flush can write them: both trials are blocked, running
                trials = _api(base, f"api/studies/{sid}?after=0")["trials"]
                seen = [t["intermediate_values"] for t in trials]
                assert all(t["state"] == "Running" for t in trials)
                polls += 1
                assert polls < 20_000, "the values never showed"  # a hang guard, not a clock
            assert all(v[-1]["step"] == epoch for v in seen)
        gate.done.set()
        run.join()
        assert [t.state for t in Study(path, "live").trials] == ["complete"] * 2
    finally:
        gate.done.set()
        for e in gate.release.values():
            e.set()
        server.shutdown()
        server.server_close()
        serving.join(timeout=30)
