"""Damaged run directories: resume, report and diagnose refuse clearly, lose nothing, and
the read-only commands never create or change a file."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from honed.train import list_checkpoints, load_state

from .conftest import TINY, digest


def _last(run):
    return list_checkpoints(run / "checkpoints")[3]


def _without_an_array(path):
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays.pop(sorted(k for k in arrays if k.startswith("a"))[0])
    with open(path, "wb") as f:
        np.savez(f, **arrays)


DAMAGE = {
    "checkpoint-truncated": lambda run: _last(run).write_bytes(_last(run).read_bytes()[:500]),
    "checkpoint-empty": lambda run: _last(run).write_bytes(b""),
    "checkpoint-not-a-zip": lambda run: _last(run).write_bytes(b"garbage" * 100),
    "checkpoint-missing-an-array": lambda run: _without_an_array(_last(run)),
    "checkpoint-no-structure": lambda run: np.savez(_last(run), a0=np.zeros(3)),
    "config-not-json": lambda run: (run / "config.json").write_text("{not json"),
    "config-not-utf8": lambda run: (run / "config.json").write_bytes(b'{"name": "\xff"}'),
    "config-missing": lambda run: (run / "config.json").unlink(),
    "config-bad-value": lambda run: (run / "config.json").write_text(
        json.dumps({**json.loads((run / "config.json").read_text()), "seed": -4})
    ),
    "checkpoints-gone": lambda run: [p.unlink() for p in (run / "checkpoints").iterdir()],
}
NAMED = {
    "checkpoint-truncated": "epoch-0003.npz",
    "checkpoint-empty": "epoch-0003.npz",
    "checkpoint-not-a-zip": "epoch-0003.npz",
    "checkpoint-missing-an-array": "epoch-0003.npz",
    "checkpoint-no-structure": "epoch-0003.npz",
    "config-not-json": "config.json",
    "config-not-utf8": "config.json",
    "config-missing": "config.json",
    "config-bad-value": "seed",
    "checkpoints-gone": "no checkpoints",
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_resume_of_a_damaged_run_is_refused_and_loses_nothing(damage, run_copy, cli):
    DAMAGE[damage](run_copy)
    before = digest(run_copy)
    r = cli("resume", run_copy, "--epochs", "4", "--quiet")
    assert r.code == 1, r
    assert NAMED[damage] in r.err, r
    assert digest(run_copy) == before  # nothing else damaged, nothing rewritten
    assert not (run_copy / "run.lock").exists()


@pytest.mark.parametrize("epoch", [1, 2])
def test_a_damaged_last_checkpoint_leaves_earlier_ones_resumable(epoch, run_copy, cli):
    DAMAGE["checkpoint-truncated"](run_copy)
    before = digest(run_copy)
    r = cli("resume", run_copy, "--from-epoch", epoch, "--epochs", "4", "--quiet")
    assert r.code == 0, r
    # --from-epoch forks RUN-eK and leaves the damaged run as it was.
    fork = run_copy.parent / f"{run_copy.name}-e{epoch}"
    assert 4 in list_checkpoints(fork / "checkpoints")
    assert digest(run_copy) == before


def test_load_state_names_a_missing_array(run_copy):
    _without_an_array(_last(run_copy))
    with pytest.raises(ValueError, match="epoch-0003.npz is damaged: the array 'a0' is missing"):
        load_state(_last(run_copy))


def test_checkpoint_that_is_a_directory(run_copy, cli):
    path = _last(run_copy)
    path.unlink()
    path.mkdir()
    r = cli("resume", run_copy, "--epochs", "4")
    assert r.code == 1 and "epoch-0003.npz" in r.err and "directory" in r.err, r


REPORT_DAMAGE = {
    "summary-not-json": (lambda run: (run / "summary.json").write_text("{"), "summary.json"),
    "summary-not-utf8": (lambda run: (run / "summary.json").write_bytes(b"\xff"), "summary.json"),
    "summary-a-list": (lambda run: (run / "summary.json").write_text("[]"), "summary.json"),
    "metrics-missing": (lambda run: (run / "metrics.jsonl").unlink(), "metrics.jsonl"),
    "metrics-damaged-line": (
        lambda run: (run / "metrics.jsonl").write_text('{"epoch": 1}\n{"epo'),
        "metrics.jsonl line 2",
    ),
}


@pytest.mark.parametrize("damage", list(REPORT_DAMAGE))
def test_report_of_a_damaged_run_names_the_file(damage, run_copy, cli):
    spoil, named = REPORT_DAMAGE[damage]
    spoil(run_copy)
    before = digest(run_copy)
    r = cli("report", run_copy)
    assert r.code == 1 and named in r.err, r
    assert digest(run_copy) == before


@pytest.mark.parametrize("damage", ["summary-not-json", "summary-not-utf8"])
def test_diagnose_of_a_damaged_run_names_the_file(damage, run_copy, cli):
    REPORT_DAMAGE[damage][0](run_copy)
    r = cli("diagnose", run_copy)
    assert r.code == 1 and "summary.json" in r.err, r


KILL_AFTER_TWO_EPOCHS = """
import os, signal, sys
import honed.experiment.runs as runs
from honed.cli import main
from honed.train.callbacks import Callback

