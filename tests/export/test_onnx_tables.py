"""ONNX export of table runs and regression runs: the penguins CSV as palmerpenguins ships it
(string columns and labels, missing values imputed) and scikit-learn's diabetes regression;
onnxruntime on the raw table gives what honed gives on it."""

import csv
import json
from importlib import resources

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
pd = pytest.importorskip("pandas")

import honed  # noqa: E402
from honed.cli import main  # noqa: E402
from honed.export import ExportError, to_onnx  # noqa: E402
from tests.runs import train_run  # noqa: E402

TOLERANCE = 1e-5

PENGUINS = """
name = "penguins"
[data]
dataset = "table"
path = "{path}"
target = "species"
missing = "{missing}"
unknown_category = "{unknown}"
[model]
hidden = [16, 8]
batch_norm = true
keep_prob = 0.9
[train]
lr = 0.01
epochs = 8
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
[train]
loss = "mse"
lr = 0.003
epochs = 5
batch_size = 32
"""


def feed(proto, frame) -> dict:
    """What a user of the graph writes: each input column as an (N, 1) array, numbers as
    float32 (NaN where missing), categories as text ("" where missing)."""
    columns = {c["name"]: c["kind"] for c in json.loads(metadata(proto)["columns"])}
    out = {}
    for name, kind in columns.items():
        if kind == "number":
            out[name] = frame[[name]].to_numpy(np.float32)
        else:
            out[name] = frame[[name]].astype("string").fillna("").to_numpy(str).astype(object)
    return out


def metadata(proto) -> dict:
    return {p.key: p.value for p in proto.metadata_props}


def session_of(proto):
    return ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])


def train(tmp_path, text: str):
    return train_run(text, tmp_path, "exp.toml")


@pytest.fixture(scope="module")
def penguins_csv():
    pytest.importorskip("palmerpenguins")
    return resources.files("palmerpenguins") / "data" / "penguins.csv"


@pytest.fixture(scope="module")
def penguins_run(tmp_path_factory, penguins_csv):
    tmp = tmp_path_factory.mktemp("penguins")
    return train(tmp, PENGUINS.format(path=penguins_csv, missing="impute", unknown="error"))


def test_penguins_with_categories_and_missing_values_match_honed_predict_proba(
    penguins_run, penguins_csv, tmp_path, capsys
):
    frame = pd.read_csv(penguins_csv)
    assert frame.isna().any(axis=1).sum() > 0  # the shipped file has missing cells
    model_file = tmp_path / "penguins.onnx"
    assert main(["export", str(penguins_run), "--out", str(model_file)]) == 0
    assert "island" in capsys.readouterr().out
    proto = onnx.load(str(model_file))
    onnx.checker.check_model(proto, full_check=True)
    kinds = {c["name"]: c["kind"] for c in json.loads(metadata(proto)["columns"])}
    assert kinds["island"] == kinds["sex"] == "category" and kinds["bill_length_mm"] == "number"
    run = honed.load_run(penguins_run)
    assert (
        json.loads(metadata(proto)["class_names"])
        == run.class_names
        == [
            "Adelie",
            "Chinstrap",
            "Gentoo",
        ]
    )

    proba, label = session_of(proto).run(["probabilities", "label"], feed(proto, frame))
    expected = run.predict_proba(frame.drop(columns=["species"]))
    assert proba.shape == expected.shape == (len(frame), 3)
    assert np.abs(proba - expected).max() <= TOLERANCE

    preds = tmp_path / "preds.csv"
    assert (
        main(["predict", str(penguins_run), str(penguins_csv), "--proba", "--out", str(preds)]) == 0
    )
    with open(preds) as f:
        rows = list(csv.DictReader(f))
    cli = np.array([[float(r[f"p_{c}"]) for c in run.class_names] for r in rows])
    assert np.abs(proba - cli).max() <= TOLERANCE
    assert [run.class_names[k] for k in label] == [r["class"] for r in rows]


