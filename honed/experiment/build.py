"""Building an experiment: its config → prepared data, model, optimizer and Trainer.

Data flows one way: :func:`prepare_data` (load, subset, split, normalize on train only),
then :func:`build_trainer` (model, optimizer, loss, callbacks) over the prepared data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from honed.experiment.config import ConfigError, ExperimentConfig, task_of

#: Sources whose data is a whole truth table: it is the train, dev and test set at once.
GATES = ("xor", "and", "or", "nand")


@dataclass
class Data:
    """The prepared data of an experiment: normalized train/dev/test and the normalizer."""

    train: Any
    dev: Any
    test: Any
    normalizer: Any
    n_classes: int
    image_shape: tuple[int, ...] | None
    pixels: bool = False  # the source gave uint8 pixels, converted by pixels_to_unit
    task: str = "classification"
    #: regression: the targets' Standardizer, fitted on train (y_std = (y − μ) / σ)
    target_scaler: Any = None
    #: tables: the TableEncoder fitted on train (columns → features), the target column(s)
    encoder: Any = None
    target_names: list[str] | None = None

    @property
    def n_outputs(self) -> int:
        """Width of the model's output for this data's task (before a sigmoid's one unit)."""
        if self.task == "regression":
            return int(np.prod(self.train.y.shape[1:])) if self.train.y.ndim > 1 else 1
        return self.n_classes


def _source_options(config: ExperimentConfig, seed: int) -> dict[str, Any]:
    d = config.data
    return {
        "path": d.path,
        "target": d.target,
        "n_samples": d.n_samples,
        "noise": d.noise,
        "factor": d.factor,
        "seed": seed,
        # auto stays auto unless the model says regression (a linear output, a regression loss)
        "task": "regression" if task_of(config) == "regression" else d.task,
        "categorical": d.categorical,
        "missing": d.missing,
    }


def _test_seed(seed: int) -> int:
    """The seed of a separately drawn test set: derived from the experiment's, never equal."""
    return int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])


def load_raw(config: ExperimentConfig):
    """(train, test or None) Datasets as the source gives them; images as uint8 pixels.

    With ``data.test_samples`` a source that draws examples (``n_samples``) draws a second,
    independent set of that size as the test set (the notebook's separate test draw).
    """
    from honed.data import load_source, source_options

    d = config.data
    train, test = load_source(d.dataset, **_source_options(config, config.seed))
    if d.test_samples:
        if "n_samples" not in source_options(d.dataset):
            raise ConfigError(f"data.test_samples: dataset {d.dataset!r} does not draw examples")
        options = {**_source_options(config, _test_seed(config.seed)), "n_samples": d.test_samples}
        test, _ = load_source(d.dataset, **options)
    return train, test


def split_raw(config: ExperimentConfig):
    """(train, dev, test) as the source gives them (images still uint8 pixels): subset, split.

    The rows :func:`prepare_data` trains and evaluates on, before any conversion, so a run's
    splits can be rebuilt from its config (``honed evaluate --split dev``). A table's
    columns are encoded already (with the encoding fitted on the training rows).
    """
    train, dev, test, _, _ = split_encoded(config)
    return train, dev, test


def _apply_task(config: ExperimentConfig, ds, what: str):
    """The targets of a (non-table) source as the task needs them: class labels, or float
    regression targets of shape (m, k). A float target is never made into classes."""
    from honed.data import Dataset
    from honed.data.tables import MAX_AUTO_CLASSES

    task, y = task_of(config), ds.y
    if task == "regression":
        if y.dtype.kind not in "biuf":
            raise ConfigError(f"data.task: regression needs numeric targets, got dtype {y.dtype}")
        y = y.astype(np.float64).reshape(len(y), -1)
        return Dataset(ds.X, y, image_shape=ds.image_shape)
    if y.dtype.kind == "f" and config.data.n_classes:
        return ds  # check_classes refuses it, naming data.n_classes
    if y.dtype.kind == "f":
        raise ConfigError(
            f"data.task: the {what} targets are real numbers (e.g. {y.flat[0]:g}), not class "
            'labels: set data.task = "regression" and model.output = "linear" '
            "(a float target never becomes a classifier)"
        )
    distinct = len(np.unique(y))
    if config.data.task == "auto" and not config.data.n_classes and distinct > MAX_AUTO_CLASSES:
        raise ConfigError(
            f"data.task: the {what} targets have {distinct} distinct values, too many to be "
            f'classes for data.task = "auto" (at most {MAX_AUTO_CLASSES}): set data.task = '
            '"regression" (with model.output = "linear"), or "classification" if they are'
        )
    return ds


