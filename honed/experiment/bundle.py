"""Run bundles: a trained run used on raw data, with the preprocessing it was trained with.

``honed.save`` / ``honed.load`` keep a bare network: fed raw Fashion-MNIST pixels (0..255)
instead of the normalized inputs it was trained on, it predicts garbage (~14 % accuracy).
A run directory also holds ``bundle.npz``, written when training starts::

    {"format": 1, "input_shape": [784], "image_shape": [28, 28] | None,
     "pixels": true,              # uint8 pixels were converted by pixels_to_unit: x / 255
     "normalize": "scalar", "normalizer": {...state_dict...} | None,
     "class_names": [...], "n_classes": 10, "output": "softmax", "loss": "...",
     "dataset": "fashion_mnist",
     "task": "classification" | "regression",
     "target_scaler": {...Standardizer state...} | None,   # regression: y_std = (y − μ)/σ
     "table": {...TableEncoder state...} | None,           # tables: columns → features
     "target_names": [...] | None}                          # tables: the target column(s)

so that :func:`load_run` rebuilds the whole path from raw input to prediction::

    x = normalizer((x_raw / 255 if pixels else x_raw).reshape(m, -1))
        (a table: x = normalizer(table_encoder(frame)), columns matched by name)
    p = softmax(model(x))          (sigmoid: p(class 1), two columns [1 − p, p])
    ŷ = argmax p                   (regression: ŷ = μ + σ · model(x), the targets' units)

>>> run = honed.load_run("runs/fashion_mlp-20261201-101500")
>>> run.predict(test_images_uint8)           # class indices
>>> run.class_names[run.predict(x)[0]]       # 'Ankle boot'
>>> print(run.evaluate(test_dataset))        # accuracy, per-class P/R/F1, confusion matrix
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

BUNDLE_FILE = "bundle.npz"
FORMAT = 1


def bundle_state(config, data) -> dict:
    """What :func:`load_run` needs besides the weights, from a config and its prepared data."""
    train = data.train
    names = list(train.class_names) if train.class_names else None
    if names is None:
        names = [str(i) for i in range(data.n_classes)]
    return {
        "format": FORMAT,
        "input_shape": [int(s) for s in train.X.shape[1:]],
        "image_shape": None if data.image_shape is None else [int(s) for s in data.image_shape],
        "pixels": bool(data.pixels),
        "normalize": config.data.normalize,
        "normalizer": None if data.normalizer is None else data.normalizer.state_dict(),
        "class_names": names,
        "n_classes": int(data.n_classes),
        "output": config.model.output,
        "loss": config.train.loss_name(config.model.output),
        "dataset": config.data.dataset,
        "task": data.task,
        "target_scaler": None if data.target_scaler is None else data.target_scaler.state_dict(),
        "table": None if data.encoder is None else data.encoder.state_dict(),
        "target_names": _target_names(config, data),
    }


def _target_names(config, data) -> list[str] | None:
    if data.target_names:
        return list(data.target_names)
    return [config.data.target] if isinstance(config.data.target, str) else None


def write_bundle(run_dir, config, data) -> Path:
    from honed.train import save_state

    return save_state(Path(run_dir) / BUNDLE_FILE, bundle_state(config, data))


class RunBundle:
    """A trained run ready for raw data: model, preprocessing, class names, config.

    Attributes:
        run_dir, config (the resolved :class:`ExperimentConfig`), model, normalizer (or None),
        input_shape (per example, after flattening), image_shape (or None), pixels,
        class_names, output, loss.
    """

    def __init__(self, run_dir, config, model, state: dict):
        from honed.data import NORMALIZERS

        self.run_dir = Path(run_dir)
        self.config = config
        self.model = model
        self.input_shape = tuple(state["input_shape"])
        self.image_shape = tuple(state["image_shape"]) if state.get("image_shape") else None
        self.pixels = bool(state["pixels"])
        self.class_names = list(state["class_names"])
        self.output = state["output"]
        self.loss = state["loss"]
        self.dataset = state.get("dataset")
        self.task = state.get("task", "classification")
        self.normalizer = None
        if state.get("normalizer") is not None:
            kind = type(NORMALIZERS.get(state["normalize"])())
            self.normalizer = kind.from_state_dict(state["normalizer"])
        self.target_scaler = None
        if state.get("target_scaler") is not None:
            from honed.data import Standardizer

            self.target_scaler = Standardizer.from_state_dict(state["target_scaler"])
        self.table = None
        if state.get("table") is not None:
            from honed.data import TableEncoder

            self.table = TableEncoder.from_state_dict(state["table"])
        self.target_names = state.get("target_names")

    @property
    def is_regression(self) -> bool:
        return self.task == "regression"

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))

    def expected_shape(self) -> str:
        shapes = [f"(m, {self.n_features})"]
        if self.image_shape and len(self.image_shape) > 1:
            shapes.append("(m, " + ", ".join(str(s) for s in self.image_shape) + ")")
        return " or ".join(shapes)

    def encode_table(self, frame, source: str = "the input", first_line: int | None = None):
        """A table run's input → encoded features (before normalization).

        Columns are matched by name, in any order; the target column(s) may be present and
        are ignored. A training column that is missing, or a column the run does not know,
        is refused naming it. Rows are named as lines of the file from ``first_line`` (the
        line of the first example), else by the frame's index.
        """
        from honed.data.tables import RowNames

        if self.table is None:
            raise ValueError(f"{self.run_dir.name} was not trained on a table")
        known = set(self.table.columns) | set(self.target_names or [])
        unknown = [str(c) for c in frame.columns if str(c) not in known]
        # (a run from before target names were recorded: its one other column is the target)
        if unknown and not (self.target_names is None and len(unknown) == 1):
            raise ValueError(
                f"{source}: column{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(c) for c in unknown)} "
                f"{'are' if len(unknown) > 1 else 'is'} not among the run's columns "
                f"({', '.join(self.table.columns)})"
            )
        if unknown:  # the run's target is its table's last column, name not recorded
            frame = frame.drop(columns=unknown)
        where = RowNames(source, first_line) if first_line else RowNames.of_frame(source, frame)
        return self.table.transform(frame, where=where)

    def read_table_input(self, path) -> np.ndarray:
        """A CSV or Parquet file to predict on, encoded: matched by name when it has a header,
        by position (the training feature columns, in order) when it has none. A first row
        that names none of the run's columns is data, not a header."""
        from honed.data.tables import read_features

        if self.table is None:
            raise ValueError(f"{self.run_dir.name} was not trained on a table")
        frame, has_header = read_features(path)
        known = set(self.table.columns) | set(self.target_names or [])
        if has_header and not known & set(frame.columns) and Path(path).suffix == ".csv":
            frame, has_header = read_features(path, header=False)
        if not has_header:
            n = len(self.table.columns)
            if frame.shape[1] != n:
                raise ValueError(
                    f"{path}: {frame.shape[1]} columns without a header row; the run takes "
                    f"{n} feature columns in this order: {', '.join(self.table.columns)} "
                    "(or give a header row to match them by name)"
                )
            frame.columns = list(self.table.columns)
        return self.encode_table(frame, str(path), first_line=2 if has_header else 1)

    def preprocess(self, raw_X) -> np.ndarray:
        """Raw input (pixels 0..255 for image runs; a pandas DataFrame for table runs, or
        its already encoded features) → the model's normalized input."""
        if self.table is not None and hasattr(raw_X, "columns"):
            raw_X = self.encode_table(raw_X)
        X = np.asarray(raw_X)
        ok_shapes = [self.input_shape]
        if self.image_shape:
            ok_shapes.append(self.image_shape)
        if X.ndim < 2 or tuple(X.shape[1:]) not in ok_shapes:
            raise ValueError(
                f"input of shape {X.shape} does not fit this run: expected "
                f"{self.expected_shape()} ({self.run_dir.name} was trained on "
                f"{self.dataset or 'its data'})"
            )
        if X.dtype.kind not in "biuf":
            raise ValueError(f"input must be numeric, got dtype {X.dtype}")
        if self.pixels:
            from honed.data import pixels_to_unit

            X = pixels_to_unit(X)  # the same x / 255 as training (float32)
        else:
            X = X.reshape(len(X), -1)
            if X.dtype.kind != "f":
                X = X.astype(np.float32)
        if self.normalizer is not None:
            X = self.normalizer.transform(X)
        return X

    def _logits(self, raw_X) -> np.ndarray:
        from honed.autograd import Tensor, no_grad

        X = self.preprocess(raw_X)
        self.model.eval()
        with no_grad():
            parts = [self.model(Tensor(X[i : i + 4096])).data for i in range(0, len(X), 4096)]
        return np.concatenate(parts) if parts else np.empty((0, 1), dtype=np.float32)

    def _proba(self, z: np.ndarray) -> np.ndarray:
        if self.output == "sigmoid" or z.shape[1] == 1:
            p = 1.0 / (1.0 + np.exp(-z))
            return np.concatenate([1.0 - p, p], axis=1)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict_proba(self, raw_X) -> np.ndarray:
        """Class probabilities, shape ``(m, n_classes)``: softmax of the logits (a one-logit
        sigmoid run: ``[1 − σ(z), σ(z)]``)."""
        return self._proba(self._logits(raw_X))

    def predict(self, raw_X) -> np.ndarray:
        """Predicted class indices (``class_names[i]`` names them); for regression the
        predicted targets in their own units, shape ``(m, n_targets)``."""
        if self.is_regression:
            return self.predict_values(raw_X)
        return self.predict_proba(raw_X).argmax(axis=1)

    def predict_values(self, raw_X) -> np.ndarray:
        """Regression: ``ŷ = μ + σ · model(x)`` (the standardization of the training targets
        undone), shape ``(m, n_targets)``."""
        z = self._logits(raw_X).astype(np.float64)
        if self.target_scaler is not None:
            z = self.target_scaler.inverse_transform(z)
        return z

    def evaluate(self, dataset, split: str = ""):
        """Error analysis on raw labelled data: a Dataset or an ``(X, y)`` pair.

        Returns an :class:`~honed.diagnose.ErrorAnalysis` (accuracy, per-class precision,
        recall, F1, confusion matrix, most confused pairs) with the mean cost of the run's
        loss; ``.extra`` is left for the caller, and ``.predictions`` / ``.probabilities``
        hold the per-example outputs.
        """
        from honed.autograd import Tensor, no_grad
        from honed.diagnose.error_analysis import analyse
        from honed.nn import get_loss

        X, y = (dataset.X, dataset.y) if hasattr(dataset, "X") else dataset
        y = np.asarray(y)
        if len(X) != len(y):
            raise ValueError(f"dataset has {len(X)} examples but {len(y)} labels")
        if self.is_regression:
            return self._evaluate_regression(X, y, split)
        logits = self._logits(X)
        proba = self._proba(logits)
        pred = proba.argmax(axis=1)
        with no_grad():
            cost = float(get_loss(self.loss)(Tensor(logits), y).data)
        result = analyse(y, pred, self.class_names, cost=cost, split=split)
        result.predictions, result.probabilities = pred, proba
        return result

    def _evaluate_regression(self, X, y, split: str):
        from honed.autograd import Tensor, no_grad
        from honed.nn import get_loss, regression_metrics

        pred = self.predict_values(X)
        y = y.astype(np.float64).reshape(len(y), -1)
        result = RegressionEvaluation(split, regression_metrics(pred, y))
        if self.target_scaler is not None:
            with no_grad():
                z = self.target_scaler.transform(y)
                result.cost = float(get_loss(self.loss)(Tensor(self._logits(X)), z).data)
        result.predictions = pred
        return result

    def _repr_html_(self) -> str:
        """In a notebook: the run's status, errors per split, diagnosis and curves."""
        from honed.experiment.html import run_html

        return run_html(f"{self.config.name}: {self.run_dir.name}", self.run_dir)

    def __repr__(self) -> str:
        return (
            f"RunBundle({str(self.run_dir)!r}, input {self.expected_shape()}, "
            f"{len(self.class_names)} classes, normalizer {self.normalizer!r})"
        )


