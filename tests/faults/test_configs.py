"""Experiment files and --set overrides: each bad key refused, exit 1, the key named."""

import pytest

from .conftest import TINY

# (a line added to or replacing one of the tiny experiment, text the message must hold)
BAD_KEYS = [
    ('name = "../evil"', "name must be a plain name"),
    ('name = "/tmp/abs"', "name must be a plain name"),
    ('name = "a/b"', "name must be a plain name"),
    ('name = ".."', "name must be a plain name"),
    ('name = "back\\\\slash"', "name must be a plain name"),
    ('name = ""', "name must be a plain name"),
    ('name = "~root"', "name must be a plain name"),
    ("seed = -1", "seed"),
    ('seed = "x"', "seed"),
    ("human_error = 2", "human_error"),
    ("[data]\nn_classes = -1", "data.n_classes"),
    ('[data]\nn_classes = "ten"', "data.n_classes"),
    ("[data]\nsubset = -1", "data.subset"),
    ('[data]\ndataset = "nope"', "data.dataset must be one of"),
    ("[data]\ndev = 1.5", "data.dev"),
    ("[data]\nnoise = -1", "data.noise"),
    ('[data]\nnormalize = "zscore"', "data.normalize"),
    ("[model]\nkeep_prob = 0", "model.keep_prob"),
    ("[model]\nkeep_prob = 1.5", "model.keep_prob"),
    ("[model]\nhidden = [0]", "model.hidden"),
    ("[model]\nhidden = [-3]", "model.hidden"),
    ('[model]\nactivation = "swish2"', "model.activation"),
    ("[model]\nl2 = -1", "model.l2"),
    ('[model]\noutput = "linear2"', "model.output"),
    ("[model]\nhiden = [3]", "model.hiden"),
    ("[train]\nlr = -1", "train.lr must be > 0, got -1"),
    ('[train]\nlr = "fast"', "train.lr"),
    ("[train]\nepochs = 0", "train.epochs"),
    ("[train]\nbatch_size = 0", "train.batch_size"),
    ('[train]\noptimizer = "lion"', "train.optimizer"),
    ("[train]\nbeta1 = 1", "train.beta1"),
    ("[nosection]\nx = 1", "nosection"),
]


def _with(line: str) -> str:
    """TINY with ``line``: its section's existing key replaced, or the line appended."""
    if line.startswith("["):
        section, _, body = line.partition("\n")
        key = body.split("=")[0].strip()
        text = "\n".join(l for l in TINY.splitlines() if not l.startswith(f"{key} ="))
        if section in text:
            return text.replace(section, line, 1)
        return text + "\n" + line + "\n"
    key = line.split("=")[0].strip()
    return f"{line}\n" + "\n".join(l for l in TINY.splitlines() if not l.startswith(f"{key} ="))


@pytest.mark.parametrize("line, expected", BAD_KEYS, ids=[b[0] for b in BAD_KEYS])
def test_bad_key_is_refused_naming_it(line, expected, cli, tmp_path):
    exp = tmp_path / "bad.toml"
    exp.write_text(_with(line))
    r = cli("config", exp)
    assert r.code == 1, r
    assert expected in r.err, r
    r = cli("train", exp, "--out", tmp_path / "runs")
    assert r.code == 1 and expected in r.err, r
    assert not (tmp_path / "runs").exists()  # refused before a run directory is made


BAD_SETS = [
    ("train.lr", "train.lr=-3"),
    ("train.lr", "train.lr"),  # no '='
    ("model.hidden", "model.hidden=[0]"),
    ("train.epochs", "train.epochs=1.5"),
    ("unknown key trian", "trian.lr=0.1"),
    ("name", "name='../../etc'"),
    ("data.n_classes", "data.n_classes=-2"),
]


@pytest.mark.parametrize("key, option", BAD_SETS, ids=[b[1] for b in BAD_SETS])
def test_bad_set_override_is_refused_naming_the_key(key, option, cli, experiment, tmp_path):
    r = cli("train", experiment, "--out", tmp_path / "runs", "--set", option)
    assert r.code == 1, r
    assert key in r.err, r
    assert not (tmp_path / "runs").exists()


def test_name_cannot_escape_out(cli, experiment, tmp_path):
    out = tmp_path / "deep" / "runs"
    r = cli("train", experiment, "--out", out, "--set", "name='../escaped'")
    assert r.code == 1 and "name must be a plain name" in r.err
    assert not (tmp_path / "deep").exists() and not list(tmp_path.glob("escaped*"))


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"name = \xff\xfe oops", "not a UTF-8 text file"),
        (b"[train\nlr = 1", "not valid TOML"),
        (b"lr = = 1", "not valid TOML"),
        (b"[train]\nlr = 0.1\n[train]\nlr = 0.2", "not valid TOML"),
    ],
    ids=["non-utf8", "unclosed-table", "double-equals", "duplicate-table"],
)
def test_unreadable_experiment_file_is_named(content, expected, cli, tmp_path):
    exp = tmp_path / "broken.toml"
    exp.write_bytes(content)
    r = cli("train", exp, "--out", tmp_path / "runs")
    assert r.code == 1 and expected in r.err and str(exp) in r.err, r


@pytest.mark.parametrize("command", ["train", "config", "gradcheck", "tune"])
def test_missing_experiment_file_is_named(command, cli, tmp_path):
    r = cli(command, tmp_path / "nope.toml")
    assert r.code == 1 and "nope.toml" in r.err, r


@pytest.mark.parametrize("command", ["train", "config"])
def test_experiment_path_that_is_a_directory(command, cli, tmp_path):
    d = tmp_path / "exp.toml"
    d.mkdir()
    r = cli(command, d)
    assert r.code == 1 and "exp.toml" in r.err, r
