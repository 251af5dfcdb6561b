"""The experiment layer: one TOML file → typed config → data + model + optimizer + trainer,
run directories, and the bridge to tuning.

    config.py   the typed configuration (one frozen dataclass per section) and key reference
    build.py    prepared data, model, optimizer, Trainer from a config
    runs.py     run directories: train, resume, summarise
    tuning.py   an experiment as a tuning objective, and its study

Example (``examples/fashion_mlp.toml``)::

    name = "fashion_mlp"
    seed = 0

    [data]
    dataset = "fashion_mnist"
    dev = 5000
    normalize = "scalar"

    [model]
    hidden = [512, 256]
    batch_norm = true
    keep_prob = 0.8

    [train]
    optimizer = "adam"
    lr = 1e-3
    schedule = { name = "inverse_time", decay_rate = 0.1 }
    epochs = 30
    early_stopping = { patience = 6 }

Every key, its type, default and meaning: ``honed config --keys`` or ``docs/config-keys.md``.
"""

from honed.experiment.build import (
    Data,
    build_model,
    build_optimizer,
    build_schedule,
    build_trainer,
    load_raw,
    prepare_data,
    split_raw,
)
from honed.experiment.config import (
    SECTIONS,
    ConfigError,
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
    TuneConfig,
    apply_overrides,
    default_config,
    format_config,
    is_key,
    key_reference,
    load_config,
    parse_set_options,
    parse_value,
    read_toml,
    resolve_config,
)

__all__ = [
    "SECTIONS",
    "ConfigError",
    "Data",
    "DataConfig",
    "ExperimentConfig",
    "ModelConfig",
    "TrainConfig",
    "TuneConfig",
    "apply_overrides",
    "build_model",
    "build_optimizer",
    "build_schedule",
    "build_trainer",
    "default_config",
    "format_config",
    "is_key",
    "key_reference",
    "load_config",
    "load_raw",
    "parse_set_options",
    "parse_value",
    "prepare_data",
    "read_toml",
    "resolve_config",
    "split_raw",
]
