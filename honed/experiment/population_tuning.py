"""Tuning an experiment on populations: what ``ExperimentObjective`` does for
``executor="population"`` (see ``honed.tune.population_executor`` for the executor's side).

Trials whose configs agree on everything but the *per-member* keys train together as one
:class:`honed.population.Population`. Per member: the trial's seed (initial weights, dropout
masks and -- ``common_order=False`` -- its own mini-batch order, exactly as its standalone
``Trainer(seed=trial.seed)`` run), ``train.optimizer``, ``train.lr`` (and its schedule),
``train.beta``, ``train.beta1``, ``train.beta2``, ``train.eps``, ``model.l1``, ``model.l2``,
``model.keep_prob`` and ``model.init_scale``. Everything else (architecture, batch size,
epochs, early stopping, data and its augmentation) is the population's, so trials that differ there train in
different populations.

Member k therefore computes what trial k computes alone, up to floating-point summation
order; its value is the standalone one's: the last epoch's dev error, or under early
stopping the dev error of its best weights.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np

from honed.experiment.config import ConfigError, ExperimentConfig
from honed.optim import OPTIMIZERS, population_optimizers
from honed.train.stopping import best_epoch

#: the hyperparameters after lr of the optimizers a population trains, as they declare them
_OPTIMIZER_KEYS = sorted({o.name for n in population_optimizers() for o in OPTIMIZERS.options(n)})
#: dotted keys each member of a population may have its own value of
PER_MEMBER = (
    "seed",
    "train.optimizer",
    "train.lr",
    "train.schedule",
    *(f"train.{name}" for name in _OPTIMIZER_KEYS),
    "model.l1",
    "model.l2",
    "model.keep_prob",
    "model.init_scale",
)
#: per-member keys PBT perturbs, and the member field each one sets
PERTURBABLE = {
    "train.lr": "lr",
    **{f"train.{name}": name for name in _OPTIMIZER_KEYS},
    "model.l1": "l1",
    "model.l2": "l2",
    "model.keep_prob": "keep_prob",
}


def check_population_config(config: ExperimentConfig, where: str = "") -> None:
    """ConfigError naming the key when a population cannot train ``config``."""
    m, t = config.model, config.train
    suffix = f" ({where})" if where else ""
    why = "the population executor (tune.executor = 'population') "
    if t.drop_last:
        raise ConfigError(f"train.drop_last: {why}keeps every mini-batch; set it false{suffix}")
    from honed.nn import population_activations, population_losses

    activations = population_activations()
    if m.activation not in activations:
        raise ConfigError(
            f"model.activation: {why}trains {', '.join(activations)}; got {m.activation!r}{suffix}"
        )
    from honed.optim import population_optimizers
    from honed.population import HYPERPARAMETERS

    trains = population_optimizers()
    if t.optimizer not in trains:
        raise ConfigError(
            f"train.optimizer: {why}trains {', '.join(trains)} (the optimizers that declare "
            f"population = True); got {t.optimizer!r}{suffix}"
        )
    extra = sorted(set(t.optimizer_args) - set(HYPERPARAMETERS))
    if extra:
        raise ConfigError(
            f"train.optimizer_args: {why}takes only {', '.join(HYPERPARAMETERS)}; got "
            f"{', '.join(extra)}{suffix}"
        )
    loss = t.loss_name(m.output)
    losses = population_losses()
    if loss not in losses:
        raise ConfigError(f"train.loss: {why}trains {', '.join(losses)}; got {loss!r}{suffix}")


def check_population_space(config: ExperimentConfig, space: dict, strategy: str) -> None:
    """The base config and every choice of the space must be trainable as a population;
    PBT needs something to perturb."""
    from honed.tune import SearchSpace
    from honed.tune.space import Choice

    check_population_config(config)
    dists = SearchSpace.from_config(space)
    for key, dist in dists.items():
        if isinstance(dist, Choice):
            for value in dist.choices:
                try:
                    trial = config.replace({key: value})
                except (ValueError, TypeError):
                    continue  # the trial itself will say what is wrong with the value
                check_population_config(trial, where=f"tune.space {key} = {value!r}")
    if strategy == "pbt" and not pbt_space(dists):
        raise ConfigError(
            "tune.strategy = 'pbt' perturbs per-member values on their scale "
            f"({', '.join(PERTURBABLE)}, as log, one_minus_log or uniform ranges); "
            "tune.space has none"
        )


def pbt_space(space) -> dict[str, dict]:
    """The PBT perturbation space (``honed.population.pbt``) of a study's search space:
    each per-member range, on its own scale, keyed by member field."""
    from honed.tune.space import LogUniform, OneMinusLogUniform, Uniform

    out = {}
    for key, dist in space.items():
        field = PERTURBABLE.get(key)
        if field is None:
            continue
        if isinstance(dist, OneMinusLogUniform):
            scale = "beta"
        elif isinstance(dist, LogUniform):
            scale = "log"
        elif isinstance(dist, Uniform):
            scale = "linear"
        else:
            continue
        if scale == "beta" and not field.startswith("beta"):
            scale = "linear"
        out[field] = {"low": dist.low, "high": dist.high, "scale": scale}
    return out


def population_key(config: ExperimentConfig) -> str:
    """What the members of a population share: the config without its per-member keys."""
    check_population_config(config)
    d = config.to_dict()
    d.pop("tune", None)
    for dotted in PER_MEMBER:
        section, _, name = dotted.partition(".")
        if name:
            d[section].pop(name, None)
        else:
            d.pop(section, None)
    return json.dumps(d, sort_keys=True, default=str)


def architecture(config: ExperimentConfig, data) -> dict:
    m = config.model
    if m.output == "sigmoid" and data.n_classes != 2:
        raise ConfigError(
            f'model.output = "sigmoid" is one unit for two classes; the data has '
            f"{data.n_classes} classes (use softmax)"
        )
    n_out = 1 if m.output == "sigmoid" else data.n_outputs
    return {
        "sizes": [int(np.prod(data.train.X.shape[1:])), *m.hidden_sizes(), n_out],
        "activation": m.activation,
        "init": m.init,
        "batch_norm": m.batch_norm,
        "output": m.output,
    }


def member(config: ExperimentConfig, seed: int) -> dict:
    """The population member a trial's config trains (``honed.population.members``)."""
    from honed.experiment.build import build_schedule
    from honed.population import HYPERPARAMETERS

    t, m = config.train, config.model
    values = {name: t.optimizer_args.get(name, getattr(t, name)) for name in HYPERPARAMETERS}
    return {
        "optimizer": t.optimizer,
        "lr": build_schedule(config),
        **values,
        "l1": m.l1,
        "l2": m.l2,
        "keep_prob": m.keep_prob,
        "init_scale": m.init_scale,
        "seed": int(seed),
        "shuffle_seed": int(seed),  # the standalone Trainer(seed=trial.seed)'s order
    }


