"""Populations: many networks of one architecture trained at once, each with its own
hyperparameters (issue 14).

The members still training are one ``honed.nn`` model with a leading member axis on its
parameters (:mod:`honed.nn.members`), differentiated by honed's own autograd and trained by the
Trainer's step (:class:`honed.train.step.TrainStep`, captured and replayed); members can mix
GD, Momentum, RMSprop and Adam (:class:`honed.optim.MemberOptimizer`). On top: per-member
early stopping and divergence handling (:class:`PopulationTrainer`), successive halving and
Hyperband (:mod:`honed.population.halving`), population-based training
(:mod:`honed.population.pbt`), and a memory check before training
(:mod:`honed.population.memory`). A population is an MLP architecture, any built model, or a
builder (:class:`Population`).

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
from honed.population.members import HYPERPARAMETERS, Architecture, Member
from honed.population.memory import HEADROOM, available_memory, check_memory, estimate_memory
from honed.population.pbt import pbt
from honed.population.population import Population
from honed.population.trainer import PerMember, PopulationTrainer

__all__ = [
    "HEADROOM",
    "HYPERPARAMETERS",
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
