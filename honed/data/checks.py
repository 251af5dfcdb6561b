"""Checks of a loaded data set before training: label range, classes, size.

Errors (``ValueError`` naming the key or file and the bad value) for what cannot be right:
a label outside ``[0, data.n_classes)``. Warnings for what is probably not meant:

* one class only — every model then reaches 0 % error and the verdict means nothing;
* a class with one or two examples among many (a typo such as a label 10 among 0–9
  quietly makes an extra class; declare ``data.n_classes`` to refuse it);
* fewer than :data:`TINY` examples — dev and test sets that small measure nothing.
"""

from __future__ import annotations

import warnings

import numpy as np

from .datasets import Dataset, refuse_labels

__all__ = ["TINY", "DataWarning", "check_classes", "warn_if_tiny"]

#: Below this many examples the data set is called tiny (a warning, not an error).
TINY = 20


class DataWarning(UserWarning):
    """The data is valid but probably not what was meant."""


def check_classes(dataset: Dataset, n_classes: int, what: str) -> Dataset:
    """``dataset`` with ``n_classes`` declared (``data.n_classes``; 0: inferred as max + 1),
    after checking its integer labels; float targets (regression) pass through unchecked.

    Raises:
        ValueError: a label is ``>= n_classes``, or the source declares another count.
    """
    y = dataset.y
    if y.dtype.kind not in "iu" or y.size == 0:
        if n_classes:
            raise ValueError(
                f"data.n_classes = {n_classes} is for class labels, but the {what} targets "
                f"are real numbers (dtype {y.dtype})"
            )
        return dataset
    if n_classes:
        if dataset.n_classes and dataset.n_classes != n_classes and dataset.class_names:
            raise ValueError(
                f"data.n_classes = {n_classes}, but the {what} data has {dataset.n_classes} "
                "named classes"
            )
        refuse_labels(
            y >= n_classes,
            y,
            f"data.n_classes = {n_classes}: the {what} labels must be in [0, {n_classes})",
            "labels out of range",
        )
        if dataset.n_classes != n_classes:
            dataset = Dataset(
                dataset.X,
                dataset.y,
                n_classes=n_classes,
                image_shape=dataset.image_shape,
            )
    counts = np.bincount(y, minlength=int(dataset.n_classes or 0))
    present = np.flatnonzero(counts)
    if len(present) == 1:
        warnings.warn(
            f"the {what} data holds one class only (label {int(present[0])}): every model "
            "reaches 0 % error on it, so errors and the bias/variance verdict mean nothing",
            DataWarning,
            stacklevel=2,
        )
    elif not n_classes and len(y) >= 100:
        rare = [int(c) for c in present if counts[c] <= 2]
        if rare:
            warnings.warn(
                f"the {what} data has {len(y)} examples but class(es) {rare} have at most 2: "
                "a mistyped label? Declare data.n_classes to refuse labels out of range",
                DataWarning,
                stacklevel=2,
            )
    return dataset


def warn_if_tiny(dataset: Dataset, what: str) -> None:
    """Warn when ``dataset`` has fewer than :data:`TINY` examples."""
    if len(dataset) < TINY:
        warnings.warn(
            f"the {what} data has only {len(dataset)} examples (< {TINY}): dev and test "
            "sets split from it are too small to measure an error",
            DataWarning,
            stacklevel=2,
        )
