"""The typed experiment configuration: one frozen dataclass per section of the TOML file.

An experiment file has a ``[data]``, ``[model]``, ``[train]`` (and ``[tune]``) section; every
key is optional and takes its default. The names a key may take (activations, initializers,
optimizers, schedules, losses, datasets, normalizers, augmentations) come from the registries
of the packages that own them, so a thing registered from outside honed can be named here
with no edit inside honed. Unknown keys and bad values fail before any training, with the
key's dotted path in the message::

    train.lr must be > 0, got -1

``honed config --keys`` prints every key with its type, default and meaning (the same text
as ``docs/config-keys.md``); ``honed config EXP.toml`` prints the resolved configuration.
"""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from honed import validation as check
from honed.data import AUGMENTATIONS, DATASETS, NORMALIZERS, augmentation_from_config
from honed.data.sources import required_options
from honed.nn import ACTIVATIONS, INITIALIZERS, LOSSES
from honed.optim import OPTIMIZERS, SCHEDULES, hyperparameter_defaults, schedule_from_config


class ConfigError(ValueError):
    """A bad experiment file: the message starts with the key's dotted path."""


# -- key declarations ---------------------------------------------------------------------
def key(default, check_fn, help: str, kind: str):
    """A config key: its default, its check ``(path, value) -> value``, meaning and type."""
    meta = {"check": check_fn, "help": help, "kind": kind}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


def _registered(registry):
    def check_name(path, value):
        check.text(path, value)
        if value not in registry:
            raise ValueError(f"{path} must be one of {', '.join(registry.names())}, got {value!r}")
        return registry.canonical(value)

    return check_name


def _plain_name(path, value):
    """A name that is one plain file name: run and study files stay in their directory."""
    check.text(path, value)
    bad = (
        not value.strip()
        or value in (".", "..")
        or any(c in value for c in "/\\\0")
        or value.startswith("~")
        or value != value.strip()
    )
    if bad:
        raise ValueError(
            f"{path} must be a plain name (letters, digits, - _ .; no /, \\, .. or leading "
            f"~), got {value!r}: run and study files must stay in their directory"
        )
    return value


def _optional(check_fn):
    return lambda path, value: None if value is None or value == "" else check_fn(path, value)


def _int_at_least(minimum):
    return lambda path, value: check.integer(path, value, minimum=minimum)


def _one_of(options):
    return lambda path, value: check.one_of(path, value, options)


def _size(path, value):
    """A dev/test size: a fraction in (0, 1) or a count >= 1."""
    x = check.real(path, value)
    if 0 < x < 1:
        return x
    if x >= 1 and x == int(x):
        return int(x)
    raise ValueError(f"{path} must be a fraction in (0, 1) or a count >= 1, got {value!r}")


def _hidden(path, value):
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{path} must list at least one layer width, got []")
        return [check.integer(f"{path}[{i}]", v, minimum=1) for i, v in enumerate(value)]
    return check.integer(path, value, minimum=1)


def _keep_prob(path, value):
    if isinstance(value, (list, tuple)):
        return [check.keep_prob(f"{path}[{i}]", v) for i, v in enumerate(value)]
    return check.keep_prob(path, value)


def _target(path, value):
    if isinstance(value, list):
        if not value or not all(isinstance(v, str) and v for v in value):
            raise TypeError(f"{path} must be a column name or a list of names, got {value!r}")
        if len(set(value)) != len(value):
            raise ValueError(f"{path} names a column twice: {value!r}")
        return list(value)
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{path} must be a column index or name, got {value!r}")
    return value


def _names(path, value):
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise TypeError(f"{path} must be a list of column names, got {value!r}")
    return list(value)


def _batch_size(path, value):
    if value == "full":
        return value
    if isinstance(value, str):
        raise ValueError(f'{path} must be an integer >= 1 or "full", got {value!r}')
    return check.integer(path, value, minimum=1)


