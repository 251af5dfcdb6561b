"""Shared helpers of the fault corpus: run the CLI in-process, check the three promises.

Every case asserts (1) the exit code, (2) that the message names the thing that is wrong,
(3) that nothing already done was lost — and that no case ends in a traceback.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from honed.cli import main

TINY = """
name = "tiny"
seed = 3
[data]
dataset = "moons"
n_samples = 200
[model]
hidden = [6]
activation = "tanh"
[train]
lr = 0.05
batch_size = 32
epochs = 3
"""


class Result:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    def __repr__(self):
        return f"exit {self.code}\nstdout: {self.out[-2000:]}\nstderr: {self.err[-2000:]}"


@pytest.fixture
def cli(capsys):
    """``cli(*argv)`` → Result; asserts no traceback and no usage-exit surprise."""

    def run(*argv) -> Result:
        try:
            code = main([str(a) for a in argv])
        except SystemExit as e:  # argparse usage errors
            code = e.code
        captured = capsys.readouterr()
        result = Result(code, captured.out, captured.err)
        assert "Traceback" not in result.err and "Traceback" not in result.out, result
        return result

    return run


def digest(directory: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file under ``directory`` (to prove nothing changed)."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory) -> Path:
    """A real, complete 3-epoch run directory (trained once per session)."""
    out = tmp_path_factory.mktemp("finished")
    exp = out / "tiny.toml"
    exp.write_text(TINY)
    assert main(["train", str(exp), "--out", str(out / "runs"), "--quiet"]) == 0
    (run,) = (out / "runs").iterdir()
    return run


@pytest.fixture
def run_copy(finished_run, tmp_path) -> Path:
    """A fresh copy of the finished run, to damage."""
    return Path(shutil.copytree(finished_run, tmp_path / finished_run.name))


@pytest.fixture
def experiment(tmp_path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path
