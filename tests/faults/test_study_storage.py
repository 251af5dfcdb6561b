"""Study files under faults: a read-only directory, a disk that fills mid-study, a database
locked by another program, two drivers racing on a new file, the driver lock left behind.

Every case ends in one line naming the file (no SQLAlchemy or Optuna traceback), and the
trials already recorded are kept.  File-system faults use real tmpfs mounts, as in
``test_filesystem.py``.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from honed.experiment.tuning import open_study
from honed.tune import StudyStorage

from .conftest import TINY
from .test_filesystem import _fill, _mount, _remount

ROOT = Path(__file__).parents[2]
TUNE = TINY + '[tune]\ntrials = 4\n[tune.space]\n"train.lr" = { log = [1e-3, 1e-1] }\n'
SUFFIXES = [".sqlite", ".journal"]


@pytest.fixture
def mount_point(tmp_path):
    point = tmp_path / "mnt"
    yield point
    if subprocess.run(["umount", str(point)], capture_output=True).returncode:
        # an SQLite connection the in-process CLI left open keeps it busy: detach it
        subprocess.run(["umount", "-l", str(point)], capture_output=True)


@pytest.fixture
def tune_exp(tmp_path) -> Path:
    path = tmp_path / "tinytune.toml"
    path.write_text(TUNE)
    return path


def tune(cli, exp, study, *more):
    return cli("tune", exp, "--study", study, "--executor", "inprocess", *more)


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_tune_into_a_read_only_directory_names_the_file(suffix, cli, tune_exp, mount_point):
    _mount(mount_point, "size=1m", "ro")
    study = mount_point / f"s{suffix}"
    r = tune(cli, tune_exp, study)
    assert r.code == 1 and str(study) in r.err and "read-only" in r.err, r


def test_an_sqlite_study_on_a_read_only_file_system_can_be_shown(
    cli, tune_exp, mount_point, tmp_path
):
    made = tmp_path / "s.sqlite"
    assert tune(cli, tune_exp, made, "--trials", "2").code == 0
    _mount(mount_point, "size=2m")
    study = Path(shutil.copy(made, mount_point))
    _remount(mount_point, "ro")
    r = cli("study", "show", study)
    assert r.code == 0 and "2 complete" in r.out, r
    r = tune(cli, tune_exp, study, "--trials", "3")  # resuming needs to write: refused
    assert r.code == 1 and str(study) in r.err and "read-only" in r.err, r


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_a_disk_that_fills_mid_study_stops_cleanly_and_resumes(suffix, cli, tune_exp, mount_point):
    _mount(mount_point, "size=1m")
    study = mount_point / f"s{suffix}"
    assert tune(cli, tune_exp, study, "--trials", "1").code == 0
    _fill(mount_point)
    filler = mount_point / "filler"
    os.truncate(filler, filler.stat().st_size - 48 * 1024)  # room for a few trials
    r = tune(cli, tune_exp, study, "--trials", "400")
    assert r.code == 1, r
    assert f"study file {study}: the disk is full" in r.err and "kept" in r.err, r
    before = [t for t in open_study(study).trials if t.state == "complete"]
    assert len(before) > 1  # the study ran until the disk filled
    filler.unlink()
    n = len(open_study(study).trials) + 2
    assert tune(cli, tune_exp, study, "--trials", str(n)).code == 0
    after = open_study(study).trials
    assert [t.state for t in after] == ["complete"] * n
    for t in before:  # completed trials are kept as they were
        assert (after[t.number].value, after[t.number].finished) == (t.value, t.finished)


def test_a_database_locked_by_another_program_is_named(cli, tune_exp, tmp_path, monkeypatch):
    study = tmp_path / "s.sqlite"
    assert tune(cli, tune_exp, study, "--trials", "2").code == 0
    monkeypatch.setattr(StudyStorage, "busy_timeout", 0.2)  # not a minute, in a test
    other = sqlite3.connect(study, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program writing to the file
    try:
        for argv in (["study", "show", study], ["tune", tune_exp, "--study", study]):
            r = cli(*argv)
            assert r.code == 1 and str(study) in r.err and "locked" in r.err, r
            assert "damaged" not in r.err, r
    finally:
        other.close()
    assert [t.state for t in open_study(study).trials] == ["complete"] * 2


def test_study_show_of_a_missing_name_lists_the_studies_in_the_file(cli, tune_exp, tmp_path):
    study = tmp_path / "s.journal"
    assert tune(cli, tune_exp, study, "--trials", "1").code == 0
    r = cli("study", "show", study, "--name", "x")
    assert r.code == 1 and str(study) in r.err and "it holds: tiny" in r.err, r
    assert "search space" not in r.err, r


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_no_driver_lock_is_left_beside_a_finished_study(suffix, cli, tune_exp, tmp_path):
    study = tmp_path / f"s{suffix}"
    assert tune(cli, tune_exp, study, "--trials", "2").code == 0
    assert tune(cli, tune_exp, study, "--trials", "3").code == 0  # resumed
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([study.name, tune_exp.name])


HOLD = """
import fcntl, sys
f = open(sys.argv[1], "a+")
fcntl.flock(f, fcntl.LOCK_EX)
f.write("elsewhere:4242"); f.flush()
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