def _augment(path, value):
    if not isinstance(value, list):
        raise TypeError(f'{path} must be a list of tables like {{name = "shift"}}, got {value!r}')
    specs = []
    for i, spec in enumerate(value):
        if isinstance(spec, str):
            spec = {"name": spec}
        if not (isinstance(spec, dict) and "name" in spec):
            raise ValueError(f"{path}[{i}] must be a name or a table with a name, got {spec!r}")
        _registered(AUGMENTATIONS)(f"{path}[{i}].name", spec["name"])
        specs.append(dict(spec))
    try:  # builds each one: its parameters are checked now, not at the first mini-batch
        augmentation_from_config(specs)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{path}: {err}") from None
    return specs


def _schedule(path, value):
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict) or "name" not in value:
        raise ValueError(f"{path} must be a schedule name or a table with a name, got {value!r}")
    name = _registered(SCHEDULES)(f"{path}.name", value["name"])
    from honed.optim.schedules import schedule_arguments

    allowed = schedule_arguments(SCHEDULES.get(name))
    for k in value:
        if k != "name" and k not in allowed:
            raise ConfigError(
                f"{path}.{k} is not a parameter of the {name} schedule "
                f"(it takes: {', '.join(sorted(allowed)) or 'nothing'})"
            )
    try:  # build it once with a placeholder α₀: bad parameter values surface here
        schedule_from_config({**value, "name": name}, lr=1.0)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{path}: {err}") from None
    return {**value, "name": name}


def _early_stopping(path, value):
    if value is False or value is None:
        return False
    if value is True:
        value = {}
    if not isinstance(value, dict):
        raise TypeError(f"{path} must be false or a table like {{patience = 5}}, got {value!r}")
    spec = {
        "patience": _int_at_least(1),
        "min_delta": check.non_negative,
        "monitor": _one_of(("auto", "dev_error", "dev_cost")),
    }
    # auto: dev_error for classification, dev_cost for regression (set by resolve_config)
    out = {"patience": 5, "min_delta": 0.0, "monitor": "auto"}
    for k, v in value.items():
        if k not in spec:
            raise ConfigError(f"unknown key {path}.{k} (known: {', '.join(spec)})")
        out[k] = spec[k](f"{path}.{k}", v)
    return out


def _table(path, value):
    if not isinstance(value, dict):
        raise TypeError(f"{path} must be a table, got {value!r}")
    return dict(value)


def _tune_name(kind: str):
    """A sampler / pruner / executor name, checked against honed.tune's registries (so a
    user's registered sampler, or any Optuna sampler by name, works too); an alias gives
    its registered name."""

    def check_name(path, value):
        from honed.tune.registry import check_name as registered

        try:
            return registered(kind, value)
        except ValueError as err:
            raise ConfigError(f"{path}: {err}") from None

    return check_name


def _prune(path, value):
    return value if isinstance(value, bool) else _tune_name("pruner")(path, value)


def _tune_option(kind: str, option: str, *, name: str | None = None, label: str = "", **over):
    """A [tune] key read from the declaration of ``option`` by the registered thing(s) of
    ``kind`` that take it (``name``: that one; else the one declaration they share).
    ``over``: ``default`` where the experiment file's default differs."""
    from honed.tune.registry import EXECUTORS, PRUNERS, SAMPLERS, general_option

    registry = {"sampler": SAMPLERS, "pruner": PRUNERS, "executor": EXECUTORS}[kind]
    if name is None:
        opt = general_option(registry, option)
        takers = registry.declaring(option)
        label = label or f"{kind}s {', '.join(takers)}"
    else:
        opt = registry.option(name, option)
        label = label or name
    default = over.get("default", opt.default)
    # a key with a default must have a value; one without may be left unset
    check_fn = _optional(opt.validate_at) if default is None else opt.check
    return key(default, check_fn, f"{label}: {opt.help}", opt.kind)