class RegressionEvaluation:
    """RMSE, MAE and R² of a regression run on one set, in the targets' units."""

    def __init__(self, split: str, metrics: dict):
        self.split = split
        self.rmse, self.mae, self.r2 = metrics["rmse"], metrics["mae"], metrics["r2"]
        self.cost = None
        self.predictions = None

    def to_dict(self) -> dict:
        return {
            "split": self.split,
            "rmse": self.rmse,
            "mae": self.mae,
            "r2": self.r2,
            "cost": self.cost,
        }

    def __str__(self) -> str:
        n = "" if self.predictions is None else f" ({len(self.predictions)} examples)"
        return (
            f"{self.split or 'data'}{n}: RMSE {self.rmse:.4g}  MAE {self.mae:.4g}  R² {self.r2:.4f}"
        )


def load_run(run_dir) -> RunBundle:
    """The run in ``run_dir`` ready for raw data (see the module docstring).

    The weights are ``model.npz`` (the final, or early stopping's best); a run stopped before
    it wrote one is refused with the reason.

    Raises:
        FileNotFoundError: not a run directory, or no ``model.npz`` / ``bundle.npz`` in it.
    """
    from honed.experiment.config import resolve_config
    from honed.experiment.runs import failed_reason
    from honed.nn import load
    from honed.train import load_state

    run_dir = Path(run_dir)
    failed = failed_reason(run_dir)
    if failed and not (run_dir / "model.npz").exists():
        raise ValueError(f"{run_dir}: {failed}")
    for name in ("config.json", BUNDLE_FILE, "model.npz"):
        if not (run_dir / name).exists():
            why = {
                "config.json": "is it a run directory?",
                BUNDLE_FILE: "a run from before run bundles: train it again",
                "model.npz": "the run did not finish; honed resume it first",
            }[name]
            raise FileNotFoundError(f"run {run_dir} has no {name} ({why})")
    config = resolve_config(json.loads((run_dir / "config.json").read_text()))
    state = load_state(run_dir / BUNDLE_FILE)
    if state.get("format") != FORMAT:
        raise ValueError(f"{run_dir / BUNDLE_FILE}: unsupported format {state.get('format')!r}")
    model = load(run_dir / "model.npz")
    model.eval()
    return RunBundle(run_dir, config, model, state)


__all__ = ["BUNDLE_FILE", "RunBundle", "bundle_state", "load_run", "write_bundle"]