def cost(config: ExperimentConfig, n_features: int) -> float:
    """Relative cost of one member: epochs × (1 + 100 / batch) × weights (the per-step
    cost of the optimizer and the small operations, fitted on the 784-256-256-10 MLP)."""
    sizes = [n_features, *config.model.hidden_sizes(), 10]
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    batch = config.train.batch_size
    batch = 4096 if batch == "full" else int(batch)
    epochs = config.tune.epochs or config.train.epochs
    return float(epochs) * (1.0 + 100.0 / batch) * weights


#: floating-point operations a population's step needs before a thread of its own pays:
#: below it the step is Python (~60 operations, ~0.3 ms), which holds the GIL, so two
#: populations in two threads take longer than one (64 moons members [2, 5, 2, 2]: one
#: population of 64, 4.6 s; two of 32 in two threads, 5.4-6.3 s; 2 cores)
THREAD_WORTHY_FLOPS = 1e7


def min_members(config: ExperimentConfig, n_features: int) -> int:
    """The fewest members a population must have to be worth a thread of its own:
    ``ceil(THREAD_WORTHY_FLOPS / (6 · batch · weights))`` (forward and backward: about six
    operations per weight and example)."""
    sizes = [n_features, *config.model.hidden_sizes(), 10]
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    batch = config.train.batch_size
    batch = 4096 if batch == "full" else int(batch)
    return max(1, math.ceil(THREAD_WORTHY_FLOPS / (6.0 * batch * weights)))


