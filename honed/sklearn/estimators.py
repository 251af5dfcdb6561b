"""``HonedClassifier``: a honed experiment's model and training as a scikit-learn estimator.

The constructor parameters are the experiment's hyperparameters under their TOML names
(``model.hidden`` → ``hidden``, ``train.lr`` → ``lr``, ...) with the TOML defaults, read from
:mod:`honed.experiment.config`; ``fit`` resolves them into an :class:`ExperimentConfig`, so a
bad value is refused with the same message as in an experiment file (``train.lr must be >
0, got -1``), and builds the model, optimizer and :class:`~honed.train.Trainer` exactly as
``honed train`` does (:func:`honed.experiment.build_trainer`).

As scikit-learn's own estimators do, it does not rescale its inputs (put a
``StandardScaler`` in front), encodes labels of any type as ``classes_ = np.unique(y)``,
prints nothing unless ``verbose > 0``, and ``random_state=None`` draws a fresh seed at each
``fit``.

Note:
    Unlike ``MLPClassifier``, a dev set is held out only when asked for:
    ``validation_fraction`` (default: 0.1 with ``early_stopping``, else none). With one,
    ``history_`` has dev curves too.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_is_fitted,
    check_random_state,
    column_or_1d,
    validate_data,
)

from honed.experiment.config import DataConfig, ModelConfig, TrainConfig

_DATA, _MODEL, _TRAIN = DataConfig(), ModelConfig(), TrainConfig()
_DTYPES = ("float32", "float64")


def _seed(random_state) -> int:
    """honed's integer seed (``seed`` in a TOML file) from scikit-learn's ``random_state``."""
    integer = isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)
    if integer and random_state >= 0:
        return int(random_state)
    return int(check_random_state(random_state).randint(0, 2**31 - 1))


class _HonedEstimator(BaseEstimator):
    """What the classifier (and a regressor) share: parameters → config → Trainer."""

    def __init__(
        self,
        hidden=tuple(_MODEL.hidden),
        activation=_MODEL.activation,
        init=_MODEL.init,
        init_scale=_MODEL.init_scale,
        batch_norm=_MODEL.batch_norm,
        keep_prob=_MODEL.keep_prob,
        l1=_MODEL.l1,
        l2=_MODEL.l2,
        optimizer=_TRAIN.optimizer,
        lr=_TRAIN.lr,
        beta=_TRAIN.beta,
        beta1=_TRAIN.beta1,
        beta2=_TRAIN.beta2,
        eps=_TRAIN.eps,
        schedule=_TRAIN.schedule["name"],
        loss=_TRAIN.loss,
        batch_size=_TRAIN.batch_size,
        epochs=_TRAIN.epochs,
        early_stopping=_TRAIN.early_stopping,
        validation_fraction=None,
        categorical=tuple(_DATA.categorical),
        missing=_DATA.missing,
        unknown_category=_DATA.unknown_category,
        random_state=None,
        verbose=0,
        dtype="float32",
    ):
        self.hidden = hidden
        self.activation = activation
        self.init = init
        self.init_scale = init_scale
        self.batch_norm = batch_norm
        self.keep_prob = keep_prob
        self.l1 = l1
        self.l2 = l2
        self.optimizer = optimizer
        self.lr = lr
        self.beta = beta
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.schedule = schedule
        self.loss = loss
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.categorical = categorical
        self.missing = missing
        self.unknown_category = unknown_category
        self.random_state = random_state
        self.verbose = verbose
        self.dtype = dtype

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags

    # -- parameters → experiment config --------------------------------------------------
    def _raw_config(self, seed: int) -> dict:
        """The parameters as a raw experiment config (what a TOML file would hold)."""

        def plain(v):  # tuples and NumPy scalars as TOML would give them
            if isinstance(v, tuple):
                return [plain(x) for x in v]
            if isinstance(v, np.generic):
                return v.item()
            return v

        model = {
            k: plain(getattr(self, k))
            for k in ("hidden", "activation", "init_scale", "batch_norm", "keep_prob", "l1", "l2")
        }
        if self.init is not None:
            model["init"] = self.init
        model["output"] = self._output
        train = {
            k: plain(getattr(self, k))
            for k in ("optimizer", "lr", "beta", "beta1", "beta2", "eps", "schedule")
        }
        if self.loss is not None:
            train["loss"] = self.loss
        train.update(
            batch_size=plain(self.batch_size),
            epochs=plain(self.epochs),
            early_stopping=plain(self.early_stopping),
            checkpoint_every=0,
        )
        return {"name": type(self).__name__, "seed": seed, "model": model, "train": train}

    def _config(self, seed: int):
        from honed.experiment.config import resolve_config

        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(_DTYPES)}, got {self.dtype!r}")
        return resolve_config(self._raw_config(seed))

    def _dev_fraction(self, config) -> float:
        """The share of the training rows held out as the dev set (0: none)."""
        f = self.validation_fraction
        if f is None:
            return 0.1 if config.train.early_stopping else 0.0
        if isinstance(f, bool) or not isinstance(f, (int, float)) or not 0 <= f < 1:
            raise ValueError(f"validation_fraction must be in [0, 1) or None, got {f!r}")
        if config.train.early_stopping and f == 0:
            raise ValueError("validation_fraction must be > 0 with early_stopping, got 0")
        return float(f)

    # -- inputs -----------------------------------------------------------------------------
    def _is_table(self, X) -> bool:
        """A DataFrame that needs honed's table rules: text, boolean or ``categorical``
        columns, or missing cells."""
        if not (hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "isna")):
            return False
        import pandas as pd

        numbers = all(
            pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t) for t in X.dtypes
        )
        return not numbers or bool(self.categorical) or bool(X.isna().to_numpy().any())

    def _validate_fit(self, X, y, **y_params):
        """``(X, y)`` of a new fit: arrays by scikit-learn's validation, or a table encoded by
        honed's rules (:class:`honed.data.tables.TableEncoder`: one-hot categories learned
        here, missing cells refused naming row and column, dropped or imputed with
        ``missing``; ``encoder_`` keeps it for predict)."""
        if hasattr(self, "encoder_"):
            del self.encoder_
        if not self._is_table(X):
            return validate_data(self, X, y, dtype=[np.float64, np.float32], **y_params)
        from honed.data.tables import TableEncoder

        for name, value, options in (
            ("missing", self.missing, ("error", "drop", "impute")),
            ("unknown_category", self.unknown_category, ("error", "ignore")),
        ):
            if value not in options:
                raise ValueError(f"{name} must be one of {', '.join(options)}, got {value!r}")
        y = validate_data(self, "no_validation", y, **y_params)
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows and y {len(y)}: they must be the same")
        if self.missing == "drop":
            keep = ~X.isna().to_numpy().any(axis=1)
            X, y = X[keep], y[keep]
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        self.n_features_in_ = len(X.columns)
        categorical = [self.categorical] if isinstance(self.categorical, str) else self.categorical
        missing = "impute" if self.missing == "impute" else "error"
        self.encoder_ = TableEncoder.fit(X, list(categorical), missing, self.unknown_category)
        return self.encoder_.transform(X, source="X").astype(np.float64), y

    def _validate_more(self, X, y, **y_params):
        """``(X, y)`` of a further ``partial_fit`` call, checked against the first."""
        if hasattr(self, "encoder_"):
            y = np.asarray(y)
            if len(y) != len(X):
                raise ValueError(f"X has {len(X)} rows and y {len(y)}: they must be the same")
            return self._validate_X(X), y
        return validate_data(self, X, y, reset=False, dtype=[np.float64, np.float32], **y_params)

    def _validate_X(self, X):
        """Inputs to predict: encoded as at fit (a table) or validated against it."""
        if hasattr(self, "encoder_"):
            if not hasattr(X, "columns"):
                raise ValueError(
                    "X must be a DataFrame with the columns of the training table "
                    f"({', '.join(self.feature_names_in_)}), got {type(X).__name__}"
                )
            return self.encoder_.transform(X, source="X")
        return validate_data(self, X, reset=False, dtype=[np.float64, np.float32])

    # -- training ---------------------------------------------------------------------------
    def _new_trainer(self, config, X, y, n_outputs_data: int):
        """The Trainer ``honed train`` would build for this config, in ``self.dtype``."""
        from honed.data import Dataset
        from honed.experiment.build import Data, build_trainer
        from honed.train import ProgressBar

        callbacks = [ProgressBar(verbose=1)] if self.verbose else []
        if self.verbose >= 2:
            from honed.train import LivePlot

            callbacks.append(LivePlot(title=type(self).__name__))
        data = Data(
            Dataset(X, y),
            None,
            None,
            None,
            n_outputs_data,
            None,
            task="regression" if self._output == "linear" else "classification",
            target_scaler=getattr(self, "target_scaler_", None),
        )
        trainer = build_trainer(config, data, callbacks=callbacks)
        trainer.model.to(np.dtype(self.dtype))
        return trainer

    def _split(self, X, y, config):
        """(train, dev or None) as ``(X, y)`` pairs: ``validation_fraction`` of the rows held
        out, stratified for classes, drawn from the config's seed (as a population does)."""
        fraction = self._dev_fraction(config)
        if not fraction:
            return (X, y), None
        from honed.data import Dataset, train_dev_split

        n_dev = max(1, int(round(fraction * len(X))))
        if n_dev >= len(X):
            raise ValueError(
                f"validation_fraction {fraction} leaves no training example of {len(X)}"
            )
        train, dev = train_dev_split(
            Dataset(X, y), dev=n_dev, stratify=self._stratify, seed=config.seed
        )
        return (train.X, train.y), (dev.X, dev.y)

    def _fit_arrays(self, X, y, n_outputs_data: int):
        """Train a new model on validated, encoded ``(X, y)``."""
        X = X.astype(
            self.dtype, copy=False
        )  # float64 inputs would train float32 weights in float64
        self.config_ = self._config(_seed(self.random_state))
        train, dev = self._split(X, y, self.config_)
        self.trainer_ = self._new_trainer(self.config_, *train, n_outputs_data)
        self.trainer_.fit(train, dev, epochs=self.config_.train.epochs, verbose=0)
        self._dev = dev
        return self

    def _adopt(self, config, X, y, n_outputs_data: int, model_state, history, dev=None):
        """Take a model trained elsewhere on ``(X, y)`` (a population member that computed
        what :meth:`fit` computes) as this estimator's fit."""
        self.config_ = config
        self.trainer_ = self._new_trainer(config, X, y, n_outputs_data)
        self.trainer_.model.load_state_dict(model_state)
        self.trainer_.history = history
        self.trainer_.epoch = len(history)
        self._dev = dev
        return self

    @property
    def history_(self):
        """Per-epoch ``train_cost``, ``train_error``, ``dev_cost``, ``dev_error``, ``lr``
        (a :class:`honed.train.History`: ``history_.column("train_cost")``,
        ``history_.last``, ``pd.DataFrame(history_.epochs)``)."""
        check_is_fitted(self, "trainer_")
        return self.trainer_.history

    @property
    def model_(self):
        """The trained honed model (a :class:`honed.nn.MLP`)."""
        check_is_fitted(self, "trainer_")
        return self.trainer_.model

    def _outputs(self, X) -> np.ndarray:
        check_is_fitted(self, "trainer_")
        X = self._validate_X(X)
        return self.trainer_.model.predict_proba(X.astype(self.dtype, copy=False))


