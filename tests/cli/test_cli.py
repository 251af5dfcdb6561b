"""Every CLI command, in-process on tiny data; plus a SIGKILLed run resumed exactly."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from honed.cli import main
from honed.train import list_checkpoints, load_state

TINY = """
name = "tiny"
seed = 3
[data]
dataset = "moons"
n_samples = 300
noise = 0.2
[model]
hidden = [8]
activation = "tanh"
keep_prob = 0.9
[train]
lr = 0.02
batch_size = 32
epochs = 4
"""


@pytest.fixture
def experiment(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def only_run(out: Path) -> Path:
    runs = list(out.iterdir())
    assert len(runs) == 1
    return runs[0]


def test_train_writes_a_run_directory(experiment, tmp_path, capsys):
    assert (
        main(["train", str(experiment), "--out", str(tmp_path / "runs"), "--set", "train.epochs=3"])
        == 0
    )
    run = only_run(tmp_path / "runs")
    for name in (
        "config.json",
        "run.json",
        "metrics.csv",
        "metrics.jsonl",
        "model.npz",
        "curves.png",
        "summary.json",
    ):
        assert (run / name).exists(), name
    assert sorted(list_checkpoints(run / "checkpoints")) == [1, 2, 3]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "complete" and set(summary["errors"]) == {"train", "dev", "test"}
    assert json.loads((run / "config.json").read_text())["train"]["epochs"] == 3
    out = capsys.readouterr().out
    assert "verdict:" in out and "test" in out


def test_bad_config_fails_before_training_with_dotted_key(experiment, tmp_path, capsys):
    assert (
        main(["train", str(experiment), "--out", str(tmp_path / "runs"), "--set", "train.lr=-1"])
        == 1
    )
    assert "train.lr must be > 0, got -1" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
    assert main(["train", str(experiment), "--set", "model.hiden=3"]) == 1
    assert "unknown key model.hiden" in capsys.readouterr().err


def test_diverging_lr_exits_nonzero_with_message(experiment, tmp_path, capsys):
    code = main(
        [
            "train",
            str(experiment),
            "--out",
            str(tmp_path / "runs"),
            "--set",
            "train.lr=1e3",
            "--set",
            "train.optimizer='gd'",
            "--set",
            "model.activation='relu'",
            "--set",
            "train.epochs=30",
        ]
    )
    assert code == 3
    out = capsys.readouterr().out
    assert "training diverged" in out and "Traceback" not in out
    run = only_run(tmp_path / "runs")
    assert json.loads((run / "run.json").read_text())["status"] == "diverged"


def test_resume_with_new_lr_records_the_change(experiment, tmp_path, capsys):
    main(["train", str(experiment), "--out", str(tmp_path / "runs"), "--quiet"])
    run = only_run(tmp_path / "runs")
    assert main(["resume", str(run), "--epochs", "6", "--lr", "0.005", "--from-epoch", "2"]) == 0
    run = run.parent / f"{run.name}-e2"  # --from-epoch forks; the parent stays as it was
    state = load_state(list_checkpoints(run / "checkpoints")[6])
    history = state["history"]
    assert [e["epoch"] for e in history["epochs"]] == [1, 2, 3, 4, 5, 6]
    assert [e["lr"] for e in history["epochs"]][2:] == [0.005] * 4
    assert {"epoch": 2, "event": "lr", "value": 0.005} in history["events"]
    assert main(["report", str(run), "--plot"]) == 0
    assert "curves:" in capsys.readouterr().out


def test_resume_errors_are_clear(tmp_path, capsys):
    assert main(["resume", str(tmp_path)]) == 1
    assert "not a run directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    "train, dev, verdict",
    [
        (0.01, 0.11, "high variance"),
        (0.15, 0.16, "high bias"),
        (0.15, 0.30, "high bias and high variance"),
        (0.005, 0.01, "low bias and low variance"),
    ],
)
def test_diagnose_the_four_cases_of_the_notes(train, dev, verdict, capsys):
    assert main(["diagnose", "--train-error", str(train), "--dev-error", str(dev)]) == 0
    assert f"verdict: {verdict}\n" in capsys.readouterr().out


def test_diagnose_a_run_and_bad_input(experiment, tmp_path, capsys):
    main(["train", str(experiment), "--out", str(tmp_path / "runs"), "--quiet"])
    assert main(["diagnose", str(only_run(tmp_path / "runs"))]) == 0
    assert "avoidable bias" in capsys.readouterr().out
    assert main(["diagnose", "--train-error", "1.5", "--dev-error", "0.1"]) == 1
    assert "--train-error must be in [0, 1], got 1.5" in capsys.readouterr().err


def test_gradcheck_command(experiment, capsys):
    assert main(["gradcheck", str(experiment), "--set", "model.batch_norm=true"]) == 0
    out = capsys.readouterr().out
    assert "dropout switched off" in out and "correct" in out and "layers.0.W" in out


def _commands():
    from honed.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(sub.choices)


def test_the_command_list_is_complete():
    assert {"train", "resume", "report", "diagnose", "gradcheck", "tune", "study", "config"} <= set(
        _commands()
    )


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help(command, capsys):
    """Each command's --help shows its usage, its docstring and every option it takes."""
    from honed import cli
    from honed.cli import build_parser

    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: honed {command}")
    func = getattr(cli, f"cmd_{command}")
    first_line = func.__doc__.strip().splitlines()[0]
    assert first_line.split()[0] in out  # the docstring is the help
    sub = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    for action in sub._actions:
        for flag in action.option_strings:
            assert flag in out, (command, flag)


@pytest.mark.slow
def test_sigkilled_run_resumes_to_the_same_weights(tmp_path):
    """Kill `honed train` after its epoch-3 checkpoint; `honed resume` must end where an
    uninterrupted run ends, bit for bit."""
    exp = tmp_path / "kill.toml"
    exp.write_text(
        TINY.replace("n_samples = 300", "n_samples = 4000")
        .replace("batch_size = 32", "batch_size = 4")
        .replace("epochs = 4", "epochs = 6")
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "honed", "train", str(exp), "--quiet"]
    subprocess.run(
        command + ["--out", str(tmp_path / "full")], check=True, env=env, capture_output=True
    )

    proc = subprocess.Popen(
        command + ["--out", str(tmp_path / "killed")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        checkpoint = None
        while proc.poll() is None:
            found = list((tmp_path / "killed").glob("*/checkpoints/epoch-0003.npz"))
            if found:
                checkpoint = found[0]
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        proc.wait()
    assert checkpoint is not None and proc.returncode == -signal.SIGKILL, (
        "the run finished before the kill"
    )
    run = checkpoint.parent.parent
    assert 6 not in list_checkpoints(run / "checkpoints")
    subprocess.run(
        [sys.executable, "-m", "honed", "resume", str(run), "--quiet"], check=True, env=env
    )

    full_run = only_run(tmp_path / "full")
    a = load_state(list_checkpoints(full_run / "checkpoints")[6])["model"]
    b = load_state(list_checkpoints(run / "checkpoints")[6])["model"]
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