def split_encoded(config: ExperimentConfig):
    """:func:`split_raw`, the table encoder fitted on the training rows and the table's target
    column names (both None when the source is not a table)."""
    from honed import data as hd
    from honed.data.tables import RawTable

    d, seed = config.data, config.seed
    train, test = load_raw(config)
    table = None
    if isinstance(train, RawTable):
        table, train = train, train.index_dataset()
    if table is None:  # before check_classes: no warning about "classes" of a real target
        train = _apply_task(config, train, "training")
        if test is not None:
            test = _apply_task(config, test, "test")
    train = hd.check_classes(train, d.n_classes, "training")
    if test is not None:
        test = hd.check_classes(test, d.n_classes, "test")
    if d.subset > len(train):
        raise ConfigError(
            f"data.subset = {d.subset} is larger than the data set ({len(train)} training "
            f"examples of {d.dataset}); use at most {len(train)}, or 0 for all"
        )
    if d.subset and d.subset < len(train):
        picked = np.sort(np.random.default_rng(seed).permutation(len(train))[: d.subset])
        train = train[picked]
    if d.dataset not in GATES:
        hd.warn_if_tiny(train, d.dataset)
    if d.dataset in GATES:  # the logic gates: train, dev and test are the truth table itself
        dev = test = train
    elif test is None:
        train, dev, test = hd.train_dev_test_split(
            train, dev=d.dev, test=d.test, stratify=d.stratify, seed=seed
        )
    else:
        train, dev = hd.train_dev_split(train, dev=d.dev, stratify=d.stratify, seed=seed)
    encoder = target_names = None
    if table is not None:  # encoding fitted on the training rows only
        train, dev, test, encoder = table.encode(
            train, dev, test, missing=d.missing, unknown=d.unknown_category
        )
        target_names = list(table.target_names)
    return train, dev, test, encoder, target_names


def prepare_data(config: ExperimentConfig, normalizer_state: dict | None = None) -> Data:
    """Load, subset, split (train/dev/test) and normalize the experiment's data.

    The normalizer is fit on the training set only and applied unchanged to dev and test
    (the notes: the same μ and σ for every set). A saved ``normalizer_state`` is reused as is.
    """
    from honed import data as hd

    train, dev, test, encoder, target_names = split_encoded(config)
    task = task_of(config)
    target_scaler = None
    if task == "regression":  # targets standardized on train: y_std = (y − μ_y) / σ_y
        target_scaler = hd.Standardizer(per_feature=True).fit(train.y)
        train, dev, test = (
            s.replace(y=target_scaler.transform(s.y).astype(np.float32)) for s in (train, dev, test)
        )
    pixels = train.X.dtype == np.uint8
    if pixels:  # image pixels: converted only now, after the subset and split
        train, dev, test = (s.replace(X=hd.pixels_to_unit(s.X)) for s in (train, dev, test))
    normalizer = hd.NORMALIZERS.get(config.data.normalize)()
    if normalizer is not None:
        if normalizer_state is not None:
            normalizer = type(normalizer).from_state_dict(normalizer_state)
        else:
            normalizer.fit(train)
        train, dev, test = (normalizer.transform(s) for s in (train, dev, test))
    if task == "regression":
        n_classes = 0
    else:
        n_classes = int(train.n_classes) if train.n_classes else int(train.y.max()) + 1
    image_shape = getattr(train, "image_shape", None)
    return Data(
        train,
        dev,
        test,
        normalizer,
        n_classes,
        image_shape,
        bool(pixels),
        task,
        target_scaler,
        encoder,
        target_names,
    )