def _optimizer_option(option: str):
    """A [train] key read from the one declaration of ``option`` by the registered
    optimizers that take it (honed.optim)."""
    from honed.optim import OPTIMIZERS, declared_option

    opt = declared_option(option)
    takers = ", ".join(OPTIMIZERS.declaring(option))
    return key(opt.default, opt.check, f"{takers}: {opt.help}", opt.kind)


# -- sections -----------------------------------------------------------------------------
@dataclass(frozen=True)
class DataConfig:
    """``[data]``: where the examples come from and how they are prepared."""

    dataset: str = key("fashion_mnist", _registered(DATASETS), "data source", "name")
    path: str | None = key(
        None, _optional(check.text), "file or directory (csv, npz, mnist)", "string"
    )
    target: int | str | list | None = key(
        None,
        _optional(_target),
        "target column: name or index (default: the last column); a list of names for "
        "several regression targets (dataset table)",
        "int, string or list",
    )
    task: str = key(
        "auto",
        _one_of(("auto", "classification", "regression")),
        "auto: regression when model.output is linear (or train.loss a regression loss), "
        "else classification of integer or string labels with at most "
        "50 distinct values (anything else is refused)",
        "auto | classification | regression",
    )
    categorical: list = key(
        [],
        _names,
        "table: numeric columns to one-hot encode as categories (strings and booleans are "
        "categories anyway)",
        "list of names",
    )
    missing: str = key(
        "error",
        _one_of(("error", "drop", "impute")),
        "table: missing values refused (naming row and column), rows dropped, or imputed "
        "(median / most frequent, fitted on train)",
        "error | drop | impute",
    )
    unknown_category: str = key(
        "error",
        _one_of(("error", "ignore")),
        "table: a category not seen in training is refused (naming column and value), or "
        "ignored (all its one-hot columns 0)",
        "error | ignore",
    )
    n_samples: int = key(1000, _int_at_least(4), "examples drawn by a 2-D generator", "int")
    noise: float = key(0.2, check.non_negative, "noise of a 2-D generator", "float")
    factor: float = key(
        0.5,
        lambda p, v: check.number(p, v, low=0, high=1, low_open=True, high_open=True),
        "circles: inner radius / outer radius",
        "float",
    )
    test_samples: int = key(
        0,
        _int_at_least(0),
        "2-D generators: draw a separate test set of this size (0: split one off)",
        "int",
    )
    subset: int = key(
        0,
        _int_at_least(0),
        "use a random subset of this many examples of the data set (0: all), drawn before the "
        "dev/test split: train, dev and test all come from it (a separate test set, such as "
        "Fashion-MNIST's, stays whole)",
        "int",
    )
    n_classes: int = key(
        0,
        _int_at_least(0),
        "number of classes; labels outside [0, n_classes) are refused (0: max label + 1)",
        "int",
    )
    dev: float | int | None = key(
        None,
        _optional(_size),
        "dev set: fraction or count (default: size-aware rule)",
        "fraction or count",
    )
    test: float | int | None = key(
        None,
        _optional(_size),
        "test set (when the source has none): fraction or count",
        "fraction or count",
    )
    stratify: bool = key(True, check.boolean, "keep class proportions in the splits", "bool")
    normalize: str = key(
        "standard", _registered(NORMALIZERS), "input normalization, fit on train only", "name"
    )
    augment: list = key(
        [],
        _augment,
        'training-batch augmentations, e.g. [{name = "shift", max_shift = 2}]',
        "list of tables",
    )


