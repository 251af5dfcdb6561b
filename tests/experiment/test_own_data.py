"""Your own data, end to end from TOML: the penguins CSV exactly as palmerpenguins ships it
(string labels and columns, missing values), scikit-learn's diabetes as a regression, and a
float target that never becomes a classifier."""

import csv
import json
from importlib import resources

import numpy as np
import pytest

import honed
from honed.cli import main
from tests.runs import train_run

pytest.importorskip("pandas")

PENGUINS = """
name = "penguins"
[data]
dataset = "table"
path = "{path}"
target = "species"
missing = "impute"
[model]
hidden = [16]
[train]
lr = 0.01
epochs = 40
batch_size = 32
"""

DIABETES = """
name = "diabetes"
[data]
dataset = "table"
path = "{path}"
target = "target"
[model]
hidden = [32]
output = "linear"
l2 = 1.0
[train]
loss = "mse"
lr = 0.003
epochs = 60
batch_size = 32
early_stopping = {{patience = 10}}
"""


def _penguins_csv():
    pytest.importorskip("palmerpenguins")
    return resources.files("palmerpenguins") / "data" / "penguins.csv"


@pytest.fixture(scope="module")
def penguins_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("penguins")
    return train_run(PENGUINS.format(path=_penguins_csv()), tmp, "penguins.toml")


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    datasets = pytest.importorskip("sklearn.datasets")
    path = tmp_path_factory.mktemp("diabetes") / "diabetes.csv"
    datasets.load_diabetes(as_frame=True, scaled=False).frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def diabetes_run(diabetes_csv):
    return train_run(DIABETES.format(path=diabetes_csv), diabetes_csv.parent, "diabetes.toml")


def test_penguins_csv_as_shipped_trains_to_97_percent(penguins_run):
    summary = json.loads((penguins_run / "summary.json").read_text())
    assert 1 - summary["errors"]["test"]["error"] >= 0.97, summary["errors"]
    run = honed.load_run(penguins_run)
    assert run.class_names == ["Adelie", "Chinstrap", "Gentoo"]
    assert run.table.kinds.count("category") == 2  # island and sex, one-hot


def _predict(run_dir, path, tmp_path, capsys):
    out = tmp_path / f"pred-{path.stem}.csv"
    assert main(["predict", str(run_dir), str(path), "--out", str(out)]) == 0
    capsys.readouterr()
    with open(out) as f:
        return [row["class"] for row in csv.DictReader(f)]


def test_predict_matches_columns_by_name_in_any_order(penguins_run, tmp_path, capsys):
    with open(_penguins_csv()) as f:
        rows = list(csv.reader(f))
    header = rows[0]
    shuffled = ["year", "sex", "body_mass_g", "island", "flipper_length_mm", "bill_depth_mm"]
    shuffled.append("bill_length_mm")
    keep = [header.index(c) for c in shuffled]  # species dropped, the rest reordered
    moved = tmp_path / "shuffled.csv"
    with open(moved, "w", newline="") as f:
        csv.writer(f).writerows([[r[i] for i in keep] for r in rows])
    original = _predict(penguins_run, _penguins_csv(), tmp_path, capsys)
    assert len(original) == len(rows) - 1
    assert _predict(penguins_run, moved, tmp_path, capsys) == original
    truth = [r[header.index("species")] for r in rows[1:]]
    assert np.mean(np.array(original) == np.array(truth)) > 0.95


def test_headerless_table_is_matched_by_position(penguins_run, tmp_path, capsys):
    with open(_penguins_csv()) as f:
        rows = list(csv.reader(f))[1:21]
    plain = tmp_path / "plain.csv"
    with open(plain, "w", newline="") as f:
        csv.writer(f).writerows([r[1:] for r in rows])  # no header, no species column
    named = tmp_path / "named.csv"
    with open(_penguins_csv()) as f:
        named.write_text("".join(f.readlines()[:21]))
    assert _predict(penguins_run, plain, tmp_path, capsys) == _predict(
        penguins_run, named, tmp_path, capsys
    )


def test_diabetes_regression_evaluate_prints_rmse_mae_r2(diabetes_run, capsys):
    summary = json.loads((diabetes_run / "summary.json").read_text())
    test = summary["errors"]["test"]
    assert test["r2"] > 0.4 and test["rmse"] < 60, test  # the targets' units (disease progress)
    assert summary["diagnosis"]["metric"] == "relative RMSE"
    assert "constant predictor" in summary["diagnosis"]["reference"]
    assert main(["evaluate", str(diabetes_run)]) == 0
    out = capsys.readouterr().out
    assert "RMSE" in out and "MAE" in out and "R²" in out
    pytest.importorskip("matplotlib")
    assert (diabetes_run / "predicted-test.png").stat().st_size > 10_000  # predicted vs true
    saved = json.loads((diabetes_run / "evaluation-test.json").read_text())
    assert saved["rmse"] == pytest.approx(test["rmse"], rel=1e-5)
    assert saved["r2"] == pytest.approx(test["r2"], rel=1e-5)


def test_regression_predictions_are_in_the_targets_units(diabetes_run, diabetes_csv):
    import pandas as pd

    run = honed.load_run(diabetes_run)
    frame = pd.read_csv(diabetes_csv)
    pred = run.predict(frame)  # the target column is present and ignored
    assert pred.shape == (len(frame), 1)
    rmse = float(np.sqrt(np.mean((pred[:, 0] - frame["target"].to_numpy()) ** 2)))
    assert 30 < rmse < 60  # disease-progress units (σ ≈ 77), not standardized ones
    assert run.target_scaler.mean_.shape == (1,)