def test_rows_honed_refuses_give_nan_or_zeros_as_the_metadata_says(tmp_path, penguins_csv):
    run_dir = train(tmp_path, PENGUINS.format(path=penguins_csv, missing="drop", unknown="error"))
    run = honed.load_run(run_dir)
    proto = to_onnx(run)
    note = metadata(proto)["refused_rows"]
    assert "NaN" in note and "unseen category" in note
    frame = pd.read_csv(penguins_csv).dropna().head(4).reset_index(drop=True)
    frame.loc[1, "bill_depth_mm"] = np.nan  # honed refuses this row
    frame.loc[2, "island"] = "Atlantis"  # and this one
    proba, _ = session_of(proto).run(["probabilities", "label"], feed(proto, frame))
    assert np.isnan(proba[1]).all() and not np.isnan(proba[[0, 2, 3]]).any()
    known = frame.drop(index=[1, 2])
    assert np.abs(proba[[0, 3]] - run.predict_proba(known.drop(columns=["species"]))).max() <= (
        TOLERANCE
    )
    with pytest.raises(ValueError, match="Atlantis"):
        run.predict_proba(frame.iloc[[2]].drop(columns=["species"]))
    # unknown_category = "ignore": honed encodes an unseen category as all zeros, as the graph
    (tmp_path / "ignore").mkdir()
    text = PENGUINS.format(path=penguins_csv, missing="drop", unknown="ignore")
    ignoring = honed.load_run(train(tmp_path / "ignore", text))
    proto = to_onnx(ignoring)
    row = frame.iloc[[2]]
    proba, _ = session_of(proto).run(["probabilities", "label"], feed(proto, row))
    assert np.abs(proba - ignoring.predict_proba(row.drop(columns=["species"]))).max() <= TOLERANCE


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    datasets = pytest.importorskip("sklearn.datasets")
    path = tmp_path_factory.mktemp("diabetes") / "diabetes.csv"
    datasets.load_diabetes(as_frame=True, scaled=False).frame.to_csv(path, index=False)
    return path


def test_regression_values_undo_the_target_standardization(tmp_path, diabetes_csv):
    run_dir = train(tmp_path, DIABETES.format(path=diabetes_csv))
    run = honed.load_run(run_dir)
    proto = to_onnx(run_dir)
    onnx.checker.check_model(proto, full_check=True)
    assert [o.name for o in proto.graph.output] == ["values"]
    assert json.loads(metadata(proto)["target_names"]) == ["target"]
    frame = pd.read_csv(diabetes_csv)
    (values,) = session_of(proto).run(["values"], feed(proto, frame))
    expected = run.predict_values(frame.drop(columns=["target"]))
    assert values.shape == expected.shape == (len(frame), 1)
    # measured in the standardized units the network computes in (values = z·σ + μ, σ ≈ 77):
    sigma = float(run.target_scaler.std_.reshape(-1)[0])
    assert sigma > 10  # the standardization is really undone in the graph
    assert np.abs(values - expected).max() / sigma <= TOLERANCE
    assert abs(float(values.mean()) - float(frame["target"].mean())) < 3 * sigma


def test_columns_named_like_the_graph_s_own_values(tmp_path, penguins_csv):
    frame = pd.read_csv(penguins_csv)
    # columns called as the graph's intermediate values keep their meaning
    renamed = frame.rename(columns={"island": "one_hot", "bill_length_mm": "median"})
    path = tmp_path / "renamed.csv"
    renamed.to_csv(path, index=False)
    (tmp_path / "a").mkdir()
    run = honed.load_run(
        train(tmp_path / "a", PENGUINS.format(path=path, missing="impute", unknown="error"))
    )
    proto = to_onnx(run)
    proba, _ = session_of(proto).run(["probabilities", "label"], feed(proto, renamed))
    expected = run.predict_proba(renamed.drop(columns=["species"]))
    assert np.abs(proba - expected).max() <= TOLERANCE
    # a column called as a graph output is refused by name
    clash = frame.rename(columns={"sex": "label"})
    clash.to_csv(path, index=False)
    (tmp_path / "b").mkdir()
    run_dir = train(tmp_path / "b", PENGUINS.format(path=path, missing="impute", unknown="error"))
    with pytest.raises(ExportError, match="'label'"):
        to_onnx(run_dir)
