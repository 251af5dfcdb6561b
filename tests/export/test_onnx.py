"""ONNX export: every graph passes onnx's full check, and onnxruntime on the raw inputs gives
the probabilities ``run.predict_proba`` gives (max abs difference ≤ 1e-5, float32)."""

import csv
import json
import sys

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import honed  # noqa: E402
from honed.cli import main  # noqa: E402
from honed.data import FASHION_MNIST_CLASSES, NORMALIZERS, find_fashion_mnist, read_idx  # noqa: E402
from honed.export import OPSET, ExportError, save_onnx, to_onnx  # noqa: E402
from honed.nn import layers as L  # noqa: E402
from honed.nn import mlp  # noqa: E402
from honed.nn.module import MODULE_REGISTRY, Module  # noqa: E402
from tests.runs import train_run  # noqa: E402

TOLERANCE = 1e-5  # max |onnxruntime − predict_proba| over every probability, float32

MAIN_JOB = """
name = "fashion_bn_dropout"
seed = 0
[data]
dataset = "fashion_mnist"
subset = 3000
dev = 500
normalize = "scalar"
[model]
hidden = [64, 32]
batch_norm = true
keep_prob = 0.8
[train]
optimizer = "adam"
lr = 2e-3
batch_size = 128
epochs = 2
"""


def session_of(proto_or_path):
    data = proto_or_path if isinstance(proto_or_path, str) else proto_or_path.SerializeToString()
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def run_onnx(proto_or_path, X) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    feed = {"input": X.reshape(len(X), -1).astype(np.float32)}
    proba, label = session_of(proto_or_path).run(["probabilities", "label"], feed)
    return proba, label


def op_types(proto) -> set[str]:
    return {node.op_type for node in proto.graph.node}


def metadata(proto) -> dict:
    return {p.key: p.value for p in proto.metadata_props}


@pytest.fixture(scope="module")
def fashion_run(tmp_path_factory):
    """The main job on a 3000-image subset with batch norm and dropout (2 epochs)."""
    return train_run(MAIN_JOB, tmp_path_factory.mktemp("main_job"), "main.toml")


@pytest.fixture(scope="module")
def t10k_file():
    directory = find_fashion_mnist()
    if directory is None:
        pytest.skip("Fashion-MNIST is not installed (make data)")
    return directory / "t10k-images-idx3-ubyte.gz"


@pytest.fixture(scope="module")
def raw_pixels(t10k_file):
    return read_idx(t10k_file)  # uint8, (10000, 28, 28)


