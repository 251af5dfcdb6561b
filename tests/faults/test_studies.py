"""Study files that are not studies: `honed study show|report` refuse them naming the file."""

import sqlite3
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"


def _foreign(path):
    con = sqlite3.connect(path)
    con.execute("create table songs (title text)")
    con.execute("insert into songs values ('la')")
    con.commit()
    con.close()


STUDY_FILES = {
    "random-bytes": lambda p: p.write_bytes(b"not a database at all" * 50),
    "directory": lambda p: p.mkdir(),
    "sqlite-header-truncated": lambda p: p.write_bytes(b"SQLite format 3\0" + b"\1" * 40),
}


@pytest.mark.parametrize("action", ["show", "report"])
@pytest.mark.parametrize("kind", list(STUDY_FILES))
def test_a_study_file_that_is_not_a_study(kind, action, cli, tmp_path):
    path = tmp_path / "s.sqlite"
    STUDY_FILES[kind](path)
    r = cli("study", action, path, "--out", tmp_path / "fig.png")
    assert r.code == 1, r
    assert str(path) in r.err, r
    assert not (tmp_path / "fig.png").exists()


@pytest.mark.parametrize("action", ["show", "report"])
def test_a_missing_study_file_is_named_and_not_created(action, cli, tmp_path):
    path = tmp_path / "nope.sqlite"
    r = cli("study", action, path)
    assert r.code == 1 and "nope.sqlite" in r.err, r
    assert list(tmp_path.iterdir()) == []


def test_another_programs_sqlite_file_is_refused(cli, tmp_path):
    path = tmp_path / "music.sqlite"
    _foreign(path)
    r = cli("study", "show", path)
    assert r.code == 1 and str(path) in r.err, r


def test_study_show_never_changes_another_programs_sqlite_file(cli, tmp_path):
    path = tmp_path / "music.sqlite"
    _foreign(path)
    before = path.read_bytes()
    cli("study", "show", path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["music.sqlite"]


def test_tune_into_another_programs_sqlite_file_is_refused_and_leaves_it(cli, tmp_path):
    path = tmp_path / "music.sqlite"
    _foreign(path)
    before = path.read_bytes()
    r = cli("tune", EXAMPLES / "fashion_tune.toml", "--study", path, "--trials", "1")
    assert r.code == 1 and str(path) in r.err and "another program" in r.err, r
    assert path.read_bytes() == before