class Kill(Callback):
    def on_epoch_end(self, trainer, epoch, logs):
        if trainer.epoch == 2:  # after epoch 2's checkpoint and metrics line
            os.kill(os.getpid(), signal.SIGKILL)

made = runs._callbacks
runs._callbacks = lambda *args: made(*args) + [Kill()]
main(["train", sys.argv[1], "--out", sys.argv[2], "--quiet"])
"""


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory):
    """A real `honed train` process SIGKILLed after its second epoch: no summary.json."""
    out = tmp_path_factory.mktemp("killed")
    exp = out / "tiny.toml"
    exp.write_text(TINY.replace("epochs = 3", "epochs = 5"))
    proc = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_TWO_EPOCHS, str(exp), str(out / "runs")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    (run,) = (out / "runs").iterdir()
    assert not (run / "summary.json").exists() and (run / "metrics.jsonl").exists()
    return run


def test_report_of_a_killed_run_says_what_happened_and_shows_its_metrics(killed_run, cli):
    before = digest(killed_run)
    r = cli("report", killed_run)
    assert r.code == 0, r
    assert "its training stopped before the end" in r.out, r
    assert "2 epoch(s) in metrics.jsonl" in r.out and f"honed resume {killed_run}" in r.out, r
    assert "checkpoints of epoch(s) 1, 2" in r.out, r
    assert "status: unfinished" in r.out and "is it a run directory" not in r.out + r.err
    table = [line.split() for line in r.out.splitlines() if line.split()[:1] in (["1"], ["2"])]
    assert len(table) == 2, r  # the two epochs that were done
    assert digest(killed_run) == before


def test_report_of_a_run_still_training_names_its_process(killed_run, cli, tmp_path):
    run = Path(shutil.copytree(killed_run, tmp_path / killed_run.name))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        lock = {"pid": holder.pid, "host": socket.gethostname(), "started": None}
        (run / "run.lock").write_text(json.dumps(lock))
        r = cli("report", run)
        assert r.code == 0 and f"still training (process {holder.pid}" in r.out, r
    finally:
        holder.stdin.close()
        holder.wait()


def test_diagnose_and_compare_of_a_killed_run_say_what_happened(killed_run, run_copy, cli):
    r = cli("diagnose", killed_run)
    assert r.code == 1 and "stopped before the end" in r.err, r
    assert f"honed report {killed_run}" in r.err, r
    r = cli("compare", run_copy, killed_run, "--out", run_copy / "c.png")
    assert r.code == 1 and "stopped before the end" in r.err, r


def test_report_of_a_directory_without_a_config_is_no_run(cli, tmp_path):
    (tmp_path / "metrics.jsonl").write_text("")
    r = cli("report", tmp_path)
    assert r.code == 1 and "has no summary.json (is it a run directory?)" in r.err, r


@pytest.mark.parametrize("command", ["report", "diagnose"])
def test_read_only_commands_create_and_change_nothing(command, run_copy, cli):
    before = digest(run_copy)
    mtimes = {p: p.stat().st_mtime_ns for p in run_copy.rglob("*")}
    r = cli(command, run_copy)
    assert r.code == 0, r
    assert digest(run_copy) == before
    assert {p: p.stat().st_mtime_ns for p in run_copy.rglob("*")} == mtimes


@pytest.mark.parametrize("command", ["report", "diagnose", "resume"])
def test_run_that_is_a_file_or_missing(command, cli, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    assert cli(command, f).code == 1
    r = cli(command, tmp_path / "missing")
    assert r.code == 1 and "missing" in r.err, r


def test_resume_refused_while_another_live_process_holds_the_run(run_copy, cli):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        lock = {"pid": holder.pid, "host": socket.gethostname(), "started": None}
        (run_copy / "run.lock").write_text(json.dumps(lock))
        before = digest(run_copy)
        r = cli("resume", run_copy, "--epochs", "5")
        assert r.code == 1 and f"in use by process {holder.pid}" in r.err, r
        assert digest(run_copy) == before
    finally:
        holder.stdin.close()
        holder.wait()


@pytest.mark.parametrize(
    "lock",
    [
        "dead-pid",
        "empty",
        "damaged",
        "reused-pid",
    ],
)
def test_stale_lock_is_taken_over(lock, run_copy, cli):
    if lock == "dead-pid":
        p = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        text = json.dumps({"pid": int(p.stdout), "host": socket.gethostname()})
    elif lock == "reused-pid":  # our own parent is alive, but started at another time
        text = json.dumps({"pid": os.getppid(), "host": socket.gethostname(), "started": "1"})
    else:
        text = {"empty": "", "damaged": "{pid"}[lock]
    (run_copy / "run.lock").write_text(text)
    r = cli("resume", run_copy, "--epochs", "4", "--quiet")
    assert r.code == 0, r
    assert 4 in list_checkpoints(run_copy / "checkpoints")
    assert not (run_copy / "run.lock").exists()
