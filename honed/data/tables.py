"""Tables (CSV, Parquet, pandas DataFrames) into NumPy features, with the encoding fitted on
the training rows only.

pandas reads the table (``pip install 'honed[tables]'``); everything fitted is kept in small
plain objects whose state is NumPy arrays and lists of strings, so a run bundle stores them
and :func:`honed.load_run` applies them unchanged:

* :class:`TableEncoder`: the feature columns → one float32 matrix (numbers as they are,
  categories one-hot, missing values imputed);
* :class:`LabelEncoder`: class labels (strings or integers) → class indices, names kept.

The path from a file to a dataset::

    table = read_table("penguins.csv", target="species")        # RawTable: not encoded
    rows = table.index_dataset()    # Dataset(X = row positions, y = labels) to split
    ... split rows into train / dev / test ...
    train, dev, test, encoder = table.encode(train_rows, dev_rows, test_rows)

:func:`from_frame` does it in one call for a DataFrame already in memory.

Rows in messages are counted as in the file: ``line 1`` is the header, the first example is
``line 2`` (``line 1`` without a header); a DataFrame's rows are named by its index label.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import numpy as np

from .datasets import Dataset

#: ``data.task = "auto"`` takes classification only up to this many distinct labels.
MAX_AUTO_CLASSES = 50

__all__ = [
    "MAX_AUTO_CLASSES",
    "LabelEncoder",
    "RawTable",
    "RowNames",
    "TableEncoder",
    "TablesMissing",
    "from_frame",
    "read_table",
    "read_features",
]


class TablesMissing(ImportError, ValueError):
    """pandas (or pyarrow) is not installed; the message names the extra. A ValueError too,
    so the command line reports it in one line."""


def _pandas():
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - depends on the environment
        raise TablesMissing(
            "reading tables needs pandas (and pyarrow for Parquet): pip install 'honed[tables]'"
        ) from None
    return pd


def _is_number_text(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


# -- reading ----------------------------------------------------------------------------------
def _read_frame(path: Path, header: bool | None):
    """``(DataFrame, has_header)`` of a CSV or Parquet file; CSV header detected when None:
    a first row of numbers only is data."""
    pd = _pandas()
    if not path.exists():
        raise FileNotFoundError(2, "no such file", str(path))
    if path.is_dir():
        raise IsADirectoryError(21, "a table file was expected, this is a directory", str(path))
    suffix = ("".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix).lower()
    if suffix not in (".csv", ".csv.gz", ".txt", ".parquet", ".pq"):
        raise ValueError(
            f"{path}: a table must be a CSV (.csv, .csv.gz, .txt) or Parquet (.parquet) file, "
            f"got {path.name!r}"
        )
    if suffix in (".parquet", ".pq"):
        try:
            return pd.read_parquet(path), True
        except ImportError:
            raise TablesMissing(
                "reading Parquet needs pyarrow: pip install 'honed[tables]'"
            ) from None
        except Exception as err:  # pyarrow raises its own error types
            raise ValueError(f"{path}: not a readable Parquet file ({err})") from None
    try:
        if header is None:
            first = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False)
            header = not all(_is_number_text(c) for c in first.iloc[0].tolist())
        frame = pd.read_csv(path, header=0 if header else None, skipinitialspace=True)
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: not UTF-8 text ({err.reason} at byte {err.start}); save it as UTF-8 CSV"
        ) from None
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path}: the file holds no rows") from None
    except pd.errors.ParserError as err:
        raise ValueError(f"{path}: not a readable CSV table ({err})") from None
    if not header:
        frame.columns = [f"column {i + 1}" for i in range(frame.shape[1])]
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, bool(header)


class RowNames:
    """Names rows as the user sees them in messages: ``line N`` of a file (``first_line`` the
    line of the first example), or given names (a DataFrame's ``row 'label'``, rows left
    after a drop). ``source`` is the file (or ``"DataFrame"``) the rows come from."""

    def __init__(self, source: str, first_line: int | None, names=None):
        self.source, self.first_line, self.names = source, first_line, names

    @classmethod
    def of_frame(cls, source: str, frame) -> RowNames:
        return cls(source, None, [f"row {label!r}" for label in frame.index])

    def row(self, position: int) -> str:
        if self.first_line is None:
            return self.names[position]
        return f"line {position + self.first_line}"

    def subset(self, positions) -> RowNames:
        return RowNames(self.source, None, [self.row(int(p)) for p in positions])


class RawTable:
    """A table's feature columns and target columns, read but not yet encoded.

    Attributes:
        features: DataFrame of the feature columns (file order).
        targets: DataFrame of the target column(s).
        source: the file (or ``"DataFrame"``), for messages.
        task: ``"auto"`` (classification of at most :data:`MAX_AUTO_CLASSES` distinct
            labels), ``"classification"`` or ``"regression"``.
        labels: the :class:`LabelEncoder` (classification), fitted on every row: the set of
            classes is the vocabulary of the labels, not a statistic of the training split.
    """

    def __init__(self, frame, target, source: str, where: RowNames, task: str, categorical=()):
        pd = _pandas()
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"a table must be a pandas DataFrame, got {type(frame).__name__}")
        frame = frame.copy()
        frame.columns = [str(c) for c in frame.columns]
        names = list(frame.columns)
        duplicated = sorted({c for c in names if names.count(c) > 1})
        if duplicated:
            raise ValueError(f"{source}: column names must be unique, got {duplicated} twice")
        if len(frame) == 0:
            raise ValueError(f"{source}: only a header row, no examples")
        targets = _target_names(target, names, source)
        self.source, self.where, self.task = source, where, task
        self.target_names = targets
        self.features = frame[[c for c in names if c not in targets]]
        if self.features.shape[1] == 0:
            raise ValueError(f"{source}: no feature columns besides the target {targets}")
        self.targets = frame[targets]
        unknown = sorted(set(categorical) - set(self.features.columns))
        if unknown:
            raise ValueError(
                f"data.categorical names {unknown}, not feature columns of {source} "
                f"(columns: {', '.join(self.features.columns)})"
            )
        self.categorical = list(categorical)
        self.labels: LabelEncoder | None = None

    def drop_missing(self) -> int:
        """Drop the rows with a missing value anywhere; returns how many were dropped."""
        keep = ~(self.features.isna().any(axis=1) | self.targets.isna().any(axis=1))
        dropped = int((~keep).sum())
        if dropped:
            self._keep(np.flatnonzero(keep.to_numpy()))
        return dropped

    def _keep(self, positions) -> None:
        self.features = self.features.iloc[positions]
        self.targets = self.targets.iloc[positions]
        self.where = self.where.subset(positions)

    def drop_missing_targets(self) -> int:
        """Drop the rows whose target is missing (a target cannot be imputed)."""
        keep = ~self.targets.isna().any(axis=1)
        dropped = int((~keep).sum())
        if dropped:
            self._keep(np.flatnonzero(keep.to_numpy()))
        return dropped

    def target_array(self, n_classes: int = 0) -> np.ndarray:
        """The targets: class indices (classification, fitting :attr:`labels`) or floats
        ``(m, k)`` (regression)."""
        missing = self.targets.isna().to_numpy()
        if missing.any():
            row, col = np.argwhere(missing)[0]
            raise ValueError(
                f"{self.source}: {self.where.row(row)}, column {self.target_names[col]!r}: "
                'missing target value (data.missing = "drop" drops such rows)'
            )
        if self.task == "regression":
            out = np.empty(self.targets.shape, dtype=np.float64)
            for j, name in enumerate(self.target_names):
                out[:, j] = _numbers(self.targets[name], name, self.source, self.where)
            return out
        if len(self.target_names) != 1:
            raise ValueError(
                f"data.target lists {len(self.target_names)} columns; several targets are for "
                'regression only (data.task = "regression")'
            )
        column = self.targets[self.target_names[0]]
        auto = self.task == "auto"
        self.labels = LabelEncoder.fit(column, self.target_names[0], self.source, auto=auto)
        return self.labels.transform(column, self.source, self.where)

    def index_dataset(self) -> Dataset:
        """``Dataset(X = row positions, y = targets)``: what the splitting code splits."""
        y = self.target_array()
        positions = np.arange(len(self.features), dtype=np.int64).reshape(-1, 1)
        names = self.labels.classes if self.labels is not None else None
        return Dataset(positions, y, class_names=names)

    def encode(self, *row_sets: Dataset, missing: str = "error", unknown: str = "error"):
        """Fit a :class:`TableEncoder` on the first set's rows, encode every set.

        Returns:
            ``(*datasets, encoder)``: Datasets of float32 features with the sets' targets.
        """
        train_rows = row_sets[0].X[:, 0]
        encoder = TableEncoder.fit(
            self.features.iloc[train_rows],
            categorical=self.categorical,
            missing=missing,
            unknown=unknown,
            where=self.where.subset(train_rows),
        )
        out = []
        for rows in row_sets:
            if rows is None:
                out.append(None)
                continue
            positions = rows.X[:, 0]
            X = encoder.transform(self.features.iloc[positions], where=self.where.subset(positions))
            out.append(rows.replace(X=X))
        return (*out, encoder)


def _target_names(target, names: list[str], source: str) -> list[str]:
    if target is None:
        return [names[-1]]
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -len(names) <= target < len(names):
            raise ValueError(
                f"target column index must be in [{-len(names)}, {len(names)}) for {source} "
                f"with {len(names)} columns, got {target}"
            )
        return [names[int(target)]]
    wanted = [target] if isinstance(target, str) else list(target)
    for name in wanted:
        if name not in names:
            raise ValueError(
                f"target column {name!r} not found in {source}; columns: " + ", ".join(names)
            )
    return wanted


def _numbers(series, column: str, source: str, where: RowNames) -> np.ndarray:
    """A column as float64; text where a number is needed is refused, naming row and column."""
    pd = _pandas()
    if series.dtype == bool:
        return series.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bad.any():
        pos = int(np.argmax(bad.to_numpy()))
        raise ValueError(
            f"{source}: {where.row(pos)}, column {column!r}: text {series.iloc[pos]!r} where a "
            "number is needed"
        )
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


def _category_text(series) -> list[str | None]:
    """Category values as strings (None where missing); whole floats as integers ("2007")."""
    out: list[str | None] = []
    for v in series.tolist():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif isinstance(v, float) and v.is_integer():
            out.append(str(int(v)))
        else:
            out.append(str(v).strip())
    return out


def _mostly_numbers(series) -> bool:
    """A text column whose non-missing cells are mostly numbers: a numeric column with typos."""
    values = [v for v in series.dropna().tolist()]
    if not values:
        return False
    numeric = sum(_is_number_text(v) for v in values if not isinstance(v, bool))
    return numeric > len(values) / 2


class TableEncoder:
    """The feature columns of a table → a float32 matrix, as fitted on the training rows.

    Exactly this transformation, column by column in :attr:`columns` order, each input row
    giving one output row:

    * number column ``j`` (``kinds[j] == "number"``): one output value, the cell as a float;
      a missing cell becomes ``fill_numbers[j]`` (the training median) when
      ``missing == "impute"``, and is refused otherwise;
    * category column ``j`` (``kinds[j] == "category"``): ``len(categories[j])`` output values,
      the one-hot code ``[v == c for c in categories[j]]`` of its text ``v`` (categories
      learned on the training rows, sorted); a missing cell becomes ``fill_categories[j]``
      (the most frequent training category) when ``missing == "impute"``; a category not in
      ``categories[j]`` is refused naming column and value, or, with
      ``unknown == "ignore"``, gives all zeros.

    The input normalizer (``data.normalize``) then applies to the whole matrix.

    Attributes (the state, plain data):
        columns: feature column names, list of str.
        kinds: ``"number"`` or ``"category"`` per column.
        categories: per column, the sorted category texts (``[]`` for number columns).
        fill_numbers: float64 array, per column the training median (NaN for categories).
        fill_categories: per column the most frequent category ("" for number columns).
        missing: ``"error"`` | ``"drop"`` | ``"impute"``.
        unknown: ``"error"`` | ``"ignore"``.
    """

    def __init__(
        self,
        columns,
        kinds,
        categories,
        fill_numbers,
        fill_categories,
        missing: str = "error",
        unknown: str = "error",
    ):
        self.columns = [str(c) for c in columns]
        self.kinds = [str(k) for k in kinds]
        self.categories = [[str(c) for c in cats] for cats in categories]
        self.fill_numbers = np.asarray(fill_numbers, dtype=np.float64)
        self.fill_categories = [str(c) for c in fill_categories]
        self.missing = missing
        self.unknown = unknown

    @classmethod
    def fit(
        cls,
        frame,
        categorical=(),
        missing: str = "error",
        unknown: str = "error",
        where: RowNames | None = None,
    ) -> TableEncoder:
        """Learn the column kinds, categories and fill values from the training rows."""
        pd = _pandas()
        kinds, categories, fill_numbers, fill_categories = [], [], [], []
        where = where or RowNames.of_frame("the table", frame)
        source = where.source
        for name in frame.columns:
            series = frame[name]
            numeric = pd.api.types.is_numeric_dtype(series.dtype) and series.dtype != bool
            if name not in categorical and not numeric and _mostly_numbers(series):
                # a number column with text in it (pandas then reads it all as text): the
                # text cell is refused, here or wherever it is
                numeric = True
            if numeric and name not in categorical:
                values = _numbers(series, name, source, where)
                seen = values[~np.isnan(values)]
                kinds.append("number")
                categories.append([])
                fill_numbers.append(float(np.median(seen)) if len(seen) else 0.0)
                fill_categories.append("")
            else:
                text = [v for v in _category_text(series) if v is not None]
                cats = sorted(set(text))
                counts = {c: 0 for c in cats}
                for v in text:
                    counts[v] += 1
                if len(cats) > 50 and len(cats) > len(text) / 2:
                    from .checks import DataWarning

                    warnings.warn(
                        f"{source}: column {name!r} has {len(cats)} distinct values in "
                        f"{len(text)} training rows: one-hot encoding makes as many features "
                        "(an identifier or free text? leave the column out)",
                        DataWarning,
                        stacklevel=2,
                    )
                kinds.append("category")
                categories.append(cats)
                fill_numbers.append(np.nan)
                # most frequent; a tie goes to the first in sorted order
                fill_categories.append(
                    max(cats, key=lambda c: (counts[c], -cats.index(c))) if cats else ""
                )
        return cls(
            frame.columns, kinds, categories, fill_numbers, fill_categories, missing, unknown
        )

    @property
    def n_outputs(self) -> int:
        """Width of the encoded matrix."""
        return sum(1 if k == "number" else len(c) for k, c in zip(self.kinds, self.categories))

    def output_names(self) -> list[str]:
        """One name per encoded column: ``bill_length_mm``, ``island=Biscoe``, ..."""
        names = []
        for name, kind, cats in zip(self.columns, self.kinds, self.categories):
            names += [name] if kind == "number" else [f"{name}={c}" for c in cats]
        return names

    def transform(self, frame, where: RowNames | None = None, source: str = "the table"):
        """Encode the rows of ``frame`` (columns matched by name; other columns ignored).

        Raises:
            ValueError: a column is missing, a cell is missing (``missing != "impute"``),
                text where a number is needed, or an unseen category (``unknown ==
                "error"``); the message names the row and the column.
        """
        where = where or RowNames.of_frame(source, frame)
        source = where.source
        absent = [c for c in self.columns if c not in frame.columns]
        if absent:
            raise ValueError(
                f"{source}: column{'s' if len(absent) > 1 else ''} "
                f"{', '.join(repr(c) for c in absent)} of the training data "
                f"{'are' if len(absent) > 1 else 'is'} missing"
            )
        m = len(frame)
        out = np.zeros((m, self.n_outputs), dtype=np.float32)
        at = 0
        for j, name in enumerate(self.columns):
            series = frame[name]
            if self.kinds[j] == "number":
                values = _numbers(series, name, source, where)
                holes = np.isnan(values)
                if holes.any():
                    values = self._fill(values, holes, j, where, name)
                bad = ~np.isfinite(values)
                if bad.any():
                    pos = int(np.argmax(bad))
                    raise ValueError(
                        f"{source}: {where.row(pos)}, column {name!r}: value {values[pos]} is "
                        "not finite"
                    )
                out[:, at] = values
                at += 1
                continue
            cats = self.categories[j]
            index = {c: i for i, c in enumerate(cats)}
            for pos, v in enumerate(_category_text(series)):
                if v is None:
                    if self.missing != "impute":
                        raise self._missing_error(where, pos, name)
                    v = self.fill_categories[j]
                k = index.get(v)
                if k is None:
                    if self.unknown == "ignore":
                        continue
                    raise ValueError(
                        f"{source}: {where.row(pos)}, column {name!r}: category {v!r} was not "
                        f"in the training data (known: {', '.join(cats)}); "
                        'data.unknown_category = "ignore" encodes it as all zeros'
                    )
                out[pos, at + k] = 1.0
            at += len(cats)
        return out

    def _fill(self, values, holes, j, where, name):
        if self.missing != "impute":
            raise self._missing_error(where, int(np.argmax(holes)), name)
        values = values.copy()
        values[holes] = self.fill_numbers[j]
        return values

    def _missing_error(self, where: RowNames, pos: int, name: str) -> ValueError:
        return ValueError(
            f"{where.source}: {where.row(pos)}, column {name!r}: missing value "
            '(data.missing = "drop" drops such rows, "impute" fills them from the training rows)'
        )

    def state_dict(self) -> dict:
        return {
            "columns": list(self.columns),
            "kinds": list(self.kinds),
            "categories": [list(c) for c in self.categories],
            "fill_numbers": self.fill_numbers.copy(),
            "fill_categories": list(self.fill_categories),
            "missing": self.missing,
            "unknown": self.unknown,
        }

    @classmethod
    def from_state_dict(cls, state: dict) -> TableEncoder:
        return cls(**state)

    def __repr__(self) -> str:
        n_cat = self.kinds.count("category")
        return (
            f"TableEncoder({len(self.columns)} columns: {len(self.columns) - n_cat} numbers, "
            f"{n_cat} categories → {self.n_outputs} features)"
        )


class LabelEncoder:
    """Class labels → class indices: ``y = classes.index(text of the label)``.

    ``classes`` are the distinct labels as text, sorted (numerically when they are all
    numbers, so integer labels 0..C−1 keep their indices). State: ``classes`` (list of str).
    """

    def __init__(self, classes):
        self.classes = [str(c) for c in classes]

    @classmethod
    def fit(cls, series, column: str, source: str, auto: bool = True) -> LabelEncoder:
        pd = _pandas()
        if pd.api.types.is_float_dtype(series.dtype):
            values = series.to_numpy(dtype=np.float64)
            if not np.all(values == np.round(values)):
                frac = values[values != np.round(values)][0]
                raise ValueError(
                    f"{source}: the target column {column!r} holds real numbers (e.g. {frac:g}), "
                    'not class labels: set data.task = "regression" (with model.output = '
                    '"linear")'
                )
        text = _category_text(series)
        distinct = sorted(set(text), key=_label_order(text))
        if auto and len(distinct) > MAX_AUTO_CLASSES:
            raise ValueError(
                f"{source}: the target column {column!r} has {len(distinct)} distinct values, "
                f'too many to be classes (data.task = "auto" takes at most '
                f'{MAX_AUTO_CLASSES}): for a numeric target set data.task = "regression" '
                '(with model.output = "linear")'
            )
        return cls(distinct)

    def transform(self, series, source: str = "the table", where: RowNames | None = None):
        index = {c: i for i, c in enumerate(self.classes)}
        out = np.empty(len(series), dtype=np.int64)
        for pos, v in enumerate(_category_text(series)):
            if v not in index:
                row = where.row(pos) if where else f"row {pos}"
                raise ValueError(
                    f"{source}: {row}: label {v!r} is not one of the classes "
                    f"{', '.join(self.classes)}"
                )
            out[pos] = index[v]
        return out

    def state_dict(self) -> dict:
        return {"classes": list(self.classes)}

    @classmethod
    def from_state_dict(cls, state: dict) -> LabelEncoder:
        return cls(state["classes"])


def _label_order(text):
    if all(_is_number_text(t) for t in text if t is not None):
        return lambda t: (float(t), t)
    return lambda t: t


# -- entry points -----------------------------------------------------------------------------
def read_table(
    path: str | os.PathLike,
    target=None,
    task: str = "auto",
    categorical=(),
    header: bool | None = None,
) -> RawTable:
    """A CSV or Parquet file as a :class:`RawTable` (not yet encoded).

    Args:
        target: target column name, list of names (regression), or index (default: last).
        task: ``"auto"``, ``"classification"`` or ``"regression"`` (see :class:`RawTable`).
        categorical: numeric columns to treat as categories.
        header: CSV: whether the first row names the columns (None: detected, a first row of
            numbers only is data).
    """
    path = Path(path)
    frame, has_header = _read_frame(path, header)
    where = RowNames(str(path), 2 if has_header else 1)
    return RawTable(frame, target, str(path), where, task, categorical)


def read_features(path: str | os.PathLike, header: bool | None = None):
    """``(DataFrame, has_header)`` of a file to predict on (CSV or Parquet); ``header`` as
    in :func:`read_table`."""
    return _read_frame(Path(path), header)


def from_frame(
    frame,
    target,
    task: str = "auto",
    categorical=(),
    missing: str = "error",
    unknown_category: str = "error",
):
    """A pandas DataFrame → ``(Dataset, TableEncoder)`` with the same typing, encoding and
    missing-value rules as an experiment's ``dataset = "table"``; the encoding is fitted on
    all of ``frame`` (for a split fitted on train only, use an experiment file or
    :meth:`RawTable.encode`).

    Args:
        target: the target column (or list of columns: regression).
        task: ``"auto"`` (classification of at most 50 distinct labels, else refused),
            ``"classification"`` or ``"regression"``.
        missing: ``"error"``, ``"drop"`` or ``"impute"``.

    Returns:
        ``(dataset, encoder)``: the Dataset (class names kept) and the fitted
        :class:`TableEncoder` (``encoder.transform(new_frame)`` encodes new rows).
    """
    table = RawTable(
        frame,
        target,
        "DataFrame",
        RowNames.of_frame("DataFrame", frame),
        task,
        categorical,
    )
    prepare_missing(table, missing)
    rows = table.index_dataset()
    dataset, encoder = table.encode(rows, missing=missing, unknown=unknown_category)
    return dataset, encoder


def prepare_missing(table: RawTable, missing: str) -> None:
    """``data.missing`` before splitting: drop rows (``"drop"``; the count is warned), or drop
    rows without a target (``"impute"``: a target cannot be imputed)."""
    from .checks import DataWarning

    if missing == "drop":
        dropped = table.drop_missing()
        what = "a missing value"
    elif missing == "impute":
        dropped = table.drop_missing_targets()
        what = "a missing target"
    elif missing == "error":
        return
    else:
        raise ValueError(f'missing must be "error", "drop" or "impute", got {missing!r}')
    if dropped:
        warnings.warn(
            f"{table.source}: {dropped} row{'s' if dropped != 1 else ''} with {what} dropped "
            f"({len(table.features)} left)",
            DataWarning,
            stacklevel=2,
        )
    if len(table.features) == 0:
        raise ValueError(f"{table.source}: no rows left after dropping those with missing values")
