"""Experiments: one TOML file → data + model + optimizer + trainer.

An experiment file has a ``[data]``, ``[model]`` and ``[train]`` section (and ``[tune]`` for
``honed tune``); every key is optional and takes the default below. Unknown keys and bad
values fail before any training, with the key's dotted path in the message::

    train.lr must be > 0, got -1

Example (``examples/fashion_mlp.toml``)::

    name = "fashion_mlp"
    seed = 0

    [data]
    dataset = "fashion_mnist"     # fashion_mnist | mnist | moons | circles | flower | blobs
                                  # | xor | and | or | nand | csv | npz
    dev = 5000                    # count or fraction; default: the size-aware rule
    normalize = "standard"        # standard (per feature) | scalar | minmax | none

    [model]
    hidden = [256, 256]           # or hidden = 100 with layers = 3
    activation = "relu"
    batch_norm = true
    keep_prob = 0.9
    l2 = 0.0

    [train]
    optimizer = "adam"
    lr = 1e-3
    schedule = { name = "inverse_time", decay_rate = 0.05 }
    batch_size = 128
    epochs = 30
    early_stopping = { patience = 5 }
"""

from __future__ import annotations

import copy
import math
import numbers
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DATASETS = (
    "fashion_mnist",
    "mnist",
    "moons",
    "circles",
    "flower",
    "blobs",
    "xor",
    "and",
    "or",
    "nand",
    "csv",
    "npz",
)
NORMALIZERS = ("standard", "scalar", "minmax", "none")
ACTIVATIONS = ("relu", "leaky_relu", "elu", "tanh", "sigmoid")
INITS = ("he", "xavier", "glorot", "normal", "uniform", "zeros")
OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
SCHEDULES = ("constant", "inverse_time", "exponential", "inverse_sqrt", "staircase", "manual")


class ConfigError(ValueError):
    """A bad experiment file: the message starts with the key's dotted path."""


# -- validators: (value, path) -> normalized value -----------------------------------------
def _number(path, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ConfigError(f"{path} must be a finite number, got {value!r}")
    return float(value)


def _integer(path, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value):
        raise ConfigError(f"{path} must be an integer, got {value!r}")
    return int(value)


def positive(path, value):
    value = _number(path, value)
    if value <= 0:
        raise ConfigError(f"{path} must be > 0, got {value:g}")
    return value


def non_negative(path, value):
    value = _number(path, value)
    if value < 0:
        raise ConfigError(f"{path} must be >= 0, got {value:g}")
    return value


def fraction(path, value):
    value = _number(path, value)
    if not 0 <= value <= 1:
        raise ConfigError(f"{path} must be in [0, 1], got {value:g}")
    return value


def beta(path, value):
    value = _number(path, value)
    if not 0 <= value < 1:
        raise ConfigError(f"{path} must be in [0, 1), got {value:g}")
    return value


def keep_prob(path, value):
    if isinstance(value, list):
        return [keep_prob(f"{path}[{i}]", v) for i, v in enumerate(value)]
    value = _number(path, value)
    if not 0 < value <= 1:
        raise ConfigError(f"{path} must be in (0, 1], got {value:g}")
    return value


def int_at_least(minimum):
    def check(path, value):
        value = _integer(path, value)
        if value < minimum:
            raise ConfigError(f"{path} must be an integer >= {minimum}, got {value}")
        return value

    return check


def one_of(options):
    def check(path, value):
        if value not in options:
            raise ConfigError(
                f"{path} must be one of {', '.join(map(str, options))}, got {value!r}"
            )
        return value

    return check


def _registered(path, value, kind):
    # names come from honed.tune's registries (a user's registered sampler works too)
    from honed.tune.registry import check_name

    try:
        return check_name(kind, value)
    except ValueError as e:
        raise ConfigError(f"{path}: {e}") from None


def optional(check):
    return lambda path, value: None if value is None or value == "" else check(path, value)


def boolean(path, value):
    if not isinstance(value, bool):
        raise ConfigError(f"{path} must be true or false, got {value!r}")
    return value


def text(path, value):
    if not isinstance(value, str):
        raise ConfigError(f"{path} must be a string, got {value!r}")
    return value


def size(path, value):
    """A dev/test size: a fraction in (0, 1) or a count >= 1."""
    value = _number(path, value)
    if 0 < value < 1:
        return value
    if value >= 1 and value == int(value):
        return int(value)
    raise ConfigError(f"{path} must be a fraction in (0, 1) or a count >= 1, got {value:g}")


def hidden(path, value):
    if isinstance(value, list):
        if not value:
            raise ConfigError(f"{path} must list at least one layer width, got []")
        return [int_at_least(1)(f"{path}[{i}]", v) for i, v in enumerate(value)]
    return int_at_least(1)(path, value)


def augment(path, value):
    if not isinstance(value, list):
        raise ConfigError(f'{path} must be a list of tables like {{name = "shift"}}, got {value!r}')
    for i, spec in enumerate(value):
        if not (isinstance(spec, str) or (isinstance(spec, dict) and "name" in spec)):
            raise ConfigError(f"{path}[{i}] must be a name or a table with a name, got {spec!r}")
    return value


def schedule(path, value):
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict) or "name" not in value:
        raise ConfigError(f"{path} must be a schedule name or a table with a name, got {value!r}")
    one_of(SCHEDULES)(f"{path}.name", value["name"])
    allowed = {
        "constant": set(),
        "inverse_time": {"decay_rate"},
        "exponential": {"base"},
        "inverse_sqrt": {"k"},
        "staircase": {"factor", "every"},
        "manual": {"table"},
    }[value["name"]]
    for key in value:
        if key != "name" and key not in allowed:
            raise ConfigError(
                f"{path}.{key} is not a parameter of the {value['name']} schedule "
                f"(it takes: {', '.join(sorted(allowed)) or 'nothing'})"
            )
    return dict(value)


