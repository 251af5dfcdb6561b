"""Own tables: every data error names the file, the row and the column; an error found before
training leaves no run directory, one found after it started leaves the run marked failed."""

import errno
import json
from importlib import resources

import pytest

pytest.importorskip("pandas")

TABLE = """
name = "own"
[data]
dataset = "table"
path = "{path}"
target = "label"
{extra}
[model]
hidden = [4]
[train]
epochs = 2
batch_size = 16
"""

ROWS = ["1.5,red,cat", "2.5,blue,dog", "0.5,red,cat", "3.0,green,dog"] * 15


def _table(tmp_path, lines, extra="", name="own.csv"):
    data = tmp_path / name
    data.write_text("size,colour,label\n" + "\n".join(lines) + "\n")
    exp = tmp_path / "own.toml"
    exp.write_text(TABLE.format(path=data, extra=extra))
    return data, exp


def _statuses(out):
    return [json.loads(p.read_text())["status"] for p in out.glob("*/run.json")]


BAD_TRAIN = {
    # kind: (row to put at line 4, [data] lines, text the message must hold)
    "missing-value": ("2.0,,dog", "", "line 4, column 'colour': missing value"),
    "text-for-a-number": ("2.o,red,dog", "", "line 4, column 'size': text '2.o' where a number"),
    "missing-target": (",red,", 'missing = "impute"\n', "line 4, column 'label'"),
    "float-target-as-class": ("2.0,red,0.5", 'task = "classification"', "data.task"),
}


@pytest.mark.parametrize("kind", list(BAD_TRAIN))
def test_bad_table_is_refused_naming_file_row_and_column(kind, cli, tmp_path):
    row, extra, expected = BAD_TRAIN[kind]
    if kind == "float-target-as-class":
        lines = [r.replace("cat", "0.25").replace("dog", "1.5") for r in ROWS]
        data, exp = _table(tmp_path, lines[:2] + [row] + lines[2:], extra)
    elif kind == "missing-target":
        data, exp = _table(tmp_path, ROWS[:2] + [row] + ROWS[2:], "")
        exp.write_text(exp.read_text().replace("[model]", 'missing = "error"\n[model]'))
    else:
        data, exp = _table(tmp_path, ROWS[:2] + [row] + ROWS[2:], extra)
    r = cli("train", exp, "--out", tmp_path / "runs")
    assert r.code == 1, r
    assert expected in r.err and str(data) in r.err, r
    assert not (tmp_path / "runs").exists()  # checked before anything was written