@dataclass(frozen=True)
class ModelConfig:
    """``[model]``: the MLP."""

    hidden: list | int = key(
        [64], _hidden, "hidden widths, or one width repeated `layers` times", "list of int or int"
    )
    layers: int | None = key(
        None, _optional(_int_at_least(1)), "number of hidden layers when hidden is one width", "int"
    )
    activation: str = key("relu", _registered(ACTIVATIONS), "hidden activation", "name")
    init: str | None = key(
        None,
        _optional(_registered(INITIALIZERS)),
        "initializer (default: He for the ReLU family, Xavier otherwise)",
        "name",
    )
    init_scale: float = key(
        1.0, check.init_scale, "multiplies the initializer's standard deviation", "float"
    )
    batch_norm: bool = key(
        False, check.boolean, "batch normalization after each hidden Dense", "bool"
    )
    keep_prob: float | list = key(
        1.0, _keep_prob, "dropout keep probability (one, or one per hidden layer)", "float or list"
    )
    l1: float = key(0.0, check.non_negative, "L1 strength λ₁ on weight matrices", "float")
    l2: float = key(0.0, check.non_negative, "L2 strength λ (λ/(2m) Σ‖W‖²)", "float")
    output: str = key(
        "softmax",
        _one_of(("softmax", "sigmoid", "linear")),
        "softmax over C classes, one sigmoid unit (2 classes), or linear: identity outputs, "
        "one per target column (regression)",
        "softmax | sigmoid | linear",
    )

    def hidden_sizes(self) -> list[int]:
        """Hidden layer widths: the list given, or ``hidden`` repeated ``layers`` times."""
        if isinstance(self.hidden, list):
            return list(self.hidden)
        return [self.hidden] * (self.layers or 1)


@dataclass(frozen=True)
class TrainConfig:
    """``[train]``: optimizer, schedule, batches, epochs."""

    optimizer: str = key("adam", _registered(OPTIMIZERS), "optimizer", "name")
    optimizer_args: dict = key(
        {}, _table, "further hyperparameters of a registered optimizer", "table"
    )
    lr: float = key(1e-3, check.positive, "learning rate α (α₀ of a schedule)", "float")
    beta: float = _optimizer_option("beta")
    beta1: float = _optimizer_option("beta1")
    beta2: float = _optimizer_option("beta2")
    eps: float = _optimizer_option("eps")
    schedule: dict = key(
        {"name": "constant"},
        _schedule,
        'learning-rate decay, e.g. {name = "inverse_time", decay_rate = 1}',
        "name or table",
    )
    loss: str | None = key(
        None,
        _optional(_registered(LOSSES)),
        "loss (default: from model.output; mse for linear)",
        "name",
    )
    loss_args: dict = key(
        {}, _table, "arguments of the loss, e.g. {delta = 1.0} for huber", "table"
    )
    batch_size: int | str = key(
        128, _batch_size, 'mini-batch size, or "full" for batch gradient descent', 'int or "full"'
    )
    drop_last: bool = key(
        False, check.boolean, "leave out each epoch's last partial mini-batch", "bool"
    )
    epochs: int = key(10, _int_at_least(1), "epochs to train", "int")
    capture: bool = key(
        True,
        check.boolean,
        "record the step once per batch shape and replay it without building the graph "
        "(bit for bit the eager step); false: every step eager, for debugging",
        "bool",
    )
    early_stopping: dict | bool = key(
        False,
        _early_stopping,
        "false, or {patience, min_delta, monitor}; monitor dev_error or dev_cost (default: "
        "dev_error, dev_cost for regression)",
        "false or table",
    )
    checkpoint_every: int = key(
        1, _int_at_least(0), "write a checkpoint every N epochs (0: none)", "int"
    )
    log_every: int = key(1, _int_at_least(1), "print one epoch line every N epochs", "int")
    keep_checkpoints: int = key(
        3,
        _int_at_least(0),
        "checkpoints kept: the last N and the best dev error's (0: all)",
        "int",
    )

    def loss_name(self, output: str) -> str:
        """The loss: given, or the one that matches the model's output."""
        if self.loss:
            return self.loss
        return {"sigmoid": "sigmoid_cross_entropy", "linear": "mse"}.get(
            output, "softmax_cross_entropy"
        )

    def build_loss(self, output: str):
        """The loss object, with ``loss_args``."""
        from honed.nn import build_loss

        return build_loss(self.loss_name(output), self.loss_args)


