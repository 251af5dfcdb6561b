"""honed.tune: hyperparameter search that runs any objective.

The course notes' method, as a tool: sample at random (not on a grid), each
hyperparameter on its right scale (log for α, log of 1-β for β), optionally coarse to
fine; train many models in parallel ("caviar") and keep every trial in an Optuna storage
(a journal file by default) so a study survives interruption and resumes, and
``optuna.load_study`` / optuna-dashboard read it.

    from honed.tune import optimize

    def objective(trial):                      # module level, so workers can pickle it
        lr, beta = trial.params["train.lr"], trial.params["train.beta"]
        for epoch in range(1, 11):
            dev_error = ...                    # train one epoch with trial.seed
            trial.report(epoch, dev_error)     # per-epoch dev error (for the pruner, plots)
            if trial.should_prune():
                raise TrialPruned()
        return dev_error                       # NaN/inf or raise Diverged -> "diverged"

    study = optimize(objective, {"train.lr": {"log": [1e-4, 1]},
                                 "train.beta": {"one_minus_log": [0.9, 0.999]}},
                     n_trials=40, storage_path="runs/tune.journal", sampler="zoom", workers=4)
    study.best_trial
"""

from .executors import (
    Executor,
    InProcessExecutor,
    ProcessExecutor,
    limit_blas_threads,
)
from .legacy import upgrade_legacy
from .optuna_bridge import OptunaPruner, OptunaSampler
from .population_executor import PBTSampler, PopulationExecutor
from .progress import Progress
from .pruners import NopPruner, Pruner, SuccessiveHalvingPruner
from .ray_executor import RayExecutor
from .registry import (
    EXECUTORS,
    PRUNERS,
    SAMPLERS,
    make_executor,
    make_pruner,
    make_sampler,
    register_executor,
    register_pruner,
    register_sampler,
    sampler_from_config,
)
from .samplers import (
    GridSampler,
    RandomSampler,
    Sampler,
    ZoomSampler,
)
from .space import (
    Choice,
    Distribution,
    Int,
    LogInt,
    LogUniform,
    OneMinusLogUniform,
    SearchSpace,
    Uniform,
    distribution_from_json,
)
from .storage import (
    FORMAT,
    OldStudyFormat,
    StudyBusy,
    StudyFileError,
    StudyStorage,
    open_storage,
)
from .study import Study, WorkersKeepDying, optimize
from .trial import Diverged, FrozenTrial, Trial, TrialPruned, TrialState, trial_seeds

__all__ = [
    # spaces
    "Distribution",
    "Uniform",
    "Int",
    "LogUniform",
    "LogInt",
    "OneMinusLogUniform",
    "Choice",
    "SearchSpace",
    "distribution_from_json",
    # samplers
    "Sampler",
    "RandomSampler",
    "GridSampler",
    "ZoomSampler",
    "make_sampler",
    "sampler_from_config",
    # trials and studies
    "Trial",
    "FrozenTrial",
    "TrialState",
    "Diverged",
    "TrialPruned",
    "trial_seeds",
    "Study",
    "optimize",
    "StudyStorage",
    "open_storage",
    "OldStudyFormat",
    "StudyBusy",
    "StudyFileError",
    "FORMAT",
    "upgrade_legacy",
    "WorkersKeepDying",
    # registries (samplers, pruners, executors by name)
    "SAMPLERS",
    "PRUNERS",
    "EXECUTORS",
    "register_sampler",
    "register_pruner",
    "register_executor",
    "OptunaSampler",
    "OptunaPruner",
    "make_pruner",
    # execution
    "Executor",
    "InProcessExecutor",
    "ProcessExecutor",
    "PopulationExecutor",
    "PBTSampler",
    "RayExecutor",
    "make_executor",
    "limit_blas_threads",
    # pruning and display
    "Pruner",
    "NopPruner",
    "SuccessiveHalvingPruner",
    "Progress",
]
