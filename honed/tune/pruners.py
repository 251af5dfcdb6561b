"""Pruners: stop hopeless trials early, from the dev errors they report per epoch.

Contract: ``Pruner.prune(number, epoch, value, peers, direction) -> bool`` is called by
``trial.should_prune()`` right after ``trial.report(epoch, value)``.  ``peers(step)``
returns ``{trial number: value reported at step}`` for every trial of the study that
reached that step (read from the study database, so it sees trials in other processes),
including this one.  Pruners must be picklable: they travel to the worker processes.

Pruners are named in ``honed.tune.registry.PRUNERS`` (``"sh"`` is short for
``"successive_halving"``).

Note: with several workers, which peers have reached a rung when a trial gets there
depends on timing, so pruning decisions (unlike trial parameters) can differ between
runs with different worker counts.  With one worker they are reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from honed import validation as check
from honed.registry import Option, validate_declared

__all__ = ["NopPruner", "Pruner", "SuccessiveHalvingPruner"]


class Pruner:
    """Base class: never prunes.  Subclasses override ``prune``.

    ``in_driver``: False for pruners that decide from ``peers`` in the worker (honed's);
    True for ones the driver asks (Optuna's, see ``optuna_bridge.OptunaPruner``)."""

    name = "base"
    in_driver = False
    #: what it takes (``honed.registry.Option``), declared once
    options: tuple[Option, ...] = ()

    def prune(
        self,
        number: int,
        epoch: int,
        value: float,
        peers: Callable[[int], dict[int, float]],
        direction: str = "minimize",
    ) -> bool:
        return False

    def to_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Pruner:
        rest = {k: v for k, v in config.items() if k != "name"}
        try:
            return cls(**rest)
        except TypeError as e:
            raise ValueError(f"pruner {config.get('name')!r}: bad config {rest!r} ({e})") from None


class NopPruner(Pruner):
    """Never prunes (the default: every trial trains to the end)."""

    name = "nop"


class SuccessiveHalvingPruner(Pruner):
    """Asynchronous successive halving.

    Rungs sit at epochs ``min_epochs · η**k`` (k = 0, 1, 2, ...; η = ``reduction_factor``).
    A trial reporting at a rung epoch carries on only if its value is in the top ``1/η``
    of all values reported at that rung so far (itself included): with ``n`` values there,
    it is kept when fewer than ``max(1, floor(n/η))`` peers are strictly better.  Until
    ``min_trials`` trials have reached a rung nobody is pruned there, so the first trials
    set a reference instead of being judged against nothing.

    Args:
        min_epochs: epoch of the first rung (>= 1).
        reduction_factor: η >= 2; about 1/η of the trials survive each rung.
        min_trials: trials needed at a rung before it prunes (>= 1).
    """

    name = "successive_halving"
    options = (
        Option(
            "min_epochs",
            "int",
            1,
            lambda p, v: check.integer(p, v, minimum=1),
            "epoch of the first rung",
        ),
        Option(
            "reduction_factor",
            "int",
            3,
            lambda p, v: check.integer(p, v, minimum=2),
            "η: about 1/η of the trials survive each rung",
        ),
        Option(
            "min_trials",
            "int",
            3,
            lambda p, v: check.integer(p, v, minimum=1),
            "trials needed at a rung before it prunes",
        ),
    )

    def __init__(self, min_epochs: int = 1, reduction_factor: int = 3, min_trials: int = 3):
        self.min_epochs, self.reduction_factor, self.min_trials = validate_declared(
            self.options,
            min_epochs=min_epochs,
            reduction_factor=reduction_factor,
            min_trials=min_trials,
        )

    def is_rung(self, epoch: int) -> bool:
        """True when ``epoch = min_epochs · η**k`` for some k >= 0."""
        if epoch < self.min_epochs or epoch % self.min_epochs:
            return False
        q = epoch // self.min_epochs
        while q % self.reduction_factor == 0:
            q //= self.reduction_factor
        return q == 1

    def next_rung(self, epoch: int) -> int:
        """The first rung after ``epoch``."""
        rung = self.min_epochs
        while rung <= epoch:
            rung *= self.reduction_factor
        return rung

    def survivors(self, n: int) -> int:
        """How many of ``n`` values at a rung carry on: the best ``max(1, ⌊n/η⌋)``."""
        return max(1, n // self.reduction_factor)

    def prune(self, number, epoch, value, peers, direction="minimize") -> bool:
        if not self.is_rung(epoch):
            return False
        if not math.isfinite(value):
            return True
        sign = 1.0 if direction == "minimize" else -1.0
        values = [v for v in peers(epoch).values() if v is not None and math.isfinite(v)]
        n = len(values)
        if n < self.min_trials:
            return False
        keep = self.survivors(n)
        better = sum(1 for v in values if sign * v < sign * value)
        return better >= keep

    def to_config(self) -> dict:
        return {
            "name": "successive_halving",
            "min_epochs": self.min_epochs,
            "reduction_factor": self.reduction_factor,
            "min_trials": self.min_trials,
        }