@dataclass(frozen=True)
class TuneConfig:
    """``[tune]``: the search (``honed tune``)."""

    space: dict = key(
        {}, _table, 'dotted key -> distribution, e.g. "train.lr" = {log = [1e-4, 1e-1]}', "table"
    )
    trials: int = key(16, _int_at_least(1), "trials the study should reach", "int")
    workers: int | None = _tune_option("executor", "workers")
    strategy: str = key(
        "random",
        _tune_name("sampler"),
        "sampler (pbt: population-based training, on executor population; or any Optuna "
        "sampler by name)",
        "name",
    )
    stages: int = _tune_option("sampler", "stages", name="zoom")
    top_k: int = _tune_option("sampler", "top_k", name="zoom", default=4)
    pbt_every: int | None = _tune_option("sampler", "every", name="pbt")
    pbt_fraction: float = _tune_option("sampler", "fraction", name="pbt")
    pbt_resample: float = _tune_option("sampler", "resample_probability", name="pbt")
    prune: bool | str = key(
        False,
        _prune,
        "stop poor trials early: true (successive halving) or a pruner name",
        "bool or name",
    )
    epochs: int | None = key(
        None, _optional(_int_at_least(1)), "epochs per trial (default: train.epochs)", "int"
    )
    executor: str = key(
        "process",
        _tune_name("executor"),
        "where trials run (population: trials that share their architecture and batch size "
        "train together as one population; ray_population: those populations as Ray tasks, "
        "one group a task)",
        "name",
    )
    max_members: int | None = _tune_option("executor", "max_members")


SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "tune": TuneConfig,
}


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: top-level keys and the four sections."""

    name: str = key(
        "experiment",
        _plain_name,
        "experiment name (run and study names start with it; no / or ..)",
        "string",
    )
    seed: int = key(
        0, _int_at_least(0), "seeds the data split, initial weights, shuffling, dropout", "int"
    )
    human_error: float | None = key(
        None,
        _optional(check.non_negative),
        "human-level (≈ Bayes) error for the bias/variance verdict: a fraction, or for "
        "regression an RMSE in the targets' units (default: not given; a documented estimate "
        "where the dataset has one; for regression 0)",
        "fraction or RMSE",
    )
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)

    # -- conversions -----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A plain dict (JSON and TOML friendly) that :func:`resolve_config` reads back."""
        return dataclasses.asdict(self)

    def replace(self, overrides: dict[str, Any]) -> ExperimentConfig:
        """A new config with dotted keys set (``{"train.lr": 3e-4}``), validated again."""
        return resolve_config(apply_overrides(self.to_dict(), overrides))

    def get(self, dotted: str) -> Any:
        """The value of a dotted key (``"train.lr"``)."""
        section, _, name = dotted.partition(".")
        node = getattr(self, section) if name else self
        return getattr(node, name or section)


def _top_level_fields() -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(ExperimentConfig) if f.name not in SECTIONS]


def _resolve_section(cls, section: str, raw) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"[{section}] must be a section (table), got {raw!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for name, value in raw.items():
        if name not in fields:
            raise ConfigError(f"unknown key {section}.{name} (known: {', '.join(fields)})")
        values[name] = fields[name].metadata["check"](f"{section}.{name}", value)
    return cls(**values)


def resolve_config(raw: dict[str, Any]) -> ExperimentConfig:
    """Validate a raw (parsed TOML) config and fill in the defaults.

    Raises:
        ValueError: an unknown key or a bad value, naming its dotted path (``ConfigError``
            for the file's structure).
        TypeError: a value of the wrong type, naming its dotted path.
    """
    if isinstance(raw, ExperimentConfig):
        return raw
    top = {f.name: f for f in _top_level_fields()}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name in SECTIONS:
            values[name] = _resolve_section(SECTIONS[name], name, value)
        elif name in top:
            values[name] = top[name].metadata["check"](name, value)
        else:
            known = list(top) + [f"[{k}]" for k in SECTIONS]
            raise ConfigError(f"unknown key {name} (known: {', '.join(known)})")
    config = ExperimentConfig(**values)
    _check_consistency(config)
    es = config.train.early_stopping
    if es and es["monitor"] == "auto":
        monitor = "dev_cost" if task_of(config) == "regression" else "dev_error"
        train = dataclasses.replace(config.train, early_stopping={**es, "monitor": monitor})
        config = dataclasses.replace(config, train=train)
    return config


