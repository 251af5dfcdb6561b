"""The ``Dataset`` container: features ``X`` (rows are examples) and labels ``y``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from honed import validation as check

__all__ = ["Dataset"]


class Dataset:
    """Features and labels of ``m`` examples, validated once on construction.

    Rows are examples: ``X`` has shape ``(m, ...)`` with any trailing shape (``(m, n)`` for
    vectors, ``(m, H, W)`` for images) and ``y`` has ``m`` rows. Labels are either integer
    classes (a 1-D integer or bool array; classification) or real targets (float, any
    trailing shape; regression).

    Validation rules (each a ``ValueError`` naming the rule and the bad value):

    * ``X`` and ``y`` have the same number of rows;
    * ``X`` is numeric and finite: NaN or inf is rejected, with the count of bad values and
      the first row that holds one;
    * integer labels are ``>= 0`` and, if ``n_classes`` is given, ``< n_classes``;
      real targets are finite.

    Indexing (int, slice, index array or boolean mask) returns a new ``Dataset`` sharing the
    metadata; an int gives a one-example Dataset, so ``ds[i].X`` keeps the batch axis.

    Args:
        X: Features, shape ``(m, ...)``.
        y: Labels, shape ``(m,)`` for classes, ``(m,)`` or ``(m, k)`` float for real targets.
        n_classes: Number of classes. Default: ``max(y) + 1`` for integer labels (or
            ``len(class_names)`` when given), ``None`` for real targets.
        class_names: Optional names of the classes, ``len == n_classes``.
        image_shape: Optional ``(H, W)`` of the images when ``X`` holds them flattened, so
            augmentation can reshape them.

    Attributes:
        X, y, n_classes, class_names, image_shape: As above (``class_names`` a tuple).
    """

    __slots__ = ("X", "class_names", "image_shape", "n_classes", "y")

    def __init__(
        self,
        X,
        y,
        n_classes: int | None = None,
        class_names: Sequence[str] | None = None,
        image_shape: tuple[int, ...] | None = None,
    ):
        X = np.asarray(X)
        y = np.asarray(y)
        if X.ndim == 0:
            raise ValueError("X must have at least one dimension (rows are examples), got a scalar")
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must be numeric (bool, int or float), got dtype {X.dtype}")
        if y.ndim == 0:
            raise ValueError("y must have one label per row of X, got a scalar")
        if len(X) != len(y):
            raise ValueError(
                f"X and y must have the same number of rows, got X with {len(X)} and y with {len(y)}"
            )
        if X.dtype.kind == "f":
            _check_finite(X, "X")
        if class_names is not None:
            class_names = tuple(str(c) for c in class_names)
            if n_classes is None:
                n_classes = len(class_names)
        if n_classes is not None:
            n_classes = check.integer("n_classes", n_classes, minimum=1)
        if y.dtype == bool:
            y = y.astype(np.int64)
        if y.dtype.kind in "iu":
            if y.ndim != 1:
                raise ValueError(f"integer class labels y must be 1-D, got shape {y.shape}")
            y = y.astype(np.int64, copy=False)
            if y.size:
                refuse_labels(y < 0, y, "y must hold class labels >= 0", "negative labels")
                if n_classes is None:
                    n_classes = int(y.max()) + 1
                refuse_labels(
                    y >= n_classes,
                    y,
                    f"y must hold class labels in [0, n_classes={n_classes})",
                    "labels out of range",
                )
            elif n_classes is None:
                n_classes = 0 if class_names is None else len(class_names)
        elif y.dtype.kind == "f":
            _check_finite(y, "y")
            if n_classes is not None:
                raise ValueError(
                    f"n_classes is only for integer class labels; y has float dtype {y.dtype} "
                    f"(cast y to int for classification), got n_classes={n_classes}"
                )
        else:
            raise ValueError(
                f"y must be integer class labels or float targets, got dtype {y.dtype}"
            )
        if class_names is not None and n_classes is not None and len(class_names) != n_classes:
            raise ValueError(
                f"class_names must have n_classes={n_classes} entries, got {len(class_names)}"
            )
        if image_shape is not None:
            image_shape = tuple(
                check.integer("image_shape entries", s, minimum=1) for s in image_shape
            )
            n_pix = int(np.prod(image_shape))
            if int(np.prod(X.shape[1:])) != n_pix:
                raise ValueError(
                    f"image_shape {image_shape} must hold the {int(np.prod(X.shape[1:]))} "
                    f"features of each row of X (shape {X.shape}), got {n_pix} pixels"
                )
        self.X, self.y = X, y
        self.n_classes = n_classes
        self.class_names = class_names
        self.image_shape = image_shape

    @classmethod
    def _trusted(cls, X, y, like: Dataset) -> Dataset:
        """Build a subset of an already validated Dataset without re-validating (cheap)."""
        out = object.__new__(cls)
        out.X, out.y = X, y
        out.n_classes, out.class_names, out.image_shape = (
            like.n_classes,
            like.class_names,
            like.image_shape,
        )
        return out

    # -- container protocol -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, index) -> Dataset:
        if isinstance(index, (int, np.integer)):
            i = int(index)
            if not -len(self) <= i < len(self):
                raise IndexError(f"index {i} is out of range for a Dataset of {len(self)} examples")
            index = slice(i, i + 1) if i != -1 else slice(i, None)
        elif isinstance(index, tuple):
            raise IndexError("Dataset indexing selects rows only; index X directly for columns")
        return Dataset._trusted(self.X[index], self.y[index], self)

    @property
    def is_classification(self) -> bool:
        """True when ``y`` holds integer class labels."""
        return self.n_classes is not None

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``X``."""
        return self.X.shape

    def class_counts(self) -> np.ndarray:
        """Number of examples of each class, shape ``(n_classes,)``.

        Raises:
            ValueError: If the labels are real targets.
        """
        self._need_classes("class_counts")
        return np.bincount(self.y, minlength=self.n_classes)

    def one_hot(self, dtype=np.float32) -> np.ndarray:
        """Labels as a one-hot matrix ``Y`` of shape ``(m, n_classes)``: ``Y[i, y[i]] = 1``.

        Note: the notes write ``Y`` as ``(C, m)`` (examples in columns); this is its transpose.
        """
        self._need_classes("one_hot")
        Y = np.zeros((len(self), self.n_classes), dtype=dtype)
        Y[np.arange(len(self)), self.y] = 1
        return Y

    def images(self) -> np.ndarray:
        """``X`` reshaped to ``(m, *image_shape)`` (a view); ``X`` itself if no image_shape."""
        if self.image_shape is None:
            return self.X
        return self.X.reshape(len(self), *self.image_shape)

    def replace(self, X=None, y=None) -> Dataset:
        """A new Dataset with ``X`` and/or ``y`` replaced, metadata kept, validated again."""
        X = self.X if X is None else X
        y = self.y if y is None else y
        image_shape = self.image_shape
        if image_shape is not None and int(np.prod(np.shape(X)[1:])) != int(np.prod(image_shape)):
            image_shape = None
        n_classes = self.n_classes if np.asarray(y).dtype.kind in "biu" else None
        return Dataset(
            X, y, n_classes=n_classes, class_names=self.class_names, image_shape=image_shape
        )

    def _need_classes(self, what: str) -> None:
        if self.n_classes is None:
            raise ValueError(
                f"{what} needs integer class labels, but y holds real targets "
                f"(dtype {self.y.dtype})"
            )

    def __repr__(self) -> str:
        parts = [f"X={self.X.shape} {self.X.dtype}", f"y={self.y.shape} {self.y.dtype}"]
        if self.n_classes is not None:
            counts = self.class_counts().tolist()
            shown = counts if len(counts) <= 10 else counts[:10] + ["..."]
            parts.append(f"n_classes={self.n_classes}")
            parts.append("counts=[" + ", ".join(map(str, shown)) + "]")
        if self.image_shape is not None:
            parts.append(f"image_shape={self.image_shape}")
        return "Dataset(" + ", ".join(parts) + ")"


def refuse_labels(bad: np.ndarray, y: np.ndarray, rule: str, what: str) -> None:
    """A ValueError when any label is ``bad`` (a mask over ``y``), naming the first one:
    ``"{rule}, got {label} at row {row} ({count} {what})"``."""
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(f"{rule}, got {int(y[first])} at row {first} ({int(bad.sum())} {what})")


def _check_finite(a: np.ndarray, name: str) -> None:
    finite = np.isfinite(a)
    if finite.all():
        return
    bad = ~finite
    n_bad = int(bad.sum())
    # First row holding a bad value: reduce over all non-row axes.
    rows = bad.reshape(len(a), -1).any(axis=1) if a.ndim > 1 else bad
    first = int(np.argmax(rows))
    raise ValueError(
        f"{name} must be finite (no NaN or inf), got {n_bad} non-finite value"
        f"{'s' if n_bad != 1 else ''}, first at row {first}"
    )