class HonedClassifier(ClassifierMixin, _HonedEstimator):
    """A honed MLP classifier (softmax over the classes) with scikit-learn's interface.

    Parameters are the ``[model]`` and ``[train]`` keys of an experiment file, with their
    defaults (``honed config --keys``): ``hidden`` (widths), ``activation``, ``init``,
    ``init_scale``, ``batch_norm``, ``keep_prob``, ``l1``, ``l2``, ``optimizer``, ``lr``
    (α), ``beta``, ``beta1``, ``beta2``, ``eps``, ``schedule`` (a name or a table such as
    ``{"name": "inverse_time", "decay_rate": 1}``), ``batch_size``, ``epochs``,
    ``early_stopping`` (False, True or ``{"patience": 5, ...}``); further:

    Args:
        validation_fraction: rows of the training data held out as the dev set (stratified):
            None (default) is 0.1 with early stopping and none without.
        random_state: seeds the initial weights, dropout masks, mini-batch order and dev
            split (honed's ``seed``); None draws a new seed at each ``fit``.
        verbose: 0 prints nothing; 1 one line per epoch (a bar in a terminal); 2 also live
            train/dev curves in a notebook (:class:`honed.train.LivePlot`).
        dtype: ``"float32"`` (training) or ``"float64"`` (exact comparisons).

    Attributes:
        classes_: the labels, sorted (``np.unique(y)``).
        n_features_in_, feature_names_in_: as scikit-learn sets them.
        history_: per-epoch curves (:class:`honed.train.History`).
        model_: the trained :class:`honed.nn.MLP`; ``config_``: the resolved experiment.

    Each ``fit`` computes what ``honed train`` computes for the same experiment and seed
    (the cost ``J = (1/m) Σ L(ŷ, y) + λ/(2m) Σ‖W‖²`` over mini-batches, as
    :class:`honed.train.Trainer`).
    """

    _output = "softmax"
    _stratify = True

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags

    def fit(self, X, y):
        """Train a new model on ``X`` (rows are examples) and labels ``y`` of any type."""
        X, encoded = self._prepare(X, y)
        return self._fit_arrays(X, encoded, len(self.classes_))

    def _prepare(self, X, y):
        """Validated ``X`` and ``y`` encoded as indices into ``classes_ = np.unique(y)``;
        sets ``classes_``, ``n_features_in_`` and ``feature_names_in_``."""
        X, y = self._validate_fit(X, y)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        return X, encoded.astype(np.int64)

    def partial_fit(self, X, y, classes=None):
        """One more epoch on ``(X, y)``; the first call starts a model (``classes``: every
        label that will ever appear, default the labels of this first ``y``)."""
        first = not hasattr(self, "trainer_")
        X, y = self._validate_fit(X, y) if first else self._validate_more(X, y)
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if first:
            self.classes_ = np.unique(y if classes is None else classes)
            self.config_ = self._config(_seed(self.random_state))
            self.trainer_ = self._new_trainer(
                self.config_, X, np.zeros(len(X), np.int64), len(self.classes_)
            )
            self._dev = None
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(
                f"classes must be the same at every partial_fit call: first {self.classes_}, "
                f"now {np.unique(classes)}"
            )
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(
                f"y holds labels that are not in classes_ {self.classes_.tolist()}: "
                f"{unknown.tolist()[:5]}"
            )
        encoded = np.searchsorted(self.classes_, y).astype(np.int64)
        X = X.astype(self.dtype, copy=False)
        self.trainer_.fit((X, encoded), self._dev, epochs=self.trainer_.epoch + 1, verbose=0)
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        p = self._outputs(X)
        if p.shape[1] == 1 and len(self.classes_) == 2:  # one sigmoid unit
            p = np.hstack([1.0 - p, p])
        return p

    def predict_log_proba(self, X) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """The most probable label of each row (from ``classes_``)."""
        p = self.predict_proba(X)
        return self.classes_[np.argmax(p, axis=1)]


