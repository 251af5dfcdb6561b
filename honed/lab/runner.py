"""One door for every training of the lab: variants × seeds → histories and models.

Every experiment that trains networks calls :func:`train_variants`. Runs (a spec with a seed)
that share an architecture (layer sizes, activation, batch norm, loss, mini-batch size,
epochs, and the sizes of their data sets) are trained as ONE population
(:mod:`honed.population`: the members' parameters stacked, one stream of batched NumPy ops),
across variants and seeds: each member keeps its own optimizer, learning rate (or schedule),
β's, L2, keep_prob, initializer and scale, its seed's initial weights and dropout masks, its
own training set (the data may be a new draw per seed) and its own mini-batch order, the one
``Trainer(seed=seed)`` would draw. So a member computes what the standalone
:class:`honed.train.Trainer` run computes, to floating-point rounding
(``tests/lab/test_runner.py`` checks histories and weights against the Trainer path).
Anything the population engine cannot do goes the Trainer path (:func:`_why_not_population`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from honed.nn import mlp, population_activations, population_losses
from honed.optim import GD, OPTIMIZERS, population_optimizers
from honed.population import Architecture, PerMember, Population, PopulationTrainer
from honed.train import Trainer, TrainingDiverged
from honed.train.status import Status

#: the Trainer's name for sigmoid cross-entropy on one logit (binary outputs). The lead is
#: renaming it to "sigmoid_cross_entropy": this is the one line to change.
BINARY_LOSS = "sigmoid_cross_entropy"  # one sigmoid logit per example
SOFTMAX_LOSS = "softmax_cross_entropy"


@dataclass
class Spec:
    """One variant: the network, its optimizer and how it is trained.

    Attributes:
        name: the variant's label in tables and figures.
        sizes: layer widths for :func:`honed.nn.mlp`, input first.
        activation, init, scale, batch_norm, keep_prob: as in :func:`honed.nn.mlp`.
        optimizer: a registered optimizer (``gd``, ``momentum``, ``rmsprop``, ``adam``, ...);
            ``lr`` its learning rate (a float or a schedule), ``optimizer_args`` e.g.
            ``{"beta": 0.9}``.
        epochs: epochs to train; ``batch_size`` None means full-batch gradient descent.
        l2: the L2 strength λ (penalty λ/(2m) Σ‖W‖²).
        loss: :data:`BINARY_LOSS` (one logit) or :data:`SOFTMAX_LOSS`.
    """

    name: str
    sizes: Sequence[int]
    activation: str = "relu"
    init: str | None = None
    scale: float = 1.0
    batch_norm: bool = False
    keep_prob: float = 1.0
    optimizer: str = "gd"
    lr: Any = 0.01
    optimizer_args: dict = field(default_factory=dict)
    epochs: int = 100
    batch_size: int | None = None
    l2: float = 0.0
    loss: str = BINARY_LOSS

    def build(self, seed: int):
        output = "sigmoid" if self.loss == BINARY_LOSS else "softmax"
        return mlp(
            self.sizes,
            activation=self.activation,
            init=self.init,
            scale=self.scale,
            batch_norm=self.batch_norm,
            keep_prob=self.keep_prob,
            output=output,
            seed=seed,
        )


@dataclass
class Run:
    """One trained member: its spec, seed, model, per-epoch history and final errors."""

    spec: Spec
    seed: int
    model: Any
    history: Any
    status: Status
    seconds: float
    errors: dict[str, float]
    batch_size: int = 0

    def column(self, key: str) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in self.history.column(key)], float)


def train_variants(
    specs: Sequence[Spec],
    seeds: Sequence[int],
    data: Callable[[int], dict] | dict,
    dev: str | None = None,
    population: bool = True,
    dtype=np.float32,
) -> dict[str, list[Run]]:
    """Train every spec with every seed; ``{spec.name: [Run per seed]}``.

    Args:
        specs: the variants.
        seeds: the seeds; seed ``s`` draws the initial weights, dropout masks and batch order.
        data: ``{"train": Dataset, "test": Dataset, ...}``, or a function ``seed -> that``
            (a new draw of the data per seed). ``train`` is required.
        dev: the key of the set evaluated after every epoch (its curve in the history); the
            others are evaluated once, at the end.
        population: train the runs that share an architecture as one population (default);
            False: one ``Trainer`` after another (the reference the tests compare with).
        dtype: the networks' float type (float32, as :func:`honed.nn.mlp` builds them;
            float64 for exact comparisons).

    A run whose cost becomes NaN/inf stops with status ``diverged`` and errors ``nan``
    (divergence is a result in the lab, e.g. a too-large rate without batch norm). A run's
    ``seconds`` is its share of its population's time (the population's wall time over its
    members).
    """
    seeds = list(seeds)
    sets = [data(seed) if callable(data) else data for seed in seeds]
    done: dict[tuple[int, int], Run] = {}
    groups: dict[tuple, list[tuple[int, int]]] = {}
    for j, seed in enumerate(seeds):
        for i, spec in enumerate(specs):
            if population and _why_not_population(spec) is None:
                groups.setdefault(_group_key(spec, sets[j], dev), []).append((i, j))
            else:
                done[i, j] = _train_one(spec, seed, sets[j], dev, dtype)
    for jobs in groups.values():
        runs = _train_population(
            [specs[i] for i, _ in jobs],
            [seeds[j] for _, j in jobs],
            [sets[j] for _, j in jobs],
            dev,
            dtype,
        )
        done.update(zip(jobs, runs))
    out: dict[str, list[Run]] = {spec.name: [] for spec in specs}
    for j in range(len(seeds)):
        for i, spec in enumerate(specs):
            out[spec.name].append(done[i, j])
    return out


def _why_not_population(spec: Spec) -> str | None:
    """Why the population engine cannot train this spec (it goes the Trainer path), or None.

    The engine has the losses sigmoid/softmax cross-entropy, the activations relu, tanh,
    sigmoid, leaky_relu and elu, the optimizers that declare ``population = True`` (GD,
    Momentum, RMSprop, Adam) with their declared options only, and needs at least 2 examples per batch under batch norm (the
    Trainer gives its own error then).
    """
    if spec.loss not in population_losses():
        return f"loss {spec.loss!r}"
    if str(spec.activation).lower() not in population_activations():
        return f"activation {spec.activation!r}"
    if spec.optimizer not in population_optimizers():
        return f"optimizer {spec.optimizer!r}"
    # the arguments the optimizer declares; any other goes the Trainer path (and gets the
    # optimizer's own error)
    extra = set(spec.optimizer_args) - {o.name for o in OPTIMIZERS.options(spec.optimizer)}
    if extra:
        return f"optimizer_args {sorted(extra)} of {spec.optimizer}"
    if spec.batch_norm and spec.batch_size is not None and spec.batch_size < 2:
        return "batch norm with batches of 1"
    return None


def _group_key(spec: Spec, sets: dict, dev: str | None) -> tuple:
    """What the members of one population share: the stacked arrays' shapes and the loop."""
    train = sets["train"]
    batch = len(train) if spec.batch_size is None else spec.batch_size
    dev_set = sets.get(dev) if dev else None
    return (
        tuple(int(n) for n in spec.sizes),
        str(spec.activation).lower(),
        bool(spec.batch_norm),
        spec.loss,
        int(batch),
        int(spec.epochs),
        len(train),
        None if dev_set is None else len(dev_set),
    )


