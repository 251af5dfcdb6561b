"""SQLite storage contract: atomic claims, guarded finishes, many writers at once."""

import multiprocessing
import pickle

from honed.tune import SQLiteStorage, TrialState

SPACE = {"x": {"uniform": [0, 1]}}


def _new(path):
    s = SQLiteStorage(path)
    row = s.create_study("s", "minimize", SPACE, {"name": "random"}, 0)
    return s, row["id"]


def _sample(number, history):
    return {"x": number / 100}, number


def test_claim_finish_and_reclaim(tmp_path):
    s, sid = _new(tmp_path / "s.db")
    assert s.create_study("s", "minimize", SPACE, {"name": "random"}, 0)["id"] == sid
    a = s.claim(sid, 2, _sample)
    b = s.claim(sid, 2, _sample)
    assert (a.number, b.number, a.state) == (0, 1, TrialState.RUNNING)
    assert s.claim(sid, 2, _sample) is None
    assert s.claim(sid, 3, _sample, ready=lambda n, h: False) == "wait"
    s.report_intermediate(sid, 1, 1, 0.5)
    assert s.finish(sid, 0, 1, TrialState.COMPLETE, value=0.25)
    assert not s.finish(sid, 0, 1, TrialState.FAILED)  # finished trials stay finished
    s.mark_interrupted(sid, [1])
    again = s.claim(sid, 2, _sample)
    assert (again.number, again.params, again.seed, again.attempts) == (1, b.params, 1, 2)
    assert s.intermediate_at(sid, 1) == {}  # the dead attempt's curve is dropped
    assert not s.finish(sid, 1, 1, TrialState.COMPLETE, value=9.0)  # stale attempt
    assert s.finish(sid, 1, 2, TrialState.COMPLETE, value=0.5)
    assert [t.value for t in s.get_trials(sid)] == [0.25, 0.5]
    # it pickles as its path: each process opens its own connection
    s2 = pickle.loads(pickle.dumps(s))
    assert [t.value for t in s2.get_trials(sid)] == [0.25, 0.5]


def test_recover_stale_marks_only_dead_drivers(tmp_path):
    s, sid = _new(tmp_path / "s.db")
    s.claim(sid, 2, _sample, driver="nohost-xyz:1")
    s.claim(sid, 2, _sample, driver=f"{__import__('socket').gethostname()}:999999999")
    assert s.recover_stale(sid) == [1]
    assert s.recover_stale(sid, everything=True) == [0]


def _writer(path, sid, k):
    s = SQLiteStorage(path)
    for step in range(40):
        s.report_intermediate(sid, k, step, k + step / 100)
    for _ in range(5):
        t = s.claim(sid, 1000, _sample)
        s.finish(sid, t.number, t.attempts, TrialState.COMPLETE, value=float(k))


def test_many_processes_write_at_once(tmp_path):
    path = str(tmp_path / "s.db")
    s, sid = _new(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, sid, k)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    trials = s.get_trials(sid)
    assert [t.number for t in trials] == list(range(20))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert all(len(s.intermediate_at(sid, step)) == 4 for step in range(40))