def test_a_lock_held_by_another_live_driver_is_never_removed(cli, tune_exp, tmp_path):
    study = tmp_path / "s.journal"
    lock = Path(f"{study}.driver-lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        r = tune(cli, tune_exp, study)
        assert r.code == 1 and "is being run by elsewhere:4242" in r.err, r
        assert lock.read_text() == "elsewhere:4242"  # still there, still the holder's
        assert not study.exists()  # the refused driver did not touch the study file
    finally:
        holder.stdin.close()
        holder.wait()
    assert tune(cli, tune_exp, study).code == 0  # the holder is gone: the lock is free
    assert not lock.exists()


DRIVER = """
import sys
from honed.cli import main  # imported before the start signal: the drivers start together
import optuna  # noqa: F401
sys.stdin.read(1)
sys.exit(main(sys.argv[1:]))
"""


def test_drivers_racing_on_a_new_sqlite_study_one_runs_the_others_are_refused(tune_exp, tmp_path):
    study = tmp_path / "s.sqlite"
    argv = ["tune", str(tune_exp), "--study", str(study), "--executor", "inprocess"]
    argv += ["--trials", "12"]
    drivers = [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, *argv],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for d in drivers:  # go
        d.stdin.write("x")
        d.stdin.flush()
    results = [(*reversed(d.communicate(timeout=600)), d.returncode)[::-1] for d in drivers]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1, 1, 1], results
    for code, _, err in results:
        assert "Traceback" not in err, err
        if code == 1:
            assert f"study 'tiny' in {study} is being run by" in err, err
    assert StudyStorage(study).study_names() == ["tiny"]
    trials = open_study(study).trials
    assert [(t.number, t.state, t.attempts) for t in trials] == [
        (n, "complete", 1) for n in range(12)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.sqlite", "tinytune.toml"]


def test_an_optuna_sqlite_study_beside_a_new_journal_is_not_called_old_format(
    cli, tune_exp, tmp_path
):
    assert tune(cli, tune_exp, tmp_path / "s.sqlite", "--trials", "1").code == 0
    r = tune(cli, tune_exp, tmp_path / "s.journal", "--trials", "1")
    assert r.code == 0 and "old format" not in r.err, r


def test_an_old_format_study_beside_a_new_journal_still_gets_the_upgrade_command(
    cli, tune_exp, tmp_path
):
    shutil.copy(ROOT / "tests" / "tune" / "data" / "study_v1.sqlite", tmp_path / "s.sqlite")
    r = tune(cli, tune_exp, tmp_path / "s.journal", "--trials", "1")
    assert r.code == 1 and f"honed study upgrade {tmp_path / 's.sqlite'}" in r.err, r


def test_an_empty_sqlite_file_becomes_an_sqlite_study(cli, tune_exp, tmp_path):
    study = tmp_path / "s.sqlite"
    study.touch()
    assert tune(cli, tune_exp, study, "--trials", "2").code == 0
    assert study.read_bytes().startswith(b"SQLite format 3\0")  # not a journal in disguise
    assert [t.state for t in open_study(study).trials] == ["complete"] * 2
