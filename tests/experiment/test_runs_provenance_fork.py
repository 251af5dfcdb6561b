"""Run records: provenance, forking resume (parent untouched), rejected resumes, learning
rate changes on schedules, checkpoint retention, disk use."""

import hashlib
import json
from pathlib import Path

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
epochs = 6
keep_checkpoints = 0
schedule = { name = "inverse_time", decay_rate = 0.5 }
"""


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def run(tmp_path):
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY)
    assert main(["train", str(exp), "--out", str(tmp_path / "runs"), "-q", "--set", "seed=3"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    return run


def metrics(run: Path) -> list[dict]:
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x]
    return [{k: v for k, v in r.items() if k not in ("seconds", "samples_per_s")} for r in rows]


def test_run_json_records_provenance(run):
    record = json.loads((run / "run.json").read_text())
    prov = record["provenance"]
    for key in ("honed", "numpy", "python", "host", "cpus", "command", "time"):
        assert prov[key], key
    assert prov["command"][:2] == ["honed", "train"] and "seed=3" in prov["command"]
    assert record["overrides"] == {"seed": 3} and record["seed"] == 3
    assert record["parent"] is None and record["resumes"] == []
    assert record["status"] == "complete"
    git = prov["git"]  # the tests run from a checkout
    assert git is None or len(git["commit"]) == 40


def test_fork_leaves_the_parent_bit_identical_and_continues_exactly(run, capsys):
    before = tree_hashes(run)
    assert main(["resume", str(run), "--from-epoch", "3", "-q"]) == 0
    assert tree_hashes(run) == before
    fork = run.parent / f"{run.name}-e3"
    assert metrics(fork) == metrics(run)  # epochs 4..6 again, exactly as the first time
    parent_final = load_state(list_checkpoints(run / "checkpoints")[6])["model"]
    fork_final = load_state(list_checkpoints(fork / "checkpoints")[6])["model"]
    assert all((parent_final[k] == fork_final[k]).all() for k in parent_final)
    record = json.loads((fork / "run.json").read_text())
    assert record["parent"] == {"run": str(run), "epoch": 3}
    assert record["resumes"][0]["from_epoch"] == 3 and record["resumes"][0]["lr_change"] is None
    assert sorted(list_checkpoints(fork / "checkpoints")) == [3, 4, 5, 6]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--epochs", "50", "--lr", "-1"], "--lr must be > 0"),
        (["--epochs", "2"], "--epochs 2 is lower than the 6 epochs already done"),
        (["--from-epoch", "9"], "--from-epoch 9 has no checkpoint"),
        (["--constant-lr"], "--constant-lr needs --lr"),
        (["--epochs", "0"], "--epochs"),
    ],
)
def test_a_rejected_resume_changes_nothing_on_disk(run, args, message, capsys):
    before = tree_hashes(run)
    siblings = sorted(run.parent.iterdir())
    assert main(["resume", str(run), *args]) == 1
    assert message in capsys.readouterr().err
    assert tree_hashes(run) == before and sorted(run.parent.iterdir()) == siblings


def test_lr_on_a_schedule_keeps_its_shape_unless_constant(run, capsys):
    assert main(["resume", str(run), "--from-epoch", "2", "--lr", "0.001"]) == 0
    out = capsys.readouterr().out
    assert "inverse_time schedule kept" in out
    fork = run.parent / f"{run.name}-e2"
    lrs = [r["lr"] for r in metrics(fork)]
    # α(e) = α₀' / (1 + 0.5 e) with α(2) = 0.001: the shape of the schedule from the new rate
    assert lrs[2] == pytest.approx(0.001)
    assert lrs[3] == pytest.approx(0.001 * (1 + 0.5 * 2) / (1 + 0.5 * 3))
    config = json.loads((fork / "config.json").read_text())
    assert config["train"]["schedule"]["name"] == "inverse_time"
    assert config["train"]["lr"] == pytest.approx(0.001 * 2)

    assert main(["resume", str(run), "--from-epoch", "2", "--lr", "0.001", "--constant-lr"]) == 0
    assert ": constant" in capsys.readouterr().out
    fork2 = run.parent / f"{run.name}-e2-2"
    assert [r["lr"] for r in metrics(fork2)][2:] == [0.001] * 4
    config = json.loads((fork2 / "config.json").read_text())
    assert config["train"]["schedule"] == {"name": "constant"} and config["train"]["lr"] == 0.001
    record = json.loads((fork2 / "run.json").read_text())
    assert record["resumes"][-1]["lr_change"]["mode"] == "constant"


def test_resume_in_place_records_the_resume(run):
    assert main(["resume", str(run), "--epochs", "8", "-q"]) == 0
    record = json.loads((run / "run.json").read_text())
    assert record["resumes"][-1]["from_epoch"] == 6 and record["resumes"][-1]["epochs"] == 8
    assert len(metrics(run)) == 8


def test_retention_keeps_the_last_n_and_the_best(tmp_path, capsys):
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY.replace("keep_checkpoints = 0", "keep_checkpoints = 3"))
    assert (
        main(["train", str(exp), "--out", str(tmp_path / "runs"), "--set", "train.epochs=12"]) == 0
    )
    out = capsys.readouterr().out
    (run,) = (tmp_path / "runs").iterdir()
    kept = sorted(list_checkpoints(run / "checkpoints"))
    rows = metrics(run)
    best = min(rows, key=lambda r: (r["dev_error"], r["epoch"]))["epoch"]
    assert kept == sorted({10, 11, 12, best}) and len(kept) <= 4
    summary = json.loads((run / "summary.json").read_text())
    assert summary["checkpoints"] == len(kept) and summary["disk_bytes"] > 0
    assert "disk:" in out and f"({len(kept)} checkpoints kept)" in out


def test_train_output_options(tmp_path, capsys):
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY)
    assert main(["train", str(exp), "--out", str(tmp_path / "a"), "--log-every", "3"]) == 0
    out = capsys.readouterr().out
    assert "epoch   3/6" in out and "epoch   2/6" not in out
    assert "output shape" in out and "total parameters" in out  # model.summary()
    assert "train err" in out and "%" in out.split("epoch   3/6")[1].splitlines()[0]
    assert main(["train", str(exp), "--out", str(tmp_path / "b"), "-v", "--log-every", "3"]) == 0
    assert "epoch   2/6" in capsys.readouterr().out
    assert main(["train", str(exp), "--out", str(tmp_path / "c"), "--log-every", "0"]) == 1
    assert "--log-every must be an integer >= 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
