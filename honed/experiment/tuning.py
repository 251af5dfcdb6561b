"""Tuning an experiment: the bridge between ``honed.tune`` (any objective) and training.

:class:`ExperimentObjective` trains the experiment of a config with a trial's sampled values
(dotted keys such as ``train.lr``) and returns the final dev error. Every trial uses the
same data split (the experiment's seed) and its own ``trial.seed`` for initial weights,
shuffling and dropout, so results do not depend on the number of workers.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from honed.experiment import build as ex
from honed.experiment.config import ConfigError, ExperimentConfig, is_key
from honed.train import Callback, TrainingDiverged

# One worker process trains many trials; loading and normalizing Fashion-MNIST once per
# process instead of once per trial saves about a second each.
_DATA_CACHE: dict[str, ex.Data] = {}


def _data_for(config) -> ex.Data:
    key = repr((config.seed, config.data))
    if key not in _DATA_CACHE:
        _DATA_CACHE.clear()
        _DATA_CACHE[key] = ex.prepare_data(config)
    return _DATA_CACHE[key]


class _ReportToTrial(Callback):
    """Report each epoch's dev error to the trial; stop when the pruner says so."""

    def __init__(self, trial):
        self.trial = trial
        self.pruned = False

    def on_epoch_end(self, trainer, epoch, logs):
        if logs.get("dev_error") is None:
            return
        self.trial.report(epoch, logs["dev_error"])
        if self.trial.should_prune():
            self.pruned = True
            trainer.stop_training = True


def trial_config(
    config: ExperimentConfig, params: dict[str, Any], seed: int | None = None
) -> ExperimentConfig:
    """The config with the trial's values set (validated) and, if given, its seed."""
    overrides = dict(params)
    if seed is not None:
        overrides["seed"] = int(seed)
    return config.replace(overrides)


class ExperimentObjective:
    """``objective(trial) -> dev error`` for ``honed.tune``; picklable for process workers.

    Args:
        config: a resolved experiment config.
        epochs: epochs per trial (default ``tune.epochs``, else ``train.epochs``).
    """

    def __init__(self, config: ExperimentConfig, epochs: int | None = None):
        self.config = config
        self.epochs = epochs or config.tune.epochs or config.train.epochs

    def __call__(self, trial) -> float:
        from honed.tune import Diverged, TrialPruned

        data = _data_for(self.config)  # the base seed: the same split for every trial
        config = trial_config(
            self.config, {**trial.params, "train.epochs": self.epochs}, seed=trial.seed
        )
        reporter = _ReportToTrial(trial)
        trainer = ex.build_trainer(config, data, callbacks=[reporter])
        try:
            trainer.fit(data.train, data.dev, epochs=self.epochs)
        except TrainingDiverged as err:
            raise Diverged(str(err)) from None
        if reporter.pruned:
            raise TrialPruned(f"pruned after epoch {trainer.epoch}")
        if trainer.restored_epoch is None and trainer.history.last.get("dev_error") is not None:
            dev_error = trainer.history.last["dev_error"]  # the weights the last epoch measured
        else:  # early stopping restored earlier weights: measure those
            dev_error = trainer.evaluate(data.dev)["error"]
        if not math.isfinite(dev_error):
            raise Diverged(f"dev error is {dev_error}")
        trial.set_user_attr("epochs", trainer.epoch)
        trial.set_user_attr("train_error", trainer.history.last.get("train_error"))
        return dev_error


def default_study_path(config: ExperimentConfig) -> Path:
    return Path("studies") / f"{config.name}.sqlite"


def tune_experiment(
    config: ExperimentConfig,
    trials: int | None = None,
    workers: int | None = None,
    strategy: str | None = None,
    study_path=None,
    prune: bool | None = None,
    executor: str = "process",
    progress: Any = "auto",
    seed: int | None = None,
    address: str | None = None,
):
    """Create or resume the study of an experiment and run it to ``trials`` trials.

    ``address``: the Ray cluster for ``executor="ray"`` (default ``$RAY_ADDRESS``, else a
    local Ray)."""
    from honed.tune import SuccessiveHalvingPruner, make_executor, optimize

    t = config.tune
    if not t.space:
        raise ConfigError(
            'tune.space is empty: add a [tune.space] table, e.g. "train.lr" = {log = [1e-4, 1e-1]}'
        )
    for key in t.space:  # every tuned key must be a valid experiment key
        if "." not in key or not is_key(key):
            raise ConfigError(f"tune.space key {key!r} is not an experiment key (like train.lr)")
    strategy = strategy or t.strategy
    sampler: Any = strategy
    if strategy == "zoom":
        sampler = {"name": "zoom", "stages": t.stages, "top_k": t.top_k}
    pruner = SuccessiveHalvingPruner() if (t.prune if prune is None else prune) else None
    study_path = Path(study_path) if study_path else default_study_path(config)
    return optimize(
        ExperimentObjective(config),
        t.space,
        trials or t.trials,
        study_path,
        study_name=config.name,
        sampler=sampler,
        seed=config.seed if seed is None else seed,
        workers=workers or t.workers,
        executor=make_executor(executor, workers or t.workers, address) if address else executor,
        pruner=pruner,
        progress=progress,
        user_attrs={"config": config.to_dict()},
    )


def open_study(path, name: str | None = None):
    """Open an existing study file (the only study in it, unless ``name`` is given)."""
    from honed.tune import SQLiteStorage, Study

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"study file not found: {path}")
    if name is None:
        names = SQLiteStorage(path).study_names()
        if not names:
            raise ValueError(f"{path} holds no study")
        if len(names) > 1:
            raise ValueError(f"{path} holds several studies ({', '.join(names)}); name one")
        name = names[0]
    return Study(path, name)


def best_params(path) -> dict[str, Any]:
    """The best complete trial's values, as dotted-key overrides for ``honed train``."""
    study = open_study(path)
    best = study.best_trial
    if best is None:
        raise ValueError(f"study {path} has no complete trial yet")
    return dict(best.params)
