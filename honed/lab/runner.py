"""One door for every training of the lab: variants × seeds → histories and models.

Every experiment that trains networks calls :func:`train_variants`, so that the body can be
replaced by the population engine (many members as one stream of batched ops) without
touching the experiments. Today it runs one :class:`honed.train.Trainer` after another.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from honed.nn import mlp
from honed.optim import GD, Adam, Momentum, RMSprop
from honed.train import Trainer, TrainingDiverged

#: the Trainer's name for sigmoid cross-entropy on one logit (binary outputs). The lead is
#: renaming it to "sigmoid_cross_entropy": this is the one line to change.
BINARY_LOSS = "sigmoid_cross_entropy"  # one sigmoid logit per example
SOFTMAX_LOSS = "softmax_cross_entropy"

_OPTIMIZERS = {"gd": GD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam}


@dataclass
class Spec:
    """One variant: the network, its optimizer and how it is trained.

    Attributes:
        name: the variant's label in tables and figures.
        sizes: layer widths for :func:`honed.nn.mlp`, input first.
        activation, init, scale, batch_norm, keep_prob: as in :func:`honed.nn.mlp`.
        optimizer: ``gd``, ``momentum``, ``rmsprop`` or ``adam``; ``lr`` its learning rate (a
            float or a schedule), ``optimizer_args`` e.g. ``{"beta": 0.9}``.
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
    status: str
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
) -> dict[str, list[Run]]:
    """Train every spec with every seed; ``{spec.name: [Run per seed]}``.

    Args:
        specs: the variants.
        seeds: the seeds; seed ``s`` draws the initial weights, dropout masks and batch order.
        data: ``{"train": Dataset, "test": Dataset, ...}``, or a function ``seed -> that``
            (a new draw of the data per seed). ``train`` is required.
        dev: the key of the set evaluated after every epoch (its curve in the history); the
            others are evaluated once, at the end.

    A run whose cost becomes NaN/inf stops with status ``diverged`` and errors ``nan``
    (divergence is a result in the lab, e.g. a too-large rate without batch norm).
    """
    out: dict[str, list[Run]] = {spec.name: [] for spec in specs}
    for seed in seeds:
        sets = data(seed) if callable(data) else data
        train = sets["train"]
        for spec in specs:
            model = spec.build(seed)
            opt = _OPTIMIZERS[spec.optimizer](model.parameters(), lr=spec.lr, **spec.optimizer_args)
            batch = len(train) if spec.batch_size is None else spec.batch_size
            trainer = Trainer(model, opt, loss=spec.loss, batch_size=batch, l2=spec.l2, seed=seed)
            started = time.perf_counter()
            try:
                trainer.fit(train, sets.get(dev) if dev else None, epochs=spec.epochs)
                status = "completed"
            except TrainingDiverged:
                status = "diverged"
            seconds = time.perf_counter() - started
            errors = {}
            for key, part in sets.items():
                if status == "diverged":
                    errors[key] = float("nan")
                else:
                    errors[key] = trainer.evaluate(part)["error"]
            out[spec.name].append(
                Run(spec, seed, model, trainer.history, status, seconds, errors, batch)
            )
    return out
