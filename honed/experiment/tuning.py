"""Tuning an experiment: the bridge between ``honed.tune`` (any objective) and training.

:class:`ExperimentObjective` trains the experiment of a config with a trial's sampled values
(dotted keys such as ``train.lr``) and returns the final dev error. Every trial uses the
same data split (the experiment's seed) and its own ``trial.seed`` for initial weights,
shuffling and dropout, so results do not depend on the number of workers.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import numpy as np

from honed.experiment import build as ex
from honed.experiment.config import ConfigError, ExperimentConfig, is_key
from honed.train import Callback, TrainingDiverged

# One worker process trains many trials; loading and normalizing Fashion-MNIST once per
# process instead of once per trial saves about a second each.
_DATA_CACHE: dict[str, ex.Data] = {}
_DATA_LOCK = threading.Lock()  # the population executor's threads share the cache


def _data_for(config) -> ex.Data:
    key = repr((config.seed, config.data))
    with _DATA_LOCK:
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
            trainer.fit(data.train, data.dev, epochs=self.epochs, verbose=0)
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

    # -- the population executor's protocol (honed.tune.population_executor) -------------
    def population_key(self, params: dict[str, Any]) -> str:
        """What a trial shares with the other members of its population (its config
        without the per-member keys); ConfigError when a population cannot train it."""
        from honed.experiment.population_tuning import population_key

        return population_key(trial_config(self.config, {**params, "train.epochs": self.epochs}))

    def population_prepare(self) -> None:
        """Load the experiment's data (run in the background as the study starts)."""
        _data_for(self.config)

    def population_cost(self, params: dict[str, Any]) -> float:
        """Relative training cost of one member (to balance populations over threads)."""
        from honed.experiment.population_tuning import cost

        data = _data_for(self.config)
        config = trial_config(self.config, {**params, "train.epochs": self.epochs})
        return cost(config, int(np.prod(data.train.X.shape[1:])))

    def population_min_members(self, params: dict[str, Any]) -> int:
        """The smallest population worth a thread of its own (see ``min_members``)."""
        from honed.experiment.population_tuning import min_members

        data = _data_for(self.config)
        config = trial_config(self.config, {**params, "train.epochs": self.epochs})
        return min_members(config, int(np.prod(data.train.X.shape[1:])))

    def train_population(self, job) -> None:
        """Train the trials of ``job`` together (``honed.experiment.population_tuning``)."""
        from honed.experiment.population_tuning import train_population

        train_population(self, job)


def default_study_path(config: ExperimentConfig) -> Path:
    return Path("studies") / f"{config.name}.journal"  # an Optuna journal file


def tune_experiment(
    config: ExperimentConfig,
    trials: int | None = None,
    workers: int | None = None,
    strategy: str | None = None,
    study_path=None,
    prune: bool | str | None = None,
    executor: str | None = None,
    progress: Any = "auto",
    seed: int | None = None,
    address: str | None = None,
    new_study: bool = False,
    max_members: int | None = None,
):
    """Create or resume the study of an experiment and run it to ``trials`` trials.

    Resuming with a different experiment (any key but ``tune.trials`` and
    ``tune.workers``) is refused naming the keys, unless ``new_study``: then a new study
    (``NAME-2``, ...) starts in the same file. ``prune``: True (successive halving) or a
    pruner's name. ``executor``: default ``tune.executor``; ``"population"`` trains trials
    that share their architecture and batch size together (``strategy="pbt"`` needs it).
    ``address``: the Ray cluster for ``executor="ray"`` or ``"ray_population"`` (default
    ``$RAY_ADDRESS``, else a local Ray). ``max_members``: default ``tune.max_members``."""
    from honed.tune import make_executor, optimize
    from honed.tune.integrity import RESUME_MAY_CHANGE, config_diff
    from honed.tune.storage import StudyStorage, is_legacy_file

    t = config.tune
    if not t.space:
        raise ConfigError(
            'tune.space is empty: add a [tune.space] table, e.g. "train.lr" = {log = [1e-4, 1e-1]}'
        )
    for key in t.space:  # every tuned key must be a valid experiment key
        if "." not in key or not is_key(key):
            raise ConfigError(f"tune.space key {key!r} is not an experiment key (like train.lr)")
    strategy = strategy or t.strategy
    executor = executor or t.executor
    populations = False  # whether the executor trains populations (what pbt needs)
    if isinstance(executor, str):
        from honed.tune.registry import EXECUTORS, check_name

        try:
            executor = check_name("executor", executor)
        except ValueError as err:
            raise ConfigError(f"tune.executor (--executor): {err}") from None
        populations = getattr(EXECUTORS.get(executor), "kind", None) == "population"
        takers = " or ".join(repr(n) for n in EXECUTORS.declaring("max_members"))
    sampler: Any = strategy
    if strategy == "zoom":
        sampler = {"name": "zoom", "stages": t.stages, "top_k": t.top_k}
    prune = t.prune if prune is None else prune
    pruner = ("successive_halving" if prune is True else prune) or None
    if strategy == "pbt":
        if not populations:
            raise ConfigError(
                "tune.strategy = 'pbt' trains populations: set tune.executor = 'population' "
                f"(--executor population, or ray_population); got tune.executor = {executor!r}"
            )
        if pruner is not None:
            raise ConfigError(
                "tune.strategy = 'pbt' replaces the worst members itself: it cannot be "
                f"combined with tune.prune (got {prune!r}); drop --prune or tune.prune"
            )
        sampler = {
            "name": "pbt",
            "every": t.pbt_every,
            "fraction": t.pbt_fraction,
            "resample_probability": t.pbt_resample,
        }
    max_members = t.max_members if max_members is None else max_members
    if max_members is not None and isinstance(executor, str) and not populations:
        raise ConfigError(
            f"tune.max_members (--max-members) sizes populations: it needs tune.executor = "
            f"{takers}, got {executor!r}"
        )
    if populations:
        from honed.experiment.population_tuning import check_population_space

        check_population_space(config, t.space, strategy)
    study_path = Path(study_path) if study_path else default_study_path(config)
    old_default = study_path.with_suffix(".sqlite")
    if (
        not study_path.exists()
        and study_path.suffix == ".journal"
        and is_legacy_file(str(old_default))
    ):
        raise ConfigError(
            f"{old_default} holds this experiment's study in honed's old format; upgrade it "
            f"with: honed study upgrade {old_default}"
        )
    # The driver lock is held from before the file is opened until the study has run: a
    # second driver started at the same time is refused as "being run" (StudyBusy)
    # before it reads or creates anything in the file.
    storage = StudyStorage(study_path)
    with storage.driver_lock(config.name):
        name = config.name
        as_dict = config.to_dict()
        if study_path.exists():
            names = set(storage.study_names())
            if new_study:
                k = 2
                while f"{config.name}-{k}" in names:
                    k += 1
                name = f"{config.name}-{k}" if name in names else name
            elif name in names:
                stored = (storage.get_study(name)["user_attrs"] or {}).get("config")
                if stored is not None:
                    differ = config_diff(stored, as_dict, ignore=RESUME_MAY_CHANGE)
                    if differ:
                        raise ConfigError(
                            f"study {name!r} in {study_path} was made from another experiment: "
                            f"{', '.join(differ)} differ; resuming would rank trials of two "
                            "experiments together. Use --new-study to start a new study in "
                            "this file, or --study for another file"
                        )
        return optimize(
            ExperimentObjective(config),
            t.space,
            trials or t.trials,
            storage,  # the one holding the lock
            study_name=name,
            sampler=sampler,
            seed=config.seed if seed is None else seed,
            workers=workers or t.workers,
            executor=(
                make_executor(executor, workers or t.workers, address, max_members)
                if address or max_members
                else executor
            ),
            pruner=pruner,
            progress=progress,
            user_attrs={"config": as_dict, "value_name": value_name(config)},
        )


