"""Successive halving and Hyperband inside one population: at each rung the worse members are
dropped by slicing the stacked arrays (no checkpoints, no processes).

Successive halving (Jamieson & Talwalkar 2016) with reduction factor η: train all n members
for r₀ epochs, keep the best ⌊n/η⌋, train those to r₀·η epochs in total, keep the best
⌊n/η²⌋, ... until one member is left or ``max_epochs`` is reached. Members are ranked by
:func:`rank` (lower ``dev_error``, then lower ``dev_cost``, then lower member id), the same
rule a sequential run applies to separate trials.

Hyperband (Li et al. 2017) runs successive halving in brackets s = s_max … 0 with
``s_max = ⌊log_η R⌋``: bracket s starts ``n = ⌈(s_max+1)/(s+1)·η^s⌉`` fresh members at
``r = R·η^(−s)`` epochs, trading many short runs against few long ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from honed.population.population import Population
from honed.population.trainer import PopulationTrainer
from honed.train.status import Status


def rank(records: Mapping[int, Mapping], key: str = "dev_error") -> list[int]:
    """Member ids from best to worst by ``(key, dev_cost, id)``; missing values rank last."""

    def score(item):
        k, rec = item
        v = rec.get(key)
        c = rec.get("dev_cost")
        v = math.inf if v is None or not math.isfinite(v) else v
        c = math.inf if c is None or not math.isfinite(c) else c
        return (v, c, k)

    return [k for k, _ in sorted(records.items(), key=score)]


def _check(eta, min_epochs):
    if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
        raise ValueError(f"eta must be an int >= 2, got {eta!r}")
    if isinstance(min_epochs, bool) or not isinstance(min_epochs, int) or min_epochs < 1:
        raise ValueError(f"min_epochs must be an int >= 1, got {min_epochs!r}")


def successive_halving(
    trainer: PopulationTrainer,
    train,
    dev,
    min_epochs: int = 1,
    eta: int = 3,
    max_epochs: int | None = None,
    key: str = "dev_error",
) -> list[dict]:
    """Run successive halving on the trainer's members; returns one dict per rung:
    ``{"epoch", "members", "kept", "pruned"}``. Pruned members get status ``pruned`` and keep
    the weights they had at their last rung (``population.member(k)``).

    The rule is the tuner's (:class:`~honed.tune.SuccessiveHalvingPruner`): rungs at
    ``min_epochs · η**k``, the best ``max(1, ⌊n/η⌋)`` of the n members at a rung go on;
    here all members reach a rung together, so they are ranked at once (:func:`rank`)."""
    from honed.tune.pruners import SuccessiveHalvingPruner  # honed.tune imports populations

    _check(eta, min_epochs)
    rule = SuccessiveHalvingPruner(min_epochs=min_epochs, reduction_factor=eta, min_trials=1)
    if dev is None:
        raise ValueError("successive_halving needs a dev set to rank the members")
    if max_epochs is not None and max_epochs < min_epochs:
        raise ValueError(f"max_epochs must be >= min_epochs ({min_epochs}), got {max_epochs}")
    rungs = []
    r = min_epochs
    while trainer.alive:
        trainer.fit(train, dev, epochs=r)
        alive = list(trainer.alive)
        records = {k: trainer.population.histories[k].last for k in alive}
        order = rank(records, key)
        last = max_epochs is not None and rule.next_rung(r) > max_epochs
        n_keep = len(order) if last else rule.survivors(len(order))
        kept, pruned = order[:n_keep], order[n_keep:]
        trainer.stop(pruned, status=Status.PRUNED)
        rungs.append({"epoch": r, "members": order, "kept": kept, "pruned": pruned})
        if last or len(kept) <= 1:
            break
        r = rule.next_rung(r)
    return rungs


def hyperband(
    architecture,
    sample: Callable[[np.random.Generator], dict],
    train,
    dev,
    max_epochs: int,
    eta: int = 3,
    seed: int = 0,
    dtype=np.float32,
    **trainer_kwargs,
) -> list[dict]:
    """Hyperband over members drawn by ``sample(rng) -> member dict``, one population per
    bracket. Returns one dict per bracket: ``{"s", "n", "r", "population", "rungs",
    "best"}`` (``best`` is the id of the bracket's best member)."""
    _check(eta, 1)
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, int) or max_epochs < 1:
        raise ValueError(f"max_epochs must be an int >= 1, got {max_epochs!r}")
    rng = np.random.default_rng(seed)
    s_max = int(math.floor(math.log(max_epochs) / math.log(eta) + 1e-9))
    brackets = []
    for s in range(s_max, -1, -1):
        n = int(math.ceil((s_max + 1) / (s + 1) * eta**s))
        r = max(1, int(round(max_epochs * eta ** (-s))))
        pop = Population(architecture, [sample(rng) for _ in range(n)], dtype=dtype)
        trainer = PopulationTrainer(pop, **trainer_kwargs)
        rungs = successive_halving(trainer, train, dev, r, eta, max_epochs)
        brackets.append(
            {
                "s": s,
                "n": n,
                "r": r,
                "population": pop,
                "rungs": rungs,
                "best": rungs[-1]["kept"][0],
            }
        )
    return brackets


__all__ = ["hyperband", "rank", "successive_halving"]