def _train_one(spec: Spec, seed: int, sets: dict, dev: str | None, dtype) -> Run:
    """One spec and seed with honed's Trainer (the reference path)."""
    train = sets["train"]
    model = spec.build(seed).to(dtype)
    opt = OPTIMIZERS.get(spec.optimizer)(model.parameters(), lr=spec.lr, **spec.optimizer_args)
    batch = len(train) if spec.batch_size is None else spec.batch_size
    trainer = Trainer(model, opt, loss=spec.loss, batch_size=batch, l2=spec.l2, seed=seed)
    started = time.perf_counter()
    try:
        trainer.fit(train, sets.get(dev) if dev else None, epochs=spec.epochs, verbose=0)
        status = Status.COMPLETE
    except TrainingDiverged:
        status = Status.DIVERGED
    seconds = time.perf_counter() - started
    errors = _errors(trainer, sets, status)
    return Run(spec, seed, model, trainer.history, status, seconds, errors, batch)


def _errors(trainer: Trainer, sets: dict, status: str) -> dict[str, float]:
    if status == Status.DIVERGED:
        return {key: float("nan") for key in sets}
    return {key: trainer.evaluate(part)["error"] for key, part in sets.items()}


def _train_population(specs, seeds, sets, dev, dtype) -> list[Run]:
    """Runs ``(specs[k], seeds[k])`` on ``sets[k]`` (one architecture) as one population."""
    first = specs[0]
    arch = Architecture(
        first.sizes,
        activation=first.activation,
        batch_norm=first.batch_norm,
        output="sigmoid" if first.loss == BINARY_LOSS else "softmax",
    )
    members = []
    for spec, seed in zip(specs, seeds):
        members.append(
            {
                "optimizer": spec.optimizer,
                "lr": spec.lr,
                **spec.optimizer_args,
                "l2": spec.l2,
                "keep_prob": spec.keep_prob,
                "init": spec.init,
                "init_scale": spec.scale,
                "seed": seed,
                "shuffle_seed": seed,  # the batch order of Trainer(seed=seed)
            }
        )
    pop = Population(arch, members, dtype=dtype)
    m = len(sets[0]["train"])
    batch = m if first.batch_size is None else first.batch_size
    # One order for all when every member has the same seed and data (a wide first layer);
    # otherwise each member its own order (its seed's) over its own data.
    common = len(set(seeds)) == 1 and all(s is sets[0] for s in sets)
    trainer = PopulationTrainer(
        pop, loss=first.loss, batch_size=batch, seed=seeds[0], common_order=common
    )
    train = PerMember([s["train"] for s in sets])
    dev_sets = PerMember([s[dev] for s in sets]) if dev and dev in sets[0] else None
    started = time.perf_counter()
    trainer.fit(train, dev_sets, epochs=first.epochs)
    share = (time.perf_counter() - started) / len(pop)
    runs = []
    for k, (spec, seed) in enumerate(zip(specs, seeds)):
        model = pop.member(k)
        history = pop.histories[k]
        status = Status.DIVERGED if pop.status[k] == Status.DIVERGED else Status.COMPLETE
        history.status = status
        # evaluated as the Trainer path evaluates (honed's Trainer.evaluate on the model)
        evaluator = Trainer(model, GD(model.parameters()), loss=spec.loss)
        errors = _errors(evaluator, sets[k], status)
        runs.append(Run(spec, seed, model, history, status, share, errors, batch))
    return runs