def value_name(config) -> str:
    """What the experiment's trials report: the dev error of a classifier, or for a
    regression the dev RMSE divided by σ of the training targets (the constant predictor's
    RMSE, so 1 means "learned nothing")."""
    return "dev RMSE / σ" if config.model.output == "linear" else "dev error"


def open_study(path, name: str | None = None):
    """Open an existing study file (its newest study, unless ``name`` is given)."""
    from honed.tune import Study, StudyStorage

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"study file not found: {path}")
    storage = StudyStorage(path)  # one storage: a journal is replayed once, not per use
    names = storage.study_names()
    if not names:
        raise ValueError(f"{path} holds no study")
    if name is None:
        name = names[-1]  # the newest: `honed tune --new-study` adds NAME-2, NAME-3, ...
    elif name not in names:
        raise ValueError(f"{path} has no study {name!r}; it holds: {', '.join(names)}")
    return Study(storage, name)


#: keys a final training may set differently from the trials (they train longer)
TRAIN_MAY_CHANGE = ("tune.*", "train.epochs", "train.early_stopping", "train.checkpoint_every")


def best_trial_for(path, config: ExperimentConfig | dict | None = None):
    """The study's best complete trial, checked to belong to ``config``'s experiment.

    Raises:
        ValueError: when the study has no complete trial, or was made from another
            experiment (naming the differing keys; the tuned keys are not compared).
    """
    from honed.tune.integrity import config_diff

    study = open_study(path)
    best = study.best_trial
    if best is None:
        raise ValueError(f"study {path} has no complete trial yet")
    stored = (study.user_attrs or {}).get("config")
    if isinstance(config, ExperimentConfig):
        config = config.to_dict()
    if config is not None and stored is not None:
        differ = config_diff(stored, config, ignore=(*TRAIN_MAY_CHANGE, *study.space))
        if differ:
            raise ValueError(
                f"study {study.name!r} in {path} was made from another experiment: "
                f"{', '.join(differ)} differ"
            )
    return study, best


def trial_params(trial) -> dict[str, Any]:
    """The values to train a trial's configuration again: its params, or for a PBT member
    (``strategy = "pbt"``) the values it ended with (``user_attrs["pbt"]["final_params"]``)."""
    pbt = (trial.user_attrs or {}).get("pbt")
    if isinstance(pbt, dict) and isinstance(pbt.get("final_params"), dict):
        return dict(pbt["final_params"])
    return dict(trial.params)


def best_params(path) -> dict[str, Any]:
    """The best complete trial's values, as dotted-key overrides for ``honed train``."""
    return trial_params(best_trial_for(path)[1])
