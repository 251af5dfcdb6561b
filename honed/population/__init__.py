"""Populations: many networks of one architecture trained at once, each with its own
hyperparameters (issue 14).

Parameters are stacked along a leading member axis and trained by one stream of batched NumPy
operations (:mod:`honed.population.stack`); members can mix GD, Momentum, RMSprop and Adam
(:mod:`honed.population.optim`). On top: per-member early stopping and divergence handling
(:class:`PopulationTrainer`), successive halving and Hyperband by slicing the stacked arrays
(:mod:`honed.population.halving`), population-based training (:mod:`honed.population.pbt`),
and a memory check before training (:mod:`honed.population.memory`).

Example::

    from honed.population import Population, PopulationTrainer
    pop = Population.from_members(
        {"sizes": [2, 5, 2, 1], "activation": "relu"},
        [{"optimizer": "adam", "lr": lr, "seed": s} for s, lr in enumerate([1e-3, 3e-3, 1e-2])],
    )
    trainer = PopulationTrainer(pop, loss="sigmoid_cross_entropy", batch_size=64, patience=10)
    histories = trainer.fit(train, dev, epochs=100)
    model = pop.member(pop.best())   # an ordinary honed.nn MLP
"""

from honed.population.halving import hyperband, rank, successive_halving
from honed.population.members import Architecture, Member
from honed.population.memory import available_memory, check_memory, estimate_memory
from honed.population.pbt import pbt
from honed.population.population import Population
from honed.population.trainer import PerMember, PopulationTrainer

__all__ = [
    "Architecture",
    "Member",
    "PerMember",
    "Population",
    "PopulationTrainer",
    "available_memory",
    "check_memory",
    "estimate_memory",
    "hyperband",
    "pbt",
    "rank",
    "successive_halving",
]