# -- the main job -------------------------------------------------------------------------
def test_main_job_export_gives_honed_predict_proba_on_raw_t10k_pixels(
    fashion_run, t10k_file, raw_pixels, tmp_path, capsys
):
    model_file = tmp_path / "model.onnx"
    assert main(["export", str(fashion_run), "--format", "onnx", "--out", str(model_file)]) == 0
    assert "ONNX opset" in capsys.readouterr().out
    proto = onnx.load(str(model_file))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.opset_import[0].version == OPSET
    # inference mode: batch norm folded into the Dense layers, dropout gone
    assert "BatchNormalization" not in op_types(proto) and "Dropout" not in op_types(proto)
    meta = metadata(proto)
    assert json.loads(meta["class_names"]) == list(FASHION_MNIST_CLASSES)
    assert meta["output"] == "softmax" and meta["run"] == fashion_run.name

    preds = tmp_path / "preds.csv"
    args = ["predict", str(fashion_run), str(t10k_file), "--proba", "--out", str(preds)]
    assert main(args) == 0
    with open(preds) as f:
        rows = list(csv.DictReader(f))
    cli_proba = np.array([[float(r[f"p_{c}"]) for c in FASHION_MNIST_CLASSES] for r in rows])
    cli_label = np.array([int(r["label"]) for r in rows])

    proba, label = run_onnx(str(model_file), raw_pixels)
    assert proba.shape == (10000, 10) and proba.dtype == np.float32
    # the CLI prints 6 significant digits (≤ 5e-7 of rounding on a probability)
    assert np.abs(proba - cli_proba).max() <= TOLERANCE
    exact = honed.load_run(fashion_run).predict_proba(raw_pixels)
    assert np.abs(proba - exact).max() <= TOLERANCE
    top2 = np.sort(exact, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 2 * TOLERANCE  # a near-tie may go either way
    assert clear.mean() > 0.99
    assert (label[clear] == cli_label[clear]).all()


def test_the_unfolded_graph_keeps_batch_normalization_and_agrees(fashion_run, raw_pixels):
    run = honed.load_run(fashion_run)
    proto = to_onnx(run, fold_batch_norm=False)
    assert "BatchNormalization" in op_types(proto)
    proba, _ = run_onnx(proto, raw_pixels[:2000])
    assert np.abs(proba - run.predict_proba(raw_pixels[:2000])).max() <= TOLERANCE


# -- every layer and activation -----------------------------------------------------------
def randomize_batch_norm(model, seed: int) -> None:
    """Running statistics and γ, β far from their initial 0, 1 so folding is exercised."""
    rng = np.random.default_rng(seed)
    for layer in model.modules() if hasattr(model, "modules") else []:
        if isinstance(layer, L.BatchNorm):
            layer.running_mean[...] = rng.normal(0, 1, layer.n)
            layer.running_var[...] = rng.uniform(0.3, 3, layer.n)
            layer.gamma.data[...] = rng.uniform(0.5, 1.5, layer.n)
            layer.beta.data[...] = rng.normal(0, 0.5, layer.n)


def every_activation_mlp(name: str) -> Module:
    return mlp([784, 32, 16, 10], activation=name, batch_norm=True, keep_prob=0.8, seed=3)


def layer_models() -> dict[str, Module]:
    """Networks of 784 inputs and 10 logits covering every honed layer but Perceptron."""
    models = {f"mlp-{name}": every_activation_mlp(name) for name in L.ACTIVATIONS.names()}
    models["maxout-batchnorm"] = L.Sequential(  # BN after Maxout: a BatchNormalization node
        L.Maxout(784, 24, pieces=3, rng=1), L.BatchNorm(24), L.ReLU(), L.Dense(24, 10, rng=2)
    )
    models["batchnorm-first"] = L.Sequential(L.BatchNorm(784), L.Dense(784, 10, rng=4))
    models["dense-dropout-batchnorm"] = L.Sequential(
        L.Flatten(),
        L.Dense(784, 20, rng=5),
        L.Dropout(0.5, rng=6),
        L.BatchNorm(20),
        L.LeakyReLU(0.2),
        L.Sequential(L.Dense(20, 16, rng=7), L.ELU(0.5), L.Softmax()),
        L.Identity(),
        L.Dense(16, 10, rng=8),
    )
    return models


def all_layer_classes(models) -> set[type]:
    seen = set()
    for model in models:
        stack = [model]
        while stack:
            m = stack.pop()
            seen.add(type(m))
            stack.extend(getattr(m, "layers", []))
    return seen


def test_every_honed_layer_is_covered_by_the_export_tests():
    honed_layers = {c for c in MODULE_REGISTRY.values() if c.__module__.startswith("honed.nn")}
    covered = all_layer_classes(layer_models().values()) | {L.Perceptron}  # refused below
    assert honed_layers - covered == set()


@pytest.mark.parametrize("fold", [True, False], ids=["folded", "batchnorm-nodes"])
@pytest.mark.parametrize("name", list(layer_models()))
def test_every_layer_and_activation_matches_predict_proba(fashion_run, raw_pixels, name, fold):
    run = honed.load_run(fashion_run)  # the run's real preprocessing, another network
    run.model = layer_models()[name]
    randomize_batch_norm(run.model, seed=len(name))
    run.model.eval()
    proto = to_onnx(run, fold_batch_norm=fold)
    onnx.checker.check_model(proto, full_check=True)
    X = raw_pixels[:1000]
    proba, label = run_onnx(proto, X)
    expected = run.predict_proba(X)
    assert proba.shape == expected.shape == (1000, 10)
    assert np.abs(proba - expected).max() <= TOLERANCE
    assert (label == proba.argmax(axis=1)).all()
    assert "Dropout" not in op_types(proto)


# -- outputs and normalizers on a table ---------------------------------------------------
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("normalize", NORMALIZERS.names())
def test_moons_runs_with_each_normalizer_and_output(tmp_path, normalize, output):
    exp = tmp_path / "moons.toml"
    exp.write_text(
        f'name = "moons"\n[data]\ndataset = "moons"\nn_samples = 300\nnormalize = "{normalize}"\n'
        f'[model]\nhidden = [8]\nactivation = "tanh"\noutput = "{output}"\n'
        "[train]\nepochs = 3\nbatch_size = 64\n"
    )
    assert main(["train", str(exp), "--out", str(tmp_path / "runs"), "-q"]) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    run = honed.load_run(run_dir)
    proto = to_onnx(run_dir)
    X = np.random.default_rng(0).normal(0.5, 1.0, (500, 2))  # raw, unnormalized features
    proba, label = run_onnx(proto, X)
    assert proba.shape == (500, 2)
    assert np.abs(proba - run.predict_proba(X.astype(np.float32))).max() <= TOLERANCE
    assert (label == run.predict(X.astype(np.float32))).all()
    assert metadata(proto)["output"] == output
    assert ("Sigmoid" in op_types(proto)) == (output == "sigmoid")


# -- bare models, refusals, the command line ----------------------------------------------
def test_a_bare_model_exports_without_preprocessing():
    model = mlp([5, 7, 3], activation="elu", output="softmax", seed=1)
    X = np.random.default_rng(1).normal(size=(40, 5)).astype(np.float32)
    proba, _ = run_onnx(to_onnx(model), X)
    assert np.abs(proba - model.predict_proba(X)).max() <= TOLERANCE
    logits_only = mlp([5, 4, 3], seed=2)  # no output kind: the graph ends in the logits
    proto = to_onnx(logits_only)
    (out,) = session_of(proto).run(["logits"], {"input": X})
    assert np.abs(out - logits_only.predict_proba(X)).max() <= TOLERANCE


def test_export_leaves_a_training_model_in_training_mode():
    model = mlp([5, 7, 3], activation="relu", output="softmax", seed=1)
    model.train()
    to_onnx(model)
    assert all(m.training for _, m in model.named_modules())


def test_a_layer_without_onnx_form_is_refused_by_name(tmp_path):
    class Cube(Module):
        def forward(self, x):
            return x * x * x

    with pytest.raises(ExportError, match="Cube"):
        to_onnx(L.Sequential(L.Dense(3, 2, rng=0), Cube()))
    with pytest.raises(ExportError, match="Perceptron"):
        to_onnx(L.Sequential(L.Dense(2, 2, rng=0), L.Perceptron([1.0, 1.0], -1.5)))
    assert not (tmp_path / "never.onnx").exists()
    with pytest.raises(ExportError, match="Cube"):
        save_onnx(L.Sequential(L.Dense(3, 2, rng=0), Cube()), tmp_path / "never.onnx")
    assert not (tmp_path / "never.onnx").exists()  # nothing half-written


def test_export_cli_errors_name_the_problem(tmp_path, capsys):
    missing = tmp_path / "no_such_run"
    assert main(["export", str(missing), "--out", str(tmp_path / "m.onnx")]) == 1
    assert "no_such_run" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(missing)])  # --out is required: a usage error
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(missing), "--format", "tflite", "--out", "m"])
    assert exit_info.value.code == 2
    assert "tflite" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_export_where_no_file_can_be_written_names_it(fashion_run, tmp_path, capsys):
    (tmp_path / "a_file").write_text("not a directory")
    target = tmp_path / "a_file" / "m.onnx"
    assert main(["export", str(fashion_run), "--out", str(target)]) == 1
    err = capsys.readouterr().err
    assert str(target) in err and "Traceback" not in err
    assert (tmp_path / "a_file").read_text() == "not a directory"


def test_export_without_the_onnx_package_names_the_extra(
    fashion_run, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    assert main(["export", str(fashion_run), "--out", str(tmp_path / "m.onnx")]) == 1
    assert "pip install 'honed[onnx]'" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_version_flag_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"honed {honed.__version__}"
