"""``honed evaluate``: error analysis of a run on one of its splits or on a data file.

Writes into the run directory ``evaluation-SPLIT.json`` (accuracy, per-class precision /
recall / F1, confusion matrix, most confused pairs; for regression RMSE, MAE and R²),
``confusion-SPLIT.png`` (regression: ``predicted-SPLIT.png``, predicted against true), and for image
data ``misclassified-SPLIT.png`` (a grid of wrong predictions, true → predicted), for 2-D
inputs ``boundary-SPLIT.png`` (the decision boundary over the data). SPLIT is ``train``,
``dev``, ``test`` or the data file's stem.
"""

from __future__ import annotations

import json
from pathlib import Path

from honed import validation as check

SPLITS = ("train", "dev", "test")


def load_labelled(path, target=None, bundle=None):
    """A labelled data file: ``.npz`` (arrays X, y) or ``.csv`` (label in the last column,
    or ``target``); for a run trained on a table, a CSV or Parquet table encoded with the
    run's own encoder (columns matched by name)."""
    from honed.data import Dataset, load_csv, load_npz

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"--data {path} does not exist")
    if bundle is not None and bundle.table is not None:
        from honed.data.tables import LabelEncoder, read_table

        table = read_table(path, target=target, task=bundle.task)
        X = bundle.table.transform(table.features, where=table.where)
        if bundle.is_regression:
            y = table.target_array()
        else:
            y = LabelEncoder(bundle.class_names).transform(
                table.targets.iloc[:, 0], str(path), table.where
            )
        return Dataset(X, y)
    if path.suffix == ".npz":
        return load_npz(path)
    if path.suffix == ".csv":
        return load_csv(path, target=-1 if target is None else target)
    raise ValueError(f"--data must be a .npz (X, y) or .csv file, got {path.name!r}")


def split_of(bundle, split: str):
    """The raw rows of one of the run's splits, rebuilt from its config."""
    from honed.experiment.build import split_raw

    check.one_of("--split", split, SPLITS)
    train, dev, test = split_raw(bundle.config)
    return {"train": train, "dev": dev, "test": test}[split]


def evaluate_run(bundle, split: str = "test", data=None, figures: bool = True):
    """Error analysis of ``bundle`` (a :class:`RunBundle`) on ``split`` or the file ``data``.

    Returns ``(analysis, written files)``.
    """
    if data is not None:
        dataset = load_labelled(data, target=bundle.config.data.target, bundle=bundle)
        name = Path(data).stem
    else:
        dataset = split_of(bundle, split)
        name = split
    analysis = bundle.evaluate(dataset, split=name)
    out = bundle.run_dir
    written = []
    path = out / f"evaluation-{name}.json"
    path.write_text(json.dumps(analysis.to_dict(), indent=2))
    written.append(path)
    if not figures:
        return analysis, written
    try:
        from honed.plots import evaluation as plots
    except ImportError:  # matplotlib is optional
        return analysis, written
    title = bundle.config.name
    if bundle.is_regression:
        written.append(
            plots.plot_regression(
                analysis.predictions,
                dataset.y,
                out / f"predicted-{name}.png",
                names=bundle.target_names,
                title=title,
            )
        )
        return analysis, written
    written.append(plots.plot_confusion(analysis, out / f"confusion-{name}.png", title=title))
    y = dataset.y
    if bundle.image_shape and len(bundle.image_shape) == 2:
        written.append(
            plots.plot_misclassified(
                dataset.X,
                y,
                analysis.predictions,
                analysis.class_names,
                out / f"misclassified-{name}.png",
                bundle.image_shape,
                title=title,
            )
        )
    elif bundle.n_features == 2:
        written.append(
            plots.plot_decision_boundary(
                bundle.predict_proba,
                dataset.X,
                y,
                analysis.class_names,
                out / f"boundary-{name}.png",
                title=title,
            )
        )
    return analysis, written


__all__ = ["SPLITS", "evaluate_run", "load_labelled", "split_of"]