def _value(history, early_stopping) -> float | None:
    """The standalone trial's value: the last dev error, or under early stopping the dev
    error of the best epoch by its monitor (the weights EarlyStopping restores)."""
    records = history.epochs
    if not records:
        return None
    if early_stopping:
        best = best_epoch(records, early_stopping["monitor"], early_stopping["min_delta"])
        if best is not None:
            return best["dev_error"]
    return records[-1].get("dev_error")


def _dotted(values: dict, config: ExperimentConfig) -> dict:
    """Member fields → dotted keys (α₀ for a scheduled learning rate)."""
    out = {}
    for key, field in PERTURBABLE.items():
        if field in values:
            v = values[field]
            if field == "lr" and callable(v):
                v = v.lr
            elif field == "lr" and isinstance(v, dict):  # a schedule's config
                v = v["lr"]
            if field == "keep_prob" and isinstance(v, list):
                v = v[0] if len(set(v)) == 1 and not isinstance(config.model.keep_prob, list) else v
            out[key] = v
    return out


def _together(job):
    """The job's ``together()`` (outcomes recorded at once), for jobs that have one."""
    import contextlib

    return getattr(job, "together", contextlib.nullcontext)()


def train_population(objective, job) -> None:
    """Train ``job.trials`` as one population (or a few, when memory says so) and finish
    each trial through ``job.finish`` (see the module docstring)."""
    from honed.experiment.tuning import _data_for, trial_config
    from honed.population import HEADROOM, available_memory, estimate_memory

    data = _data_for(objective.config)
    epochs = objective.epochs
    trials = list(job.trials)
    configs = [
        trial_config(objective.config, {**t.params, "train.epochs": epochs}, seed=t.seed)
        for t in trials
    ]
    base = configs[0]
    arch = architecture(base, data)
    batch = len(data.train) if base.train.batch_size == "full" else int(base.train.batch_size)
    # as many members as fit in this thread's share of the memory
    est = estimate_memory(
        arch["sizes"],
        1,
        batch,
        np.float32,
        second_moment=True,
        early_stopping=bool(base.train.early_stopping),
        batch_norm=arch["batch_norm"],
        eval_batch_size=min(4096, max(len(data.dev), 1)),
    )
    avail = available_memory()
    size = len(trials)
    if avail is not None:
        share = avail * HEADROOM / max(1, getattr(job, "share", 1))
        size = max(1, min(size, int((share - est["shared"]) // max(est["per_member"], 1))))
    for i in range(0, len(trials), size):
        _train(job, trials[i : i + size], configs[i : i + size], arch, batch, data, epochs)


def _train(job, trials, configs, arch, batch, data, epochs) -> None:
    from honed.population import Population, PopulationTrainer, pbt
    from honed.tune import Diverged, TrialPruned

    base = configs[0]
    es = base.train.early_stopping or None
    pop = Population(arch, [member(c, t.seed) for c, t in zip(configs, trials)])
    pruner = job.pruner
    # each member's share of the population's time: an epoch's seconds split between the
    # members that trained in it (what the trial's duration means for a population)
    share = [0.0] * len(trials)
    clock = [time.perf_counter()]

    def finish(k: int) -> None:
        t, h = trials[k], pop.histories[k]
        if job.finished(t):
            return
        if pop.status[k] == "diverged":
            job.finish(t, error=Diverged(h.message or "training diverged"), duration=share[k])
            return
        value = _value(h, es)
        if value is None or not math.isfinite(value):
            job.finish(t, error=Diverged(f"dev error is {value}"), duration=share[k])
            return
        t.set_user_attr("epochs", len(h))
        t.set_user_attr("train_error", h.last.get("train_error"))
        job.finish(t, value=value, duration=share[k])

    def on_epoch(trainer, epoch, records) -> None:
        job.check()
        alive = sorted(records)
        now = time.perf_counter()
        for k in alive:
            share[k] += (now - clock[0]) / len(alive)
        clock[0] = now
        for k in alive:  # every member reports before any is judged
            trials[k].report(epoch, records[k]["dev_error"])
        if pruner is not None:
            pruned = [k for k in alive if trials[k].should_prune()]
            trainer.stop([k for k in pruned if k in trainer.alive], status="pruned")
            for k in pruned:
                job.finish(
                    trials[k], error=TrialPruned(f"pruned after epoch {epoch}"), duration=share[k]
                )
        if job.pbt is None:  # PBT members finish together: a resumed study re-runs them all
            for k, status in enumerate(pop.status):
                if status in ("early_stopped", "diverged"):
                    finish(k)

    from honed.experiment.build import build_augmentation

    trainer = PopulationTrainer(
        pop,
        augment=build_augmentation(base, data.image_shape, data.normalizer),
        loss=base.train.loss_name(base.model.output),
        loss_args=base.train.loss_args,
        batch_size=batch,
        common_order=False,
        patience=es["patience"] if es else None,
        min_delta=es["min_delta"] if es else 0.0,
        monitor=es["monitor"] if es else "dev_error",
        callbacks=[on_epoch],
    )
    if job.pbt is None:
        trainer.fit(data.train, data.dev, epochs=epochs)
        with _together(job):
            for k in range(len(pop)):
                finish(k)
        return
    from honed.tune import SearchSpace

    settings = job.pbt
    space = pbt_space(SearchSpace.from_config(base.tune.space))
    ready = settings["every"] or max(1, epochs // 4)
    initial = [dict(pop.members[k].to_dict()) for k in range(len(pop))]
    lineage = pbt(
        trainer,
        data.train,
        data.dev,
        epochs,
        ready=ready,
        fraction=settings["fraction"],
        space=space,
        resample_probability=settings["resample_probability"],
        seed=settings["seed"],
    )
    numbers = [t.number for t in trials]
    for k, t in enumerate(trials):
        m = pop.members[k]
        final = dict(t.params)
        values = {f: getattr(m, f) for f in PERTURBABLE.values()}
        final.update({k2: v for k2, v in _dotted(values, base).items() if k2 in t.params})
        for key, field in (("train.optimizer", "optimizer"), ("model.init_scale", "init_scale")):
            if key in t.params:  # an exploit copies these from the parent too
                final[key] = getattr(m, field)
        events = [
            {
                "epoch": e["epoch"],
                "parent": numbers[e["parent"]],
                "member_score": e["member_score"],
                "parent_score": e["parent_score"],
                "before": _dotted(e["before"], base),
                "after": _dotted(e["after"], base),
            }
            for e in lineage
            if e["member"] == k
        ]
        t.set_user_attr(
            "pbt",
            {
                "final_params": final,
                "lineage": events,
                "every": ready,
                "seed": settings["seed"],
                "initial": {k2: v for k2, v in _dotted(initial[k], base).items() if k2 in t.params},
            },
        )
    with _together(job):
        for k in range(len(pop)):
            finish(k)


__all__ = [
    "PER_MEMBER",
    "THREAD_WORTHY_FLOPS",
    "min_members",
    "PERTURBABLE",
    "check_population_config",
    "check_population_space",
    "pbt_space",
    "population_key",
    "train_population",
]