class HonedRegressor(RegressorMixin, _HonedEstimator):
    """A honed MLP regressor (identity outputs, one per target) with scikit-learn's interface.

    The parameters of :class:`HonedClassifier`; ``loss`` is ``"mse"`` (default,
    ``J = 1/(2m) Σ‖ŷ − y‖²``), ``"mae"`` or ``"huber"``. The targets are standardized on the
    training rows (``y_std = (y − μ_y)/σ_y``, as ``honed train`` does for regression) and
    ``predict`` maps the outputs back (``ŷ = ŷ_std·σ_y + μ_y``). ``y`` may be one target
    ``(m,)`` or several ``(m, k)``.

    Attributes:
        target_scaler_: the targets' :class:`honed.data.Standardizer` (``mean_``, ``std_``).
        n_features_in_, feature_names_in_, history_, model_, config_: as the classifier's.
    """

    _output = "linear"
    _stratify = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Train a new model on ``X`` and real targets ``y``."""
        X, y = self._prepare(X, y)
        return self._fit_arrays(X, y, y.shape[1])

    def _prepare(self, X, y):
        """Validated ``X`` and standardized ``(m, k)`` targets; fits ``target_scaler_``."""
        from honed.data import Standardizer

        X, y = self._validate_fit(X, y, y_numeric=True, multi_output=True)
        y = np.asarray(y, dtype=np.float64)
        self._one_target = y.ndim == 1
        y = y.reshape(len(y), -1)
        self.target_scaler_ = Standardizer(per_feature=True).fit(y)
        return X, self.target_scaler_.transform(y).astype(self.dtype)

    def partial_fit(self, X, y):
        """One more epoch on ``(X, y)``; the first call starts a model and fixes the targets'
        μ and σ from its ``y``."""
        first = not hasattr(self, "trainer_")
        if first:
            X, y_std = self._prepare(X, y)
            self.config_ = self._config(_seed(self.random_state))
            self.trainer_ = self._new_trainer(self.config_, X, y_std, y_std.shape[1])
            self._dev = None
        else:
            X, y = self._validate_more(X, y, y_numeric=True, multi_output=True)
            y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
            if y.shape[1] != self.target_scaler_.mean_.shape[-1]:
                raise ValueError(
                    f"y has {y.shape[1]} targets, the model was started with "
                    f"{self.target_scaler_.mean_.shape[-1]}"
                )
            y_std = self.target_scaler_.transform(y).astype(self.dtype)
        X = X.astype(self.dtype, copy=False)
        self.trainer_.fit((X, y_std), self._dev, epochs=self.trainer_.epoch + 1, verbose=0)
        return self

    def predict(self, X) -> np.ndarray:
        """Predicted targets in their own units: ``(m,)`` for one target, else ``(m, k)``."""
        z = self._outputs(X).astype(np.float64)
        y = self.target_scaler_.inverse_transform(z)
        return y.ravel() if self._one_target else y


__all__ = ["HonedClassifier", "HonedRegressor"]
