"""honed predict / evaluate and honed.load_run on a small real Fashion-MNIST run."""

import csv
import json

import numpy as np
import pytest

import honed
from honed.cli import main
from honed.data import FASHION_MNIST_CLASSES, fashion_mnist, write_idx
from tests.runs import train_run

FASHION = """
name = "fashion_small"
seed = 0
[data]
dataset = "fashion_mnist"
subset = 3000
dev = 500
normalize = "scalar"
[model]
hidden = [32]
[train]
lr = 2e-3
batch_size = 128
epochs = 2
"""


@pytest.fixture(scope="module")
def fashion_run(tmp_path_factory):
    return train_run(FASHION, tmp_path_factory.mktemp("fashion"), "fashion_small.toml")


@pytest.fixture(scope="module")
def raw_test():
    _, test = fashion_mnist(raw=True)
    return test


def test_predict_on_the_raw_idx_file_gives_the_run_test_accuracy(
    fashion_run, raw_test, tmp_path, capsys
):
    images = tmp_path / "t10k-images-idx3-ubyte.gz"
    write_idx(images, np.asarray(raw_test.X).reshape(-1, 28, 28))
    out = tmp_path / "preds.csv"
    assert main(["predict", str(fashion_run), str(images), "--out", str(out), "--proba"]) == 0
    assert "10000 predictions" in capsys.readouterr().out
    with open(out) as f:
        rows = list(csv.DictReader(f))
    pred = np.array([int(r["label"]) for r in rows])
    assert rows[0]["class"] == FASHION_MNIST_CLASSES[pred[0]]
    assert abs(sum(float(rows[0][f"p_{c}"]) for c in FASHION_MNIST_CLASSES) - 1) < 1e-4
    summary = json.loads((fashion_run / "summary.json").read_text())
    accuracy = float((pred == raw_test.y).mean())
    assert accuracy == pytest.approx(1 - summary["errors"]["test"]["error"], abs=1e-9)
    assert accuracy > 0.7  # a real model, not the 14 % of raw pixels into a bare network


def test_load_run_predicts_raw_pixels_and_the_bare_model_does_not(fashion_run, raw_test):
    run = honed.load_run(fashion_run)
    summary = json.loads((fashion_run / "summary.json").read_text())
    test_accuracy = 1 - summary["errors"]["test"]["error"]
    assert run.class_names == list(FASHION_MNIST_CLASSES)
    assert float((run.predict(raw_test.X) == raw_test.y).mean()) == pytest.approx(test_accuracy)
    # the same images as (m, 28, 28) give the same predictions
    square = np.asarray(raw_test.X[:50]).reshape(-1, 28, 28)
    assert (run.predict(square) == run.predict(raw_test.X[:50])).all()
    proba = run.predict_proba(raw_test.X[:50])
    assert proba.shape == (50, 10) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    # the bare network fed raw pixels (no x/255, no normalizer) is a different, worse model
    bare = honed.load(fashion_run / "model.npz").predict(np.asarray(raw_test.X, np.float32))
    assert float((bare == raw_test.y).mean()) < test_accuracy - 0.05
    analysis = run.evaluate(raw_test, split="test")
    assert analysis.accuracy == pytest.approx(test_accuracy)
    assert analysis.confusion.sum() == 10000 and analysis.cost > 0


def test_predict_refuses_the_wrong_shape_naming_the_expected_one(fashion_run, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    np.savetxt(bad, np.zeros((3, 10)), delimiter=",")
    assert main(["predict", str(fashion_run), str(bad)]) == 1
    err = capsys.readouterr().err
    assert "INPUT" in err and "(m, 784) or (m, 28, 28)" in err and "(3, 10)" in err
    assert main(["predict", str(fashion_run), str(tmp_path / "none.csv")]) == 1
    assert "INPUT" in capsys.readouterr().err
    assert main(["predict", str(tmp_path), str(bad)]) == 1
    assert "no config.json" in capsys.readouterr().err


def test_predict_prints_csv_rows(fashion_run, raw_test, tmp_path, capsys):
    inp = tmp_path / "few.npz"
    np.savez(inp, X=np.asarray(raw_test.X[:4]))
    assert main(["predict", str(fashion_run), str(inp)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "index,label,class" and len(lines) == 5
    run = honed.load_run(fashion_run)
    assert [int(line.split(",")[1]) for line in lines[1:]] == list(run.predict(raw_test.X[:4]))


def test_evaluate_writes_the_error_analysis(fashion_run, capsys):
    assert main(["evaluate", str(fashion_run), "--split", "dev"]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "Shirt" in out and "most confused" in out
    report = json.loads((fashion_run / "evaluation-dev.json").read_text())
    assert report["examples"] == 500
    assert sum(map(sum, report["confusion"])) == 500
    summary = json.loads((fashion_run / "summary.json").read_text())
    assert report["error"] == pytest.approx(summary["errors"]["dev"]["error"])
    for name in ("confusion-dev.png", "misclassified-dev.png"):
        assert (fashion_run / name).stat().st_size > 1000


def test_evaluate_bad_input(fashion_run, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["evaluate", str(fashion_run), "--split", "val"])
    assert info.value.code == 2 and "--split" in capsys.readouterr().err
    assert main(["evaluate", str(fashion_run), "--data", str(tmp_path / "x.txt")]) == 1
    assert "--data" in capsys.readouterr().err


MOONS = """
name = "moons_small"
seed = 1
[data]
dataset = "moons"
n_samples = 300
[model]
hidden = [8]
[train]
lr = 0.05
epochs = 5
"""


def test_evaluate_draws_the_decision_boundary_of_2d_data(tmp_path, capsys):
    exp = tmp_path / "moons.toml"
    exp.write_text(MOONS)
    assert main(["train", str(exp), "--out", str(tmp_path / "runs"), "-q"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert main(["evaluate", str(run)]) == 0
    assert (run / "boundary-test.png").stat().st_size > 1000
    data = tmp_path / "mine.npz"
    rng = np.random.default_rng(0)
    np.savez(data, X=rng.normal(size=(40, 2)), y=rng.integers(0, 2, 40))
    assert main(["evaluate", str(run), "--data", str(data)]) == 0
    assert json.loads((run / "evaluation-mine.json").read_text())["examples"] == 40


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_new_commands_have_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0 and len(capsys.readouterr().out) > 200


def test_read_table_input_refuses_a_run_not_trained_on_a_table(fashion_run, tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="was not trained on a table"):
        honed.load_run(fashion_run).read_table_input(tmp_path / "x.csv")
