"""Users' own data: CSV and NumPy ``.npz`` files into a :class:`Dataset`."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from .datasets import Dataset

__all__ = ["load_csv", "load_npz"]


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def _first_text_cell(body: list[list[str]], header: bool) -> tuple[int, int, str]:
    """(file line, column index, cell) of the first cell that is not a number."""
    for i, row in enumerate(body):
        for j, cell in enumerate(row):
            if not _is_number(cell):
                return i + 1 + header, j, cell
    return 0, 0, ""


def _labels(col: np.ndarray, classification: bool | None) -> np.ndarray:
    """Integer labels if ``classification`` (or, when None, if all values are integers >= 0)."""
    whole = bool(np.all(np.isfinite(col)) and np.all(col == np.round(col)))
    integral = whole and bool(np.all(col >= 0))
    if classification is None and whole and not integral:
        first = int(np.argmax(col < 0))
        raise ValueError(
            f"class labels must be integers >= 0, got {col[first]:g} in row {first + 1} of the "
            "target column (real-valued targets: load_csv(..., classification=False))"
        )
    if classification is None:
        classification = integral
    if classification:
        if not integral:
            raise ValueError("classification=True needs integer labels >= 0 in the target column")
        return col.astype(np.int64)
    return col


def load_csv(
    path: str | os.PathLike,
    target: str | int = -1,
    delimiter: str = ",",
    header: bool | None = None,
    classification: bool | None = None,
    dtype=np.float32,
) -> Dataset:
    """Load a numeric CSV file: one column is the target ``y``, the others are ``X``.

    Header detection (``header=None``): the first row is a header when any of its cells is
    not a number.

    Args:
        path: The file.
        target: Column of ``y``: its name (needs a header) or index (negative counts from the
            end). Default: the last column.
        delimiter: Field separator.
        header: Whether the first row holds column names; ``None`` detects it.
        classification: Integer class labels (True), real targets (False), or ``None``: class
            labels when every target value is an integer >= 0.
        dtype: Dtype of ``X``.

    Raises:
        ValueError: If the target column is not there (the message names it and lists the
            columns), a cell is not a number, or rows have different lengths.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "a CSV file was expected, this is a directory", str(path))
    try:
        # utf-8-sig: a byte-order mark (Excel's "CSV UTF-8") is dropped, not glued to the
        # first cell, which would turn a number into text and lose the first row.
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); save it as UTF-8 CSV"
        ) from None
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if not rows:
        raise ValueError(f"{path}: the file holds no rows")
    if header is None:
        header = not all(_is_number(c) for c in rows[0])
    names = [c.strip() for c in rows[0]] if header else None
    body = rows[1:] if header else rows
    n_cols = len(rows[0])
    if isinstance(target, str):
        if names is None:
            raise ValueError(
                f"target={target!r} is a column name, but {path} has no header row; "
                "pass a column index"
            )
        if target not in names:
            raise ValueError(
                f"target column {target!r} not found in {path}; columns: " + ", ".join(names)
            )
        t = names.index(target)
    elif isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -n_cols <= target < n_cols:
            raise ValueError(
                f"target column index must be in [{-n_cols}, {n_cols}) for {path} "
                f"with {n_cols} columns, got {target}"
            )
        t = int(target) % n_cols
    else:
        raise ValueError(f"target must be a column name or index, got {target!r}")
    if not body:
        raise ValueError(f"{path}: only a header row, no examples")
    for i, r in enumerate(body):
        if len(r) != n_cols:
            line = i + 1 + bool(header)
            raise ValueError(f"{path}: line {line} has {len(r)} fields, expected {n_cols}")
    try:
        A = np.array(body, dtype=np.float64)
    except ValueError as e:
        line, col, cell = _first_text_cell(body, bool(header))
        name = names[col] if names else f"column {col + 1}"
        raise ValueError(
            f"{path}: line {line}, column {name!r}: every cell must be a number, got {cell!r} "
            f"({e}); for text columns, string labels or missing values use "
            'data.dataset = "table"'
        ) from None
    A = A.reshape(len(body), n_cols)
    bad = ~np.isfinite(A)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        name = names[col] if names else f"column {col + 1}"
        raise ValueError(
            f"{path}: line {row + 1 + bool(header)}, column {name!r}: {body[row][col].strip()!r} "
            "(NaN or inf) where a finite number is needed; for missing values use "
            'data.dataset = "table" with data.missing'
        )
    X = np.delete(A, t, axis=1).astype(dtype)
    try:
        y = _labels(A[:, t], classification)
        return Dataset(X, y)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def load_npz(
    path: str | os.PathLike, x_key: str = "X", y_key: str = "y", n_classes: int | None = None
) -> Dataset:
    """Load ``X`` and ``y`` from a NumPy ``.npz`` file.

    Optional arrays ``class_names`` and ``image_shape`` in the file are used too. ``X`` is
    rows of features ``(m, n_features)``, or grayscale images ``(m, height, width)``, which
    are flattened to rows of ``height·width`` pixels with ``image_shape = (height, width)``
    kept, as honed holds Fashion-MNIST (a run trained so predicts on either shape).

    Raises:
        ValueError: If ``x_key`` or ``y_key`` is not in the file (the message lists its keys),
            or ``X`` has another shape (the message names the file and the shapes taken).
    """
    import zipfile

    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "an .npz file was expected, this is a directory", str(path))
    unreadable = (
        f"{path} is not a readable .npz of numeric arrays: truncated, damaged, or pickled "
        "data (honed never unpickles data files)"
    )
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, ValueError) as err:
        raise ValueError(f"{unreadable} ({err})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} holds a single array, not an .npz archive of X and y")
    try:
        with archive as f:
            keys = list(f.keys())
            for name, key in (("x_key", x_key), ("y_key", y_key)):
                if key not in keys:
                    raise ValueError(
                        f"{name}={key!r} not found in {path}; keys: {', '.join(keys) or 'none'}"
                    )
            X, y = f[x_key], f[y_key]
            class_names = [str(c) for c in f["class_names"]] if "class_names" in keys else None
            image_shape = tuple(int(s) for s in f["image_shape"]) if "image_shape" in keys else None
    except (zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"{unreadable} ({err})") from None
    except ValueError as err:
        if str(path) in str(err):
            raise
        raise ValueError(f"{unreadable} ({err})") from None
    if X.ndim == 3:  # grayscale images: rows of pixels, the image shape kept
        image_shape = image_shape or X.shape[1:]
        X = X.reshape(len(X), -1)
    elif X.ndim != 2 and X.dtype.kind in "biuf":  # (Dataset names a non-numeric X)
        raise ValueError(
            f"{path}: {x_key} has shape {X.shape}; honed's networks take rows "
            "(m, n_features), or grayscale images (m, height, width); flatten it first "
            "(X.reshape(len(X), -1))"
        )
    try:
        return Dataset(X, y, n_classes=n_classes, class_names=class_names, image_shape=image_shape)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