def task_of(config: ExperimentConfig) -> str:
    """``"regression"`` or ``"classification"``: ``data.task``, or with ``auto`` what the model
    says (a linear output or a regression loss is regression)."""
    if config.data.task != "auto":
        return config.data.task
    loss = LOSSES.get(config.train.loss_name(config.model.output))
    if config.model.output == "linear" or loss.task == "regression":
        return "regression"
    return "classification"


def _check_task(config: ExperimentConfig) -> None:
    """Task, model output and loss agree (checked before any data is read)."""
    output, loss_name = config.model.output, config.train.loss_name(config.model.output)
    loss = LOSSES.get(loss_name)
    task = task_of(config)
    if task == "regression":
        if output != "linear":
            raise ConfigError(
                f'data.task = "regression" needs model.output = "linear" (identity outputs), '
                f"got {output!r}"
            )
        if loss.task != "regression":
            raise ConfigError(
                f"train.loss = {loss_name!r} is a classification loss; regression (model.output "
                f'= "linear") trains with {", ".join(n for n in LOSSES.names() if LOSSES.get(n).task == "regression")}'
            )
    else:
        if output == "linear" or loss.task == "regression":
            why = 'model.output = "linear"' if output == "linear" else f"train.loss = {loss_name!r}"
            raise ConfigError(
                f'data.task = "classification" does not go with {why} (a regression setting); '
                'set data.task = "regression" or use a classification output and loss'
            )
    try:
        config.train.build_loss(output)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"train.loss_args: {err}") from None


def _check_consistency(config: ExperimentConfig) -> None:
    model, train = config.model, config.train
    if (
        isinstance(model.hidden, list)
        and model.layers is not None
        and model.layers != len(model.hidden)
    ):
        raise ConfigError(
            f"model.layers is {model.layers} but model.hidden lists {len(model.hidden)} widths; "
            "give hidden as one width to repeat it, or drop layers"
        )
    n_hidden = len(model.hidden_sizes())
    if isinstance(model.keep_prob, list) and len(model.keep_prob) != n_hidden:
        raise ConfigError(
            f"model.keep_prob lists {len(model.keep_prob)} values for {n_hidden} hidden layers"
        )
    _check_task(config)
    if config.human_error is not None and task_of(config) == "classification":
        check.fraction("human_error", config.human_error)
    for option in required_options(config.data.dataset):
        if getattr(config.data, option, None) in (None, ""):
            raise ConfigError(f"data.{option} is needed for dataset {config.data.dataset!r}")
    optimizer = OPTIMIZERS.get(train.optimizer)
    takes = hyperparameter_defaults(optimizer)
    unknown = sorted(set(train.optimizer_args) - set(takes))
    if unknown:
        raise ConfigError(
            f"train.optimizer_args: the {train.optimizer} optimizer takes "
            f"{', '.join(takes) or 'nothing more'}; got {', '.join(unknown)}"
        )
    for opt in OPTIMIZERS.options(train.optimizer):
        if opt.name in train.optimizer_args:
            try:
                opt.validate(train.optimizer_args[opt.name], f"train.optimizer_args.{opt.name}")
            except ValueError as err:
                raise ConfigError(str(err)) from None


def default_config() -> ExperimentConfig:
    """The configuration with every default."""
    return ExperimentConfig()