def test_honed_predict_writes_regression_values_as_csv(diabetes_run, diabetes_csv, tmp_path):
    import pandas as pd

    out = tmp_path / "values.csv"
    assert main(["predict", str(diabetes_run), str(diabetes_csv), "--out", str(out)]) == 0
    written = pd.read_csv(out)
    assert list(written.columns) == ["index", "target"]
    expected = honed.load_run(diabetes_run).predict(pd.read_csv(diabetes_csv))[:, 0]
    np.testing.assert_allclose(written["target"], expected, rtol=1e-5)  # 6 significant digits


def test_regression_epoch_lines_and_report_show_rmse_and_r2(diabetes_run, capsys):
    records = [json.loads(x) for x in (diabetes_run / "metrics.jsonl").read_text().splitlines()]
    assert {"dev_rmse", "dev_mae", "dev_r2"} <= set(records[-1])
    assert main(["report", str(diabetes_run)]) == 0
    out = capsys.readouterr().out
    assert "dev RMSE" in out and "final test  cost" in out and "R²" in out


def test_compare_shows_rmse_and_r2_of_regression_runs(diabetes_run, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "compare.png"
    assert main(["compare", str(diabetes_run), str(diabetes_run), "--out", str(out)]) == 0
    header, _, row = capsys.readouterr().out.splitlines()[:3]
    assert "test RMSE" in header and "test R²" in header
    summary = json.loads((diabetes_run / "summary.json").read_text())
    assert f"{summary['errors']['test']['r2']:.4f}" in row


def test_diagnose_of_a_regression_run_uses_its_rmse(diabetes_run, capsys):
    assert main(["diagnose", str(diabetes_run)]) == 0
    out = capsys.readouterr().out
    summary = json.loads((diabetes_run / "summary.json").read_text())
    assert "constant predictor" in out and summary["diagnosis"]["verdict"] in out
    sigma = summary["diagnosis"]["reference_rmse"]
    train = summary["errors"]["train"]["rmse"] / sigma
    assert f"train relative RMSE {train:.3f}" in out


def test_a_float_target_with_no_task_never_becomes_a_classifier(diabetes_csv, tmp_path, capsys):
    for dataset in ("table", "csv"):
        exp = tmp_path / f"{dataset}.toml"
        text = DIABETES.format(path=diabetes_csv).replace('output = "linear"', "")
        exp.write_text(text.replace('loss = "mse"', "").replace('"table"', f'"{dataset}"'))
        assert main(["train", str(exp), "--out", str(tmp_path / "runs")]) == 1
        assert "data.task" in capsys.readouterr().err
        assert not (tmp_path / "runs").exists()  # checked before anything was written
    frac = tmp_path / "frac.csv"
    frac.write_text("a,y\n" + "".join(f"{i},{i / 7:.3f}\n" for i in range(40)))
    exp = tmp_path / "frac.toml"
    exp.write_text(DIABETES.format(path=frac).replace('"target"', '"y"').replace("output", "#"))
    exp.write_text(exp.read_text().replace('loss = "mse"', ""))
    assert main(["train", str(exp), "--out", str(tmp_path / "runs")]) == 1
    assert 'set data.task = "regression"' in capsys.readouterr().err


def test_regression_loss_with_a_softmax_output_is_refused_before_any_data():
    from honed import experiment as ex

    with pytest.raises(ValueError, match='needs model.output = "linear"'):
        ex.resolve_config({"data": {"task": "regression"}, "model": {"output": "softmax"}})
    with pytest.raises(ValueError, match="train.loss = 'softmax_cross_entropy' is a classif"):
        ex.resolve_config({"model": {"output": "linear"}, "train": {"loss": "cross_entropy"}})
    with pytest.raises(ValueError, match="train.loss_args: loss 'huber' takes delta only"):
        ex.resolve_config(
            {"model": {"output": "linear"}, "train": {"loss": "huber", "loss_args": {"d": 1}}}
        )


def test_regression_tunes_with_the_population_executor(diabetes_csv, tmp_path, capsys):
    exp = tmp_path / "tune.toml"
    exp.write_text(
        DIABETES.format(path=diabetes_csv).replace("epochs = 60", "epochs = 8")
        + '\n[tune]\ntrials = 4\nexecutor = "population"\n'
        + 'space = {"train.lr" = {log = [1e-3, 3e-2]}}\n'
    )
    study = tmp_path / "s.db"
    assert main(["tune", str(exp), "--study", str(study)]) == 0
    capsys.readouterr()
    from honed.experiment.tuning import open_study

    values = [t.value for t in open_study(study).trials]
    assert len(values) == 4 and all(0 < v < 1.2 for v in values)  # RMSE / σ of the targets
    # study show names the value for what it is, not a classifier's "dev error"
    assert main(["study", "show", str(study)]) == 0
    shown = capsys.readouterr().out
    assert "dev RMSE / σ" in shown and "dev error" not in shown


def test_gradcheck_takes_a_regression_experiment(diabetes_csv, tmp_path, capsys):
    exp = tmp_path / "huber.toml"
    text = DIABETES.format(path=diabetes_csv).replace('loss = "mse"', 'loss = "huber"')
    exp.write_text(text)
    assert main(["gradcheck", str(exp)]) == 0
    assert "correct" in capsys.readouterr().out