def build_model(config: ExperimentConfig, n_features: int, n_out: int):
    """The experiment's MLP: hidden blocks Dense → [BatchNorm] → activation → [Dropout], then
    C logits (softmax), one logit (sigmoid, two classes) or one value per target (linear);
    ``n_out`` is C or the number of targets (``Data.n_outputs`` of prepared data)."""
    from honed.nn import mlp

    m = config.model
    if m.output == "sigmoid":
        if n_out != 2:
            raise ConfigError(
                f'model.output = "sigmoid" is one unit for two classes; the data has {n_out} '
                "classes (use softmax)"
            )
        n_out = 1
    return mlp(
        [n_features, *m.hidden_sizes(), n_out],
        activation=m.activation,
        init=m.init,
        scale=m.init_scale,
        batch_norm=m.batch_norm,
        keep_prob=m.keep_prob,
        output=m.output,
        seed=config.seed,
    )


def build_schedule(config: ExperimentConfig):
    """The learning rate: α itself, or the schedule with α₀ = ``train.lr``."""
    from honed.optim import schedule_from_config

    t = config.train
    if t.schedule["name"] == "constant":
        return t.lr
    return schedule_from_config(dict(t.schedule), lr=t.lr)


def build_optimizer(config: ExperimentConfig, params):
    """The registered optimizer ``train.optimizer`` with the hyperparameters it takes:
    ``beta``, ``beta1``, ``beta2``, ``eps`` from ``[train]`` and ``train.optimizer_args``."""
    from honed.optim import OPTIMIZERS, hyperparameter_defaults

    t = config.train
    cls = OPTIMIZERS.get(t.optimizer)
    takes = hyperparameter_defaults(cls)
    kwargs = {name: getattr(t, name) for name in takes if hasattr(t, name)}
    kwargs.update(t.optimizer_args)
    return cls(params, lr=build_schedule(config), **kwargs)


def build_augmentation(config: ExperimentConfig, image_shape, normalizer=None):
    """``data.augment`` as one callable for the training batches; with a ``normalizer`` (the
    batches are normalized) it runs in the data's own units (:class:`InDataUnits`)."""
    from honed.data import augmentation_from_config
    from honed.data.augment import InDataUnits

    specs = config.data.augment
    if not specs:
        return None
    try:
        augment = augmentation_from_config(specs, image_shape=image_shape)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"data.augment: {err}") from None
    return augment if normalizer is None else InDataUnits(augment, normalizer)


def build_trainer(config: ExperimentConfig, data: Data, callbacks=()):
    """Model, optimizer and :class:`~honed.train.Trainer` for prepared data."""
    from honed.train import EarlyStopping, Trainer

    model = build_model(config, int(np.prod(data.train.X.shape[1:])), data.n_outputs)
    optimizer = build_optimizer(config, model.parameters())
    callbacks = list(callbacks)
    es = config.train.early_stopping
    if es:
        callbacks.insert(
            0,
            EarlyStopping(
                monitor=es["monitor"], patience=es["patience"], min_delta=es["min_delta"]
            ),
        )
    extra = {"normalizer": data.normalizer.state_dict()} if data.normalizer is not None else {}
    return Trainer(
        model,
        optimizer,
        loss=config.train.build_loss(config.model.output),
        batch_size=config.train.batch_size,
        drop_last=config.train.drop_last,
        capture=config.train.capture,
        l1=config.model.l1,
        l2=config.model.l2,
        augment=build_augmentation(config, data.image_shape, data.normalizer),
        callbacks=callbacks,
        seed=config.seed,
        extra_state=extra,
        target_scale=None if data.target_scaler is None else data.target_scaler.std_,
    )
