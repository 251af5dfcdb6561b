"""A population's shared architecture and each member's own hyperparameters.

The architecture (``sizes``, ``activation``, ``init``, ``batch_norm``, ``output``) is common to
all members: it fixes the shapes of the stacked arrays. Everything else is per member and is
given as a plain dict, the same keys a tuning trial would suggest::

    {"optimizer": "adam", "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
     "beta": 0.9, "l1": 0.0, "l2": 0.0, "keep_prob": 1.0, "init_scale": 1.0, "seed": 0}

``init`` (optional) gives a member its own initializer (``"zeros"``, ``"normal"``, ``"he"``, …,
as :func:`honed.nn.mlp`'s ``init``); by default the architecture's.

``lr`` is a float or a schedule (any callable ``epoch -> lr`` from :mod:`honed.optim.schedules`).
Missing keys take the defaults of the matching honed optimizer and of :func:`honed.nn.mlp`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from honed import validation as check
from honed.nn.layers import check_keep_prob, get_activation, population_activations
from honed.optim import OPTIMIZERS as _REGISTERED
from honed.optim import declared_option, default_lr, population_optimizers

#: the hyperparameters after ``lr`` of honed's population optimizers (each member carries
#: all of them), as those optimizers declare them
HYPERPARAMETERS = {
    name: declared_option(name, population_optimizers())
    for opt in population_optimizers()
    for name in (o.name for o in _REGISTERED.options(opt))
}
_KEYS = {
    "optimizer",
    "lr",
    *HYPERPARAMETERS,
    "l1",
    "l2",
    "keep_prob",
    "init_scale",
    "init",
    "seed",
    "shuffle_seed",
}
_RELU_FAMILY = {"relu", "leaky_relu", "elu"}
_OUTPUTS = (None, "softmax", "sigmoid", "linear")


@dataclass(frozen=True)
class Architecture:
    """What all members share: the arguments of :func:`honed.nn.mlp` minus the per-member ones
    (``scale``, ``keep_prob``, ``seed``)."""

    sizes: tuple[int, ...]
    activation: str = "relu"
    init: str | None = None
    batch_norm: bool = False
    output: str | None = None

    def __post_init__(self):
        sizes = tuple(int(s) for s in self.sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes needs at least 2 positive widths, got {list(self.sizes)}")
        object.__setattr__(self, "sizes", sizes)
        act = str(self.activation).lower()
        trains = population_activations()
        if act not in trains:
            get_activation(act)  # unknown names: the library's own error
            raise ValueError(
                f"activation must be {', '.join(trains[:-1])} or {trains[-1]} for a population "
                f"(the activations that declare population = True), got {self.activation!r}"
            )
        object.__setattr__(self, "activation", act)
        if self.init is None:
            object.__setattr__(self, "init", "he" if act in _RELU_FAMILY else "xavier")
        if self.output not in _OUTPUTS:
            raise ValueError(f"output must be one of {_OUTPUTS}, got {self.output!r}")

    @property
    def n_hidden(self) -> int:
        return len(self.sizes) - 2

    @classmethod
    def coerce(cls, value) -> Architecture:
        """An Architecture from itself, a dict of its fields, or a list of sizes."""
        if isinstance(value, Architecture):
            return value
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - {"sizes", "activation", "init", "batch_norm", "output"})
            if unknown:
                raise ValueError(
                    f"architecture takes sizes, activation, init, batch_norm, output; got "
                    f"unknown {unknown} (per-member settings go in the member dicts)"
                )
            return cls(**value)
        if isinstance(value, Sequence):
            return cls(tuple(value))
        raise TypeError(f"architecture must be a dict or a list of sizes, got {value!r}")

    def to_dict(self) -> dict:
        return {
            "sizes": list(self.sizes),
            "activation": self.activation,
            "init": self.init,
            "batch_norm": self.batch_norm,
            "output": self.output,
        }


@dataclass
class Member:
    """One member's hyperparameters, validated (see the module docstring for the keys).

    ``keep_prob`` is a list with one entry per hidden layer; ``lr`` is the rate or schedule.
    """

    optimizer: str
    lr: object
    beta: float
    beta1: float
    beta2: float
    eps: float
    l1: float
    l2: float
    keep_prob: list[float]
    init_scale: float
    seed: int
    shuffle_seed: int | None = None
    init: str | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, values: Mapping, n_hidden: int, index: int = 0) -> Member:
        where = f"members[{index}]"
        unknown = sorted(set(values) - _KEYS)
        if unknown:
            raise ValueError(f"{where} has unknown keys {unknown}; valid: {sorted(_KEYS)}")
        kind = str(values.get("optimizer", "adam")).lower()
        trains = tuple(population_optimizers())
        if kind in _REGISTERED and _REGISTERED.canonical(kind) not in trains:
            raise ValueError(
                f"{where}: optimizer {kind!r} does not declare population = True; a population "
                f"trains {', '.join(trains)}"
            )
        if kind not in trains:
            raise ValueError(f"{where}: optimizer must be one of {trains}, got {kind!r}")
        lr = values["lr"] if "lr" in values else default_lr(_REGISTERED.get(kind))
        if not callable(lr):
            lr = check.positive(f"{where}.lr", lr)
        else:
            rate = float(lr(0))
            if not (math.isfinite(rate) and rate > 0):
                raise ValueError(f"{where}.lr schedule gives {rate} at epoch 0, must be > 0")
        keep = values.get("keep_prob", 1.0)
        if isinstance(keep, (list, tuple)):
            if len(keep) != n_hidden:
                raise ValueError(
                    f"{where}.keep_prob has {len(keep)} entries, the network has {n_hidden} "
                    "hidden layers"
                )
            keeps = [check_keep_prob(k) for k in keep]
        else:
            keeps = [check_keep_prob(keep)] * n_hidden
        scale = check.init_scale(f"{where}.init_scale", values.get("init_scale", 1.0))
        seed = values.get("seed", index)
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"{where}.seed must be an int >= 0, got {seed!r}")
        shuffle_seed = values.get("shuffle_seed")
        init = values.get("init")
        if init is not None and not isinstance(init, str):
            raise ValueError(f"{where}.init must be an initializer name or None, got {init!r}")
        return cls(
            optimizer=kind,
            lr=lr,
            **{
                name: opt.validate(values.get(name, opt.default), f"{where}.{name}")
                for name, opt in HYPERPARAMETERS.items()
            },
            l1=check.non_negative(f"{where}.l1", values.get("l1", 0.0)),
            l2=check.non_negative(f"{where}.l2", values.get("l2", 0.0)),
            keep_prob=keeps,
            init_scale=scale,
            seed=int(seed),
            shuffle_seed=None if shuffle_seed is None else int(shuffle_seed),
            init=init,
        )

    def lr_at(self, epoch: int) -> float:
        """The learning rate of ``epoch`` (from 0): the schedule's, or the fixed rate."""
        if callable(self.lr):
            value = float(self.lr(epoch))
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"lr schedule {self.lr!r} gave {value} at epoch {epoch}")
            return value
        return self.lr

    def to_dict(self) -> dict:
        """The member as the dict it came from (a schedule as its config when it has one)."""
        lr = self.lr
        if callable(lr) and hasattr(lr, "to_config"):
            lr = lr.to_config()
        keep = self.keep_prob
        init = {} if self.init is None else {"init": self.init}
        return {
            "optimizer": self.optimizer,
            "lr": lr,
            **{name: getattr(self, name) for name in HYPERPARAMETERS},
            "l1": self.l1,
            "l2": self.l2,
            "keep_prob": (keep[0] if len(set(keep)) == 1 else list(keep)) if keep else 1.0,
            "init_scale": self.init_scale,
            "seed": self.seed,
            **init,
        }


__all__ = ["HYPERPARAMETERS", "Architecture", "Member"]
