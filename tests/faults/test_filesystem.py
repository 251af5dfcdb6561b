"""File-system faults on real mounts: a full disk (a small tmpfs) and a read-only file system.

Root ignores permission bits, so "permission denied" is simulated by a read-only mount
(EROFS), which stops root too. The tests skip, saying why, where mounting is not allowed.
"""

import errno
import shutil
import subprocess

import numpy as np
import pytest

from honed.train import list_checkpoints, load_state, save_state
from honed.train.durable import atomic_write, write_json

from .conftest import TINY, digest


def _mount(point, *options):
    point.mkdir(exist_ok=True)
    cmd = ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(point)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not permitted'})")


def _remount(point, *options):
    subprocess.run(["mount", "-o", ",".join(("remount", *options)), str(point)], check=True)


@pytest.fixture
def mount_point(tmp_path):
    point = tmp_path / "mnt"
    yield point
    subprocess.run(["umount", str(point)], capture_output=True)


def _fill(point):
    """Fill the file system until a write fails with ENOSPC."""
    with open(point / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
                f.flush()
        except OSError as err:
            assert err.errno == errno.ENOSPC


WRITERS = {
    "checkpoint": lambda p: save_state(p, {"w": np.ones(50_000)}),
    "json": lambda p: write_json(p, {"x": list(range(50_000))}),
    "text": lambda p: atomic_write(p, "y" * 300_000),
}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_full_disk_keeps_the_old_file_and_leaves_no_temporary(writer, mount_point):
    _mount(mount_point, "size=1m")
    target = mount_point / "state.out"
    target.write_bytes(b"the previous, complete version")
    _fill(mount_point)
    with pytest.raises(OSError) as info:
        WRITERS[writer](target)
    assert info.value.errno == errno.ENOSPC
    assert str(target) in str(info.value) and "disk is full" in str(info.value)
    assert target.read_bytes() == b"the previous, complete version"
    assert sorted(p.name for p in mount_point.iterdir()) == ["filler", "state.out"]


BIG = TINY.replace("hidden = [6]", "hidden = [96, 96]").replace("epochs = 3", "epochs = 40")


def test_training_onto_a_full_disk_stops_cleanly_and_resumes_after(cli, mount_point, tmp_path):
    _mount(mount_point, "size=512k")
    exp = tmp_path / "big.toml"
    exp.write_text(BIG)
    r = cli("train", exp, "--out", mount_point, "--quiet")
    assert r.code == 1, r
    assert "disk is full" in r.err and "every earlier checkpoint is kept" in r.err, r
    (run,) = mount_point.iterdir()
    saved = list_checkpoints(run / "checkpoints")
    assert saved and max(saved) < 40
    for path in saved.values():  # every checkpoint on disk is complete
        assert load_state(path)["epoch"] >= 1
    assert not [p for p in run.rglob("*") if p.name.endswith(".tmp")]
    _remount(mount_point, "size=16m")
    r = cli("resume", run, "--quiet")
    assert r.code == 0, r
    assert 40 in list_checkpoints(run / "checkpoints")


@pytest.fixture
def read_only_run(finished_run, mount_point):
    _mount(mount_point, "size=8m")
    run = shutil.copytree(finished_run, mount_point / finished_run.name)
    _remount(mount_point, "ro")
    return run


@pytest.mark.parametrize("command", ["report", "diagnose"])
def test_read_only_commands_work_on_a_read_only_file_system(command, read_only_run, cli):
    before = digest(read_only_run)
    r = cli(command, read_only_run)
    assert r.code == 0, r
    assert digest(read_only_run) == before


def test_report_plot_on_a_read_only_file_system_names_the_file(read_only_run, cli):
    r = cli("report", read_only_run, "--plot")
    assert r.code == 1 and "read-only" in r.err and "curves.png" in r.err, r


def test_resume_on_a_read_only_file_system_is_refused_and_changes_nothing(read_only_run, cli):
    before = digest(read_only_run)
    r = cli("resume", read_only_run, "--epochs", "5")
    assert r.code == 1 and "read-only" in r.err and str(read_only_run) in r.err, r
    assert digest(read_only_run) == before


def test_train_into_a_read_only_directory_is_refused(cli, experiment, mount_point):
    _mount(mount_point, "size=1m", "ro")
    r = cli("train", experiment, "--out", mount_point / "runs")
    assert r.code == 1 and "read-only" in r.err and str(mount_point) in r.err, r


@pytest.mark.parametrize("what", ["out-is-a-file", "out-below-a-file"])
def test_out_that_is_not_a_directory(what, cli, experiment, tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    out = f if what == "out-is-a-file" else f / "runs"
    r = cli("train", experiment, "--out", out)
    assert r.code == 1 and "afile" in r.err, r
    assert f.read_text() == "x"


def test_a_directory_where_the_checkpoint_goes(cli, experiment, tmp_path):
    out = tmp_path / "runs"
    r = cli("train", experiment, "--out", out, "--quiet")
    (run,) = out.iterdir()
    blocker = run / "checkpoints" / "epoch-0004.npz"
    blocker.mkdir()
    r = cli("resume", run, "--epochs", "4", "--quiet")
    assert r.code == 1 and "epoch-0004.npz" in r.err and "directory" in r.err, r
    assert sorted(list_checkpoints(run / "checkpoints"))[:3] == [1, 2, 3]
    assert load_state(run / "checkpoints" / "epoch-0003.npz")["epoch"] == 3
