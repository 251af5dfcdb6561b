"""Inference on raw pixels: honed's run vs its ONNX export in onnxruntime vs PyTorch.

The main job's network (784-512-256-10 ReLU, batch norm, dropout 0.8), trained for one epoch
on 5000 Fashion-MNIST images (the weights do not change the timing), predicts class
probabilities for raw t10k pixels, all steps included (x/255, the normalizer, the network in
eval mode, softmax):

* honed      ``run.predict_proba(pixels)`` (NumPy; BLAS on every core)
* onnxruntime the exported graph (batch norm folded), default threads and one thread
* PyTorch    the same weights in ``torch.nn.Sequential`` (eval, BatchNorm1d), under
  ``torch.inference_mode``; the reference

Two sizes: the 10 000 test images in one call (throughput), and one image per call (a
service's latency). Median of several repeats; the largest probability difference from
honed is printed beside each.

    python benchmarks/onnx_inference.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import honed
from honed.cli import main
from honed.data import find_fashion_mnist, read_idx
from honed.export import to_onnx

EXPERIMENT = """
name = "onnx_bench"
[data]
dataset = "fashion_mnist"
subset = 5000
dev = 500
normalize = "scalar"
[model]
hidden = [512, 256]
batch_norm = true
keep_prob = 0.8
[train]
optimizer = "adam"
epochs = 1
"""


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def torch_predictor(run):
    """The run's preprocessing and network in PyTorch, with honed's weights."""
    import torch
    from torch import nn

    from honed.nn import layers as L

    modules = []
    for layer in run.model.layers:
        if isinstance(layer, L.Dense):
            dense = nn.Linear(layer.n_in, layer.n_out, bias=layer.b is not None)
            dense.weight.data = torch.from_numpy(layer.W.data.T.copy())
            if layer.b is not None:
                dense.bias.data = torch.from_numpy(layer.b.data.copy())
            modules.append(dense)
        elif isinstance(layer, L.BatchNorm):
            bn = nn.BatchNorm1d(layer.n, eps=layer.eps)
            bn.weight.data = torch.from_numpy(layer.gamma.data.copy())
            bn.bias.data = torch.from_numpy(layer.beta.data.copy())
            bn.running_mean = torch.from_numpy(layer.running_mean.copy())
            bn.running_var = torch.from_numpy(layer.running_var.copy())
            modules.append(bn)
        elif isinstance(layer, L.ReLU):
            modules.append(nn.ReLU())
        elif isinstance(layer, L.Dropout):
            modules.append(nn.Dropout(1 - layer.keep_prob))
    net = nn.Sequential(*modules).eval()
    mean = torch.tensor(np.float32(run.normalizer.mean_))
    std = torch.tensor(np.float32(run.normalizer.std_))

    def predict(pixels: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(pixels.reshape(len(pixels), -1)).float() * np.float32(1 / 255)
            return torch.softmax(net((x - mean) / std), dim=1).numpy()

    return predict


def main_benchmark() -> None:
    import onnxruntime as ort

    directory = find_fashion_mnist()
    if directory is None:
        raise SystemExit("Fashion-MNIST not found (make data)")
    pixels = read_idx(directory / "t10k-images-idx3-ubyte.gz")
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp) / "exp.toml"
        exp.write_text(EXPERIMENT)
        assert main(["train", str(exp), "--out", str(Path(tmp) / "runs"), "-q"]) == 0
        (run_dir,) = (Path(tmp) / "runs").iterdir()
        run = honed.load_run(run_dir)
        proto = to_onnx(run).SerializeToString()

    one_thread = ort.SessionOptions()
    one_thread.intra_op_num_threads = 1
    sessions = {
        "onnxruntime": ort.InferenceSession(proto, providers=["CPUExecutionProvider"]),
        "onnxruntime 1 thread": ort.InferenceSession(
            proto, one_thread, providers=["CPUExecutionProvider"]
        ),
    }
    predictors = {"honed": run.predict_proba}
    for name, session in sessions.items():
        predictors[name] = lambda p, s=session: s.run(
            ["probabilities"], {"input": p.reshape(len(p), -1).astype(np.float32)}
        )[0]
    try:
        predictors["PyTorch (reference)"] = torch_predictor(run)
    except ImportError:
        print("PyTorch not installed: its column is left out (pip install torch==2.13.0)")

    reference = run.predict_proba(pixels)
    print(f"{'predictor':22s} {'10 000 images (s)':>18s} {'1 image (ms)':>13s} {'max |Δp|':>9s}")
    for name, predict in predictors.items():
        batch = median_seconds(lambda predict=predict: predict(pixels), repeats=5)
        single = median_seconds(lambda predict=predict: predict(pixels[:1]), repeats=200)
        diff = float(np.abs(predict(pixels) - reference).max())
        print(f"{name:22s} {batch:18.4f} {single * 1e3:13.3f} {diff:9.1e}")


if __name__ == "__main__":
    main_benchmark()
