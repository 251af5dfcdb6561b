"""Input normalization fitted on the training set only.

The notes: compute ``μ = 1/m Σ x⁽ⁱ⁾`` and ``σ² = 1/m Σ (x⁽ⁱ⁾ - μ)²`` on the **training**
set and use the *same* μ and σ to normalize dev and test; never refit on them.
"""

from __future__ import annotations

import numpy as np

from .datasets import Dataset

__all__ = ["MinMaxScaler", "NotFittedError", "Standardizer"]


class NotFittedError(ValueError):
    """A scaler was used before ``fit``."""


def _unpack(X):
    """``(array, dataset or None)`` for an ndarray / array-like or a Dataset."""
    if isinstance(X, Dataset):
        return X.X, X
    return np.asarray(X), None


def _pack(out: np.ndarray, ds: Dataset | None):
    return out if ds is None else ds.replace(X=out)


def _out_dtype(dtype: np.dtype) -> np.dtype:
    # float32 stays float32 (and float16 → float32); ints go to the float that holds them.
    return np.result_type(dtype, np.float32)


def _degenerate(scale: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Where a spread is zero up to float64 rounding of a constant feature's mean."""
    return (scale == 0) | (scale <= 1e-12 * np.abs(center))


class _Scaler:
    """Shared machinery: validation, feature shape, Dataset in → Dataset out, state dicts."""

    _fitted_attrs: tuple[str, ...] = ()

    def __init__(self, per_feature: bool = True):
        if not isinstance(per_feature, (bool, np.bool_)):
            raise ValueError(f"per_feature must be a bool, got {per_feature!r}")
        self.per_feature = bool(per_feature)
        self.feature_shape_: tuple[int, ...] | None = None

    # -- helpers ------------------------------------------------------------------------------
    def _check_fit_input(self, X: np.ndarray) -> None:
        if X.ndim == 0 or len(X) == 0:
            raise ValueError(
                f"X must hold at least one example (rows are examples), got shape {X.shape}"
            )
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must be numeric, got dtype {X.dtype}")
        if X.dtype.kind == "f" and not np.isfinite(X).all():
            raise ValueError(
                f"X must be finite to fit {type(self).__name__}, got "
                f"{int((~np.isfinite(X)).sum())} NaN/inf values"
            )

    def _check_transform_input(self, X: np.ndarray, method: str) -> None:
        if self.feature_shape_ is None:
            raise NotFittedError(
                f"{type(self).__name__}.{method} called before fit: call fit "
                "(on the training set) first"
            )
        if X.ndim == 0 or X.shape[1:] != self.feature_shape_:
            raise ValueError(
                f"X must have feature shape {self.feature_shape_} (as at fit), got "
                f"X of shape {X.shape}"
            )

    def _map(self, X, method: str, formula):
        """``formula(A, dt)`` on the array of ``X`` (checked for ``method``) in the output
        dtype ``dt``; returns the same kind as ``X`` (ndarray or Dataset), new memory."""
        A, ds = _unpack(X)
        self._check_transform_input(A, method)
        dt = _out_dtype(A.dtype)
        return _pack(formula(A, dt).astype(dt, copy=False), ds)

    def fit_transform(self, X):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    # -- state ----------------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """A plain dict of arrays and scalars (saveable with ``np.savez``)."""
        if self.feature_shape_ is None:
            raise NotFittedError(f"{type(self).__name__}.state_dict called before fit")
        d = {
            "type": type(self).__name__,
            "per_feature": self.per_feature,
            "feature_shape": np.array(self.feature_shape_, dtype=np.int64),
        }
        d.update({a: np.array(getattr(self, a)) for a in self._fitted_attrs})
        return d

    @classmethod
    def from_state_dict(cls, state) -> _Scaler:
        """Rebuild a fitted scaler from :meth:`state_dict` (also after a round trip through npz)."""
        state = dict(state)
        kind = str(np.asarray(state.get("type", cls.__name__)))
        if kind != cls.__name__:
            raise ValueError(f"state_dict type must be {cls.__name__!r}, got {kind!r}")
        missing = [
            k for k in ("per_feature", "feature_shape", *cls._fitted_attrs) if k not in state
        ]
        if missing:
            raise ValueError(f"state_dict for {cls.__name__} lacks keys: {', '.join(missing)}")
        obj = cls.__new__(cls)
        obj._init_from_state(state)
        obj.per_feature = bool(np.asarray(state["per_feature"]))
        obj.feature_shape_ = tuple(int(s) for s in np.asarray(state["feature_shape"]).reshape(-1))
        for a in cls._fitted_attrs:
            setattr(obj, a, np.asarray(state[a], dtype=np.float64))
        return obj

    def _init_from_state(self, state) -> None:
        pass

    def _stat_axes(self, X: np.ndarray):
        return 0 if self.per_feature else None


class Standardizer(_Scaler):
    """Zero mean, unit variance: ``x_norm = (x - μ) / σ`` with μ, σ from the training set.

    ``μ = 1/m Σ x⁽ⁱ⁾``, ``σ = sqrt(1/m Σ (x⁽ⁱ⁾ - μ)²)`` (population σ, the notes' 1/m),
    per feature (``per_feature=True``, shape ``X.shape[1:]``) or one scalar over every value
    (``per_feature=False``, good for images). A feature with ``σ = 0`` (constant in training)
    is only centred: its σ is stored as 1 rather than dividing by zero.

    ``transform`` applies the *fitted* μ, σ to any set, so dev and test are normalized like
    train but are not forced to mean 0. float32 input stays float32; statistics are computed
    in float64.

    Attributes:
        mean_, std_: Learned μ and σ (float64; scalars as 0-d arrays when not per feature).

    Raises:
        NotFittedError: ``transform`` before ``fit``.
        ValueError: Input of another feature shape than at fit, or non-finite fit input.
    """

    _fitted_attrs = ("mean_", "std_")

    def fit(self, X) -> Standardizer:
        """Learn ``mean_`` and ``std_`` from ``X`` (the training set only). Returns self."""
        A, _ = _unpack(X)
        self._check_fit_input(A)
        ax = self._stat_axes(A)
        mean = A.mean(axis=ax, dtype=np.float64)
        std = A.std(axis=ax, dtype=np.float64)
        std = np.where(_degenerate(std, mean), 1.0, std)
        self.mean_, self.std_ = np.asarray(mean), np.asarray(std)
        self.feature_shape_ = A.shape[1:]
        return self

    def transform(self, X):
        """``(X - mean_) / std_``; returns the same kind (ndarray or Dataset), new memory."""
        return self._map(
            X, "transform", lambda A, dt: (A - self.mean_.astype(dt)) / self.std_.astype(dt)
        )

    def inverse_transform(self, X):
        """``X · std_ + mean_`` (undoes ``transform``)."""
        return self._map(
            X, "inverse_transform", lambda A, dt: A * self.std_.astype(dt) + self.mean_.astype(dt)
        )

    def __repr__(self) -> str:
        return f"Standardizer(per_feature={self.per_feature})"


class MinMaxScaler(_Scaler):
    """Rescale to ``feature_range = (a, b)``: ``x' = a + (x - min) / (max - min) · (b - a)``.

    ``min`` and ``max`` come from the training set, per feature or over everything
    (``per_feature=False``). A constant feature (``max = min``) uses range 1 (shifted only).
    Values outside the training range map outside ``(a, b)``; they are not clipped.

    Attributes:
        data_min_, data_max_, data_range_: Learned statistics (``data_range_`` with 0 → 1).
    """

    _fitted_attrs = ("data_min_", "data_max_", "data_range_", "feature_range")

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0), per_feature: bool = True):
        super().__init__(per_feature)
        lo, hi = (float(v) for v in feature_range)
        if not lo < hi:
            raise ValueError(f"feature_range must be (a, b) with a < b, got {feature_range!r}")
        self.feature_range = np.array([lo, hi])

    def fit(self, X) -> MinMaxScaler:
        """Learn ``data_min_``, ``data_max_`` from ``X`` (the training set only). Returns self."""
        A, _ = _unpack(X)
        self._check_fit_input(A)
        ax = self._stat_axes(A)
        lo = np.asarray(A.min(axis=ax), dtype=np.float64)
        hi = np.asarray(A.max(axis=ax), dtype=np.float64)
        rng = hi - lo
        self.data_min_, self.data_max_ = lo, hi
        self.data_range_ = np.where(_degenerate(rng, lo), 1.0, rng)
        self.feature_shape_ = A.shape[1:]
        return self

    def transform(self, X):
        """``a + (X - data_min_) / data_range_ · (b - a)``; same kind as the input."""
        a, b = self.feature_range

        def formula(A, dt):
            scale = ((b - a) / self.data_range_).astype(dt)
            return (A - self.data_min_.astype(dt)) * scale + dt.type(a)

        return self._map(X, "transform", formula)

    def inverse_transform(self, X):
        """Undo :meth:`transform`."""
        a, b = self.feature_range

        def formula(A, dt):
            scale = (self.data_range_ / (b - a)).astype(dt)
            return (A - dt.type(a)) * scale + self.data_min_.astype(dt)

        return self._map(X, "inverse_transform", formula)

    def __repr__(self) -> str:
        a, b = self.feature_range
        return f"MinMaxScaler(feature_range=({a}, {b}), per_feature={self.per_feature})"