def early_stopping(path, value):
    if value is False or value is None:
        return False
    if value is True:
        value = {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path} must be false or a table like {{patience = 5}}, got {value!r}")
    spec = {
        "patience": int_at_least(1),
        "min_delta": non_negative,
        "monitor": one_of(("dev_error", "dev_cost")),
    }
    out = {"patience": 5, "min_delta": 0.0, "monitor": "dev_error"}
    for key, v in value.items():
        if key not in spec:
            raise ConfigError(f"unknown key {path}.{key} (known: {', '.join(spec)})")
        out[key] = spec[key](f"{path}.{key}", v)
    return out


def table(path, value):
    if not isinstance(value, dict):
        raise ConfigError(f"{path} must be a table, got {value!r}")
    return value


# section -> key -> (default, validator)
SCHEMA: dict[str, dict[str, tuple[Any, Callable]]] = {
    "": {
        "name": ("experiment", text),
        "seed": (0, int_at_least(0)),
        "human_error": (0.0, fraction),
    },
    "data": {
        "dataset": ("fashion_mnist", one_of(DATASETS)),
        "path": (None, optional(text)),
        "target": (None, lambda p, v: v),
        "n_samples": (1000, int_at_least(4)),
        "noise": (0.2, non_negative),
        "subset": (0, int_at_least(0)),
        "dev": (None, optional(size)),
        "test": (None, optional(size)),
        "stratify": (True, boolean),
        "normalize": ("standard", one_of(NORMALIZERS)),
        "augment": ([], augment),
    },
    "model": {
        "hidden": ([64], hidden),
        "layers": (None, optional(int_at_least(1))),
        "activation": ("relu", one_of(ACTIVATIONS)),
        "init": (None, optional(one_of(INITS))),
        "init_scale": (1.0, positive),
        "batch_norm": (False, boolean),
        "keep_prob": (1.0, keep_prob),
        "l1": (0.0, non_negative),
        "l2": (0.0, non_negative),
    },
    "train": {
        "optimizer": ("adam", one_of(OPTIMIZERS)),
        "lr": (1e-3, positive),
        "beta": (0.9, beta),
        "beta1": (0.9, beta),
        "beta2": (0.999, beta),
        "eps": (1e-8, positive),
        "schedule": ({"name": "constant"}, schedule),
        "batch_size": (128, int_at_least(1)),
        "epochs": (10, int_at_least(1)),
        "early_stopping": (False, early_stopping),
        "checkpoint_every": (1, int_at_least(1)),
    },
    "tune": {
        "space": ({}, table),
        "trials": (16, int_at_least(1)),
        "workers": (None, optional(int_at_least(1))),
        "strategy": ("random", lambda path, v: _registered(path, v, "sampler")),
        "stages": (2, int_at_least(1)),
        "top_k": (4, int_at_least(1)),
        "prune": (
            False,
            lambda path, v: v if isinstance(v, bool) else _registered(path, v, "pruner"),
        ),
        "epochs": (None, optional(int_at_least(1))),
    },
}