# -- reading files and --set ----------------------------------------------------------------
def parse_value(text_value: str) -> Any:
    """A ``--set`` value: TOML syntax (``3e-4``, ``true``, ``[64, 64]``), else a plain string."""
    try:
        return tomllib.loads(f"v = {text_value}")["v"]
    except tomllib.TOMLDecodeError:
        return text_value


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys (``train.lr``) in a raw config, returning a new dict."""
    raw = copy.deepcopy(raw)
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node = raw
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"cannot set {dotted}: {part} is not a section")
        node[parts[-1]] = value
    return raw


def parse_set_options(items: list[str]) -> dict[str, Any]:
    """``["train.lr=3e-4", ...]`` → ``{"train.lr": 3e-4}``."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set needs KEY=VALUE, got {item!r}")
        k, value = item.split("=", 1)
        out[k.strip()] = parse_value(value.strip())
    return out


def read_toml(path) -> dict[str, Any]:
    """The raw contents of an experiment file (``name`` defaults to the file's stem)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"experiment file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path}: not a UTF-8 text file ({err.reason} at byte {err.start})"
        ) from None
    raw.setdefault("name", path.stem)
    return raw


def load_config(path, overrides: dict[str, Any] | None = None) -> ExperimentConfig:
    """Read, override and validate an experiment file."""
    return resolve_config(apply_overrides(read_toml(path), overrides or {}))


def is_key(dotted: str) -> bool:
    """True when ``dotted`` names a key of the experiment (``train.lr``, ``seed``)."""
    section, _, name = dotted.partition(".")
    if not name:
        return section in {f.name for f in _top_level_fields()}
    return section in SECTIONS and name in {f.name for f in dataclasses.fields(SECTIONS[section])}


# -- the key reference --------------------------------------------------------------------
def _default_text(f: dataclasses.Field) -> str:
    value = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    if value is None:
        return "—"
    return _toml_value(value)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _choices(f: dataclasses.Field, section: str) -> str:
    registries = {
        ("data", "dataset"): DATASETS,
        ("data", "normalize"): NORMALIZERS,
        ("data", "augment"): AUGMENTATIONS,
        ("model", "activation"): ACTIVATIONS,
        ("model", "init"): INITIALIZERS,
        ("train", "optimizer"): OPTIMIZERS,
        ("train", "schedule"): SCHEDULES,
        ("train", "loss"): LOSSES,
    }
    if section == "tune":
        from honed.tune.registry import EXECUTORS, PRUNERS, SAMPLERS

        registries.update(
            {
                ("tune", "strategy"): SAMPLERS,
                ("tune", "prune"): PRUNERS,
                ("tune", "executor"): EXECUTORS,
            }
        )
    registry = registries.get((section, f.name))
    if registry is not None:
        return "; one of: " + ", ".join(registry.names())
    return ""


def key_reference() -> str:
    """Every key of an experiment file with its type, default and meaning (Markdown)."""
    lines = [
        "# Experiment file keys",
        "",
        "Generated by `honed config --keys` from `honed/experiment/config.py` and the registries",
        "(a test keeps this page current). Every key is optional.",
        "",
    ]
    groups = [("", _top_level_fields())] + [
        (name, dataclasses.fields(cls)) for name, cls in SECTIONS.items()
    ]
    for section, fields in groups:
        lines += [f"## {'top level' if not section else f'[{section}]'}", ""]
        lines += ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
        for f in fields:
            dotted = f"{section}.{f.name}" if section else f.name
            meaning = f.metadata["help"] + _choices(f, section)
            default = _default_text(f).replace("|", "\\|")
            kind = f.metadata["kind"].replace("|", "\\|")  # a | would end the table cell
            lines.append(f"| `{dotted}` | {kind} | `{default}` | {meaning} |")
        lines.append("")
    return "\n".join(lines)


def format_config(config: ExperimentConfig) -> str:
    """The resolved configuration as TOML, every key shown."""

    def line(k, v):  # TOML has no null: an unset key is shown as a comment
        return f"# {k} is not set" if v is None else f"{k} = {_toml_value(v)}"

    data = config.to_dict()
    lines = [line(k, v) for k, v in data.items() if k not in SECTIONS]
    for section in SECTIONS:
        lines += ["", f"[{section}]"]
        lines += [line(k, v) for k, v in data[section].items()]
    return "\n".join(lines)
