"""A worker process killed mid-study costs only its own trial's time (real processes).

Trials run ``gated_bowl``: each says which process runs it on a FIFO and waits at its own
gate, so the test kills one worker while both are in the middle of a trial.
"""

import contextlib
import os
import select
import signal
import threading
from functools import partial

from honed.tune import Study, TrialState, optimize
from honed.tune.storage import driver_id
from honed.tune.synthetic import gated_bowl, killing_bowl

BOWL = {"lr": {"log": [1e-4, 1]}, "beta": {"one_minus_log": [0.9, 0.999]}}
N = 4


def _open_gate(gate, number):
    with open(gate / f"go-{number}", "w"):  # the trial reads until this closes
        pass


def _release_all(gate, thread):
    """After a failure: let every trial still waiting at a gate go (never blocks)."""
    for _ in range(600):  # a guard against hanging, not a time limit on honed
        if not thread.is_alive():
            return
        for n in range(N):
            with contextlib.suppress(OSError):  # ENXIO: nobody waits at this gate
                os.close(os.open(gate / f"go-{n}", os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=0.2)


def test_a_killed_worker_costs_only_its_trial_and_the_other_goes_on(tmp_path, capfd):
    gate, db = tmp_path / "gate", tmp_path / "s.journal"
    gate.mkdir()
    for name in ["events", *(f"go-{n}" for n in range(N))]:
        os.mkfifo(gate / name)
    # read-write: the FIFO never reports end-of-file between two workers' writes
    events = os.open(gate / "events", os.O_RDWR)
    pending = [b""]
    outcome = {}

    def drive():
        try:
            outcome["study"] = optimize(
                partial(gated_bowl, gate=str(gate)),
                BOWL,
                N,
                db,
                workers=2,
                executor="process",
                progress=False,
            )
        except BaseException as err:  # reported by the asserts below
            outcome["error"] = err

    def started():
        while b"\n" not in pending[0]:
            # a guard against hanging if no trial ever starts, not a time limit on honed
            ready, _, _ = select.select([events], [], [], 120)
            assert ready, f"no trial started; the driver: {outcome}"
            pending[0] += os.read(events, 4096)
        line, pending[0] = pending[0].split(b"\n", 1)
        word, number, pid = line.decode().split()
        assert word == "start"
        return int(number), int(pid)

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    try:
        first = dict([started(), started()])  # trial number -> worker pid
        assert sorted(first) == [0, 1]
        os.kill(first[0], signal.SIGKILL)  # trial 0's worker dies mid-trial
        again, pid = started()
        assert again == 0 and pid not in first.values()  # a fresh process runs it again
        _open_gate(gate, 1)  # the survivor was waiting all along: it finishes now
        _open_gate(gate, 0)
        rest = dict([started(), started()])
        assert sorted(rest) == [2, 3]
        for n in rest:
            _open_gate(gate, n)
        driver.join(timeout=120)  # a guard against hanging, not a time limit on honed
        assert not driver.is_alive(), "the study did not finish"
    finally:
        _release_all(gate, driver)
        os.close(events)
    assert "error" not in outcome, outcome
    said = capfd.readouterr().err
    assert f"worker process {first[0]} was killed by SIGKILL" in said, said
    assert "its trial runs again in a fresh worker (re-run 1 of 2)" in said, said
    trials = outcome["study"].trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * N
    host = driver_id().split(":")[0]
    assert trials[1].worker == f"{host}:{first[1]}"  # untouched: the same process, once
    assert trials[0].worker == f"{host}:{pid}"
    assert all(t.attempts == 1 and t.error is None for t in trials)

    # resuming finds nothing to do: every trial complete, exactly once
    resumed = optimize(gated_bowl, BOWL, N, db, executor="inprocess", progress=False)
    assert [(t.state, t.value, t.finished) for t in resumed.trials] == [
        (t.state, t.value, t.finished) for t in trials
    ]
    assert [t.value for t in Study(db).trials] == [t.value for t in trials]


def test_a_trial_that_kills_its_worker_every_time_is_recorded_failed_and_the_study_goes_on(
    tmp_path,
):
    log, db = tmp_path / "runs.log", tmp_path / "s.journal"
    objective = partial(killing_bowl, log=str(log), kill=1)
    study = optimize(objective, BOWL, 5, db, workers=2, executor="process", progress=False)
    states = [t.state for t in study.trials]
    assert states == ["complete", "failed", "complete", "complete", "complete"]
    error = study.trials[1].error
    assert "killed by SIGKILL" in error and "it ran 3 times" in error, error
    runs = [line.split() for line in log.read_text().splitlines()]
    pids = [pid for number, pid in runs if number == "1"]
    assert len(pids) == 3 and len(set(pids)) == 3  # each time in a fresh worker
    assert sorted(number for number, _ in runs if number != "1") == ["0", "2", "3", "4"]