def _honed(*argv):
    """The real command in its own process: warnings as the user sees them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "honed", *map(str, argv)]
    return subprocess.run(command, capture_output=True, text=True, env=env)


def test_missing_values_dropped_or_imputed_on_request(tmp_path):
    lines = ROWS[:2] + ["2.0,,dog", ",blue,cat"] + ROWS[2:]
    data, exp = _table(tmp_path, lines, 'missing = "drop"')
    r = _honed("train", exp, "--out", tmp_path / "runs")
    assert r.returncode == 0, r.stderr
    # one line, no source file or line of honed's
    assert r.stderr == f"warning: {data}: 2 rows with a missing value dropped (60 left)\n"
    r = _honed("train", exp, "--out", tmp_path / "runs", "-q")
    assert r.returncode == 0 and r.stderr == ""  # -q silences warnings too
    _, exp = _table(tmp_path, lines, 'missing = "impute"')
    r = _honed("train", exp, "--out", tmp_path / "runs2", "-q")
    assert r.returncode == 0 and r.stderr == ""
    assert _statuses(tmp_path / "runs2") == ["complete"]


@pytest.fixture
def own_run(cli, tmp_path):
    _, exp = _table(tmp_path, ROWS)
    assert cli("train", exp, "--out", tmp_path / "runs", "-q").code == 0
    (run,) = (tmp_path / "runs").iterdir()
    return run


PREDICT = {
    "unseen-category": ("size,colour\n1.0,red\n2.0,purple\n", "line 3, column 'colour': cat"),
    "missing-column": ("size\n1.0\n", "column 'colour' of the training data is missing"),
    "unknown-column": ("size,colour,weight\n1,red,3\n", "column 'weight' is not among"),
    "text-for-a-number": ("colour,size\nred,1\nblue,big\n", "line 3, column 'size': text 'big'"),
    "missing-value": ("colour,size\nred,1\n,2\n", "line 3, column 'colour': missing value"),
    "not-a-table": (None, "a table must be a CSV (.csv, .csv.gz, .txt) or Parquet"),
}


@pytest.mark.parametrize("kind", list(PREDICT))
def test_bad_predict_input_is_refused_naming_file_row_and_column(kind, own_run, cli, tmp_path):
    content, expected = PREDICT[kind]
    data = tmp_path / ("new.csv" if content else "new.npz")
    data.write_text(content or "not a table")
    r = cli("predict", own_run, data)
    assert r.code == 1, r
    assert expected in r.err and str(data) in r.err, r


def test_unseen_category_ignored_on_request(cli, tmp_path):
    _, exp = _table(tmp_path, ROWS, 'unknown_category = "ignore"')
    assert cli("train", exp, "--out", tmp_path / "runs", "-q").code == 0
    (run,) = (tmp_path / "runs").iterdir()
    data = tmp_path / "new.csv"
    data.write_text("size,colour\n1.0,purple\n")
    r = cli("predict", run, data)
    assert r.code == 0 and r.out.splitlines()[1].split(",")[2] in ("cat", "dog"), r


def test_a_run_that_fails_after_it_started_is_marked_failed(cli, tmp_path, monkeypatch):
    from honed.train import callbacks

    def disk_full(self, trainer, epoch, logs):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.directory))

    monkeypatch.setattr(callbacks.MetricsLogger, "on_epoch_end", disk_full)
    _, exp = _table(tmp_path, ROWS)
    r = cli("train", exp, "--out", tmp_path / "runs")
    assert r.code == 1 and "the disk is full" in r.err, r
    (run,) = (tmp_path / "runs").iterdir()
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "failed" and "No space left" in record["message"]
    monkeypatch.undo()
    r = cli("report", run)
    assert "status: failed" in r.out and "No space left" in r.out, r
    r = cli("evaluate", run)
    assert r.code == 1 and "the run failed: " in r.err and "No space left" in r.err, r
    r = cli("resume", run)  # it has a checkpoint of epoch 1: resumable, and says so
    assert r.code == 0 and "the run failed" in r.out, r
    assert json.loads((run / "run.json").read_text())["status"] == "complete"


def test_no_fault_leaves_a_run_running(cli, tmp_path):
    """Every train error of this corpus: no run directory says ``running`` afterwards."""
    out = tmp_path / "runs"
    for row, extra, _ in BAD_TRAIN.values():
        _, exp = _table(tmp_path, ROWS[:2] + [row] + ROWS[2:], extra)
        cli("train", exp, "--out", out)
    penguins = resources.files("palmerpenguins") / "data" / "penguins.csv"
    exp = tmp_path / "p.toml"
    exp.write_text(TABLE.format(path=penguins, extra="").replace('"label"', '"species"'))
    assert cli("train", exp, "--out", out).code == 1  # NA cells, data.missing = "error"
    assert "running" not in _statuses(out) and "new" not in _statuses(out)


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("x", "line 3, column 'b': every cell must be a number, got 'x'"),
        ("nan", "line 3, column 'b'"),
    ],
)
def test_numeric_csv_names_line_and_column_and_points_at_tables(cell, expected, cli, tmp_path):
    data = tmp_path / "numbers.csv"
    data.write_text("a,b,y\n1,2,0\n3," + cell + ",1\n" + "5,6,0\n7,8,1\n" * 10)
    exp = tmp_path / "n.toml"
    exp.write_text(
        TABLE.format(path=data, extra="").replace('"table"', '"csv"').replace('"label"', '"y"')
    )
    r = cli("train", exp, "--out", tmp_path / "runs")
    assert r.code == 1 and expected in r.err and str(data) in r.err, r
    assert 'data.dataset = "table"' in r.err