def default_config() -> dict[str, Any]:
    """The full configuration with every default filled in."""
    config = {key: copy.deepcopy(default) for key, (default, _) in SCHEMA[""].items()}
    for section, keys in SCHEMA.items():
        if section:
            config[section] = {key: copy.deepcopy(default) for key, (default, _) in keys.items()}
    return config


def resolve_config(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a raw (parsed TOML) config and fill in the defaults.

    Raises:
        ConfigError: an unknown key or a bad value, naming its dotted path.
    """
    config = default_config()
    for key, value in raw.items():
        if key in SCHEMA and key:
            if not isinstance(value, dict):
                raise ConfigError(f"[{key}] must be a section (table), got {value!r}")
            for sub, sub_value in value.items():
                if sub not in SCHEMA[key]:
                    raise ConfigError(f"unknown key {key}.{sub} (known: {', '.join(SCHEMA[key])})")
                config[key][sub] = SCHEMA[key][sub][1](f"{key}.{sub}", sub_value)
        elif key in SCHEMA[""]:
            config[key] = SCHEMA[""][key][1](key, value)
        else:
            known = [k for k in SCHEMA[""]] + [f"[{k}]" for k in SCHEMA if k]
            raise ConfigError(f"unknown key {key} (known: {', '.join(known)})")
    _check_consistency(config)
    return config


def _check_consistency(config) -> None:
    model = config["model"]
    if (
        isinstance(model["hidden"], list)
        and model["layers"] is not None
        and model["layers"] != len(model["hidden"])
    ):
        raise ConfigError(
            f"model.layers is {model['layers']} but model.hidden lists {len(model['hidden'])} widths; "
            "give hidden as one width to repeat it, or drop layers"
        )
    kp = model["keep_prob"]
    if isinstance(kp, list) and len(kp) != len(hidden_sizes(config)):
        raise ConfigError(
            f"model.keep_prob lists {len(kp)} values for {len(hidden_sizes(config))} hidden layers"
        )
    if config["data"]["dataset"] in ("csv", "npz", "mnist") and not config["data"]["path"]:
        raise ConfigError(f"data.path is needed for dataset {config['data']['dataset']!r}")


def hidden_sizes(config) -> list[int]:
    """Hidden layer widths: the list given, or ``hidden`` repeated ``layers`` times."""
    model = config["model"]
    if isinstance(model["hidden"], list):
        return list(model["hidden"])
    return [model["hidden"]] * (model["layers"] or 1)


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
        key, value = item.split("=", 1)
        out[key.strip()] = parse_value(value.strip())
    return out


def load_config(path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read, override and validate an experiment file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"experiment file not found: {path}")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    raw.setdefault("name", path.stem)
    return resolve_config(apply_overrides(raw, overrides or {}))


# -- building -----------------------------------------------------------------------------
@dataclass
class Data:
    """The prepared data of an experiment: normalized train/dev/test and the normalizer."""

    train: Any
    dev: Any
    test: Any
    normalizer: Any
    n_classes: int
    image_shape: tuple[int, ...] | None


def _load_raw(config):
    """(train, test or None) Datasets as the source gives them; images as uint8 pixels."""
    from honed import data as hd

    d = config["data"]
    name, seed = d["dataset"], config["seed"]
    if name == "fashion_mnist":
        return hd.fashion_mnist(path=d["path"], raw=True)
    if name == "mnist":
        return hd.mnist(d["path"], raw=True)
    if name in ("xor", "and", "or", "nand"):
        return hd.gates(name), None
    if name == "csv":
        return hd.load_csv(d["path"], target=d["target"] if d["target"] is not None else -1), None
    if name == "npz":
        return hd.load_npz(d["path"]), None
    maker = {"moons": hd.moons, "circles": hd.circles, "flower": hd.flower, "blobs": hd.blobs}[name]
    return maker(n_samples=d["n_samples"], noise=d["noise"], seed=seed), None


def _normalizer(kind):
    from honed.data import MinMaxScaler, Standardizer

    return {
        "standard": lambda: Standardizer(per_feature=True),
        "scalar": lambda: Standardizer(per_feature=False),
        "minmax": lambda: MinMaxScaler(),
        "none": lambda: None,
    }[kind]()


def prepare_data(config, normalizer_state: dict | None = None) -> Data:
    """Load, subset, split (train/dev/test) and normalize the experiment's data.

    The normalizer is fit on the training set only and applied unchanged to dev and test
    (the notes: the same μ and σ for every set). A saved ``normalizer_state`` is reused as is.
    """
    from honed import data as hd

    d, seed = config["data"], config["seed"]
    train, test = _load_raw(config)
    if d["subset"] and d["subset"] < len(train):
        picked = np.sort(np.random.default_rng(seed).permutation(len(train))[: d["subset"]])
        train = train[picked]
    if len(train) <= 8:  # the logic gates: train, dev and test are the truth table itself
        dev = test = train
    elif test is None:
        train, dev, test = hd.train_dev_test_split(
            train, dev=d["dev"], test=d["test"], stratify=d["stratify"], seed=seed
        )
    else:
        train, dev = hd.train_dev_split(train, dev=d["dev"], stratify=d["stratify"], seed=seed)
    if train.X.dtype == np.uint8:  # image pixels: converted only now, after the subset and split
        train, dev, test = (s.replace(X=hd.pixels_to_unit(s.X)) for s in (train, dev, test))
    normalizer = _normalizer(d["normalize"])
    if normalizer is not None:
        if normalizer_state is not None:
            normalizer = type(normalizer).from_state_dict(normalizer_state)
        else:
            normalizer.fit(train)
        train, dev, test = (normalizer.transform(s) for s in (train, dev, test))
    n_classes = int(train.n_classes) if train.n_classes else int(train.y.max()) + 1
    return Data(train, dev, test, normalizer, n_classes, getattr(train, "image_shape", None))


def build_model(config, n_features: int, n_classes: int):
    """The experiment's MLP: hidden blocks Dense → [BatchNorm] → activation → [Dropout]."""
    from honed.nn import mlp

    m = config["model"]
    return mlp(
        [n_features, *hidden_sizes(config), n_classes],
        activation=m["activation"],
        init=m["init"],
        scale=m["init_scale"],
        batch_norm=m["batch_norm"],
        keep_prob=m["keep_prob"],
        output="softmax",
        seed=config["seed"],
    )


def build_schedule(config):
    from honed.optim import schedule_from_config

    t = config["train"]
    spec = dict(t["schedule"])
    if spec["name"] == "constant":
        return t["lr"]
    return schedule_from_config(spec, lr=t["lr"])


def build_optimizer(config, params):
    from honed import optim

    t = config["train"]
    lr = build_schedule(config)
    if t["optimizer"] == "gd":
        return optim.GD(params, lr=lr)
    if t["optimizer"] == "momentum":
        return optim.Momentum(params, lr=lr, beta=t["beta"])
    if t["optimizer"] == "rmsprop":
        return optim.RMSprop(params, lr=lr, beta2=t["beta2"], eps=t["eps"])
    return optim.Adam(params, lr=lr, beta1=t["beta1"], beta2=t["beta2"], eps=t["eps"])


def build_augmentation(config, image_shape):
    from honed.data import augmentation_from_config

    specs = config["data"]["augment"]
    if not specs:
        return None
    try:
        return augmentation_from_config(specs, image_shape=image_shape)
    except (ValueError, TypeError) as err:
        raise ConfigError(f"data.augment: {err}") from None


def build_trainer(config, data: Data, callbacks=()):
    """Model, optimizer and :class:`~honed.train.Trainer` for prepared data."""
    from honed.train import EarlyStopping, Trainer

    model = build_model(config, int(np.prod(data.train.X.shape[1:])), data.n_classes)
    optimizer = build_optimizer(config, model.parameters())
    callbacks = list(callbacks)
    es = config["train"]["early_stopping"]
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
        loss="softmax_cross_entropy",
        batch_size=config["train"]["batch_size"],
        l1=config["model"]["l1"],
        l2=config["model"]["l2"],
        augment=build_augmentation(config, data.image_shape),
        callbacks=callbacks,
        seed=config["seed"],
        extra_state=extra,
    )
