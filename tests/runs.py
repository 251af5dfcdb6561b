"""Train one experiment through the CLI, as a person would, and hand back its run directory."""

from pathlib import Path

from honed.cli import main


def train_run(text: str, directory: Path, name: str = "experiment.toml") -> Path:
    """Write ``text`` to ``directory/name``, ``honed train`` it into ``directory/runs`` quietly,
    and return the one run directory it made."""
    exp = Path(directory) / name
    exp.write_text(text)
    assert main(["train", str(exp), "--out", str(Path(directory) / "runs"), "-q"]) == 0
    (run,) = (Path(directory) / "runs").iterdir()
    return run
