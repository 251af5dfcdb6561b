"""Optimization (SPEC §6): gradient descent, momentum, RMSprop, Adam, EWMA, learning-rate decay.

>>> from honed.autograd import Parameter
>>> from honed.optim import GD
>>> w = Parameter(0.0)
>>> opt = GD([w], lr=0.01)
>>> for _ in range(1000):
...     _ = opt.minimize(w**2 - 10*w + 25)
>>> round(float(w.data), 3)
5.0
"""

from honed.optim.adam import Adam
from honed.optim.ewma import EWMA, ewma
from honed.optim.gd import GD
from honed.optim.members import MemberOptimizer
from honed.optim.momentum import Momentum
from honed.optim.optimizer import (
    OPTIMIZERS,
    MemberCoefficients,
    Optimizer,
    declared_option,
    default_lr,
    hyperparameter_defaults,
    population_optimizers,
)
from honed.optim.rmsprop import RMSprop
from honed.optim.schedules import (
    SCHEDULES,
    Schedule,
    constant,
    exponential,
    inverse_sqrt,
    inverse_time,
    manual,
    schedule_from_config,
    staircase,
)

__all__ = [
    "EWMA",
    "OPTIMIZERS",
    "SCHEDULES",
    "GD",
    "Adam",
    "MemberCoefficients",
    "MemberOptimizer",
    "Momentum",
    "Optimizer",
    "RMSprop",
    "Schedule",
    "constant",
    "declared_option",
    "default_lr",
    "ewma",
    "exponential",
    "hyperparameter_defaults",
    "inverse_sqrt",
    "inverse_time",
    "manual",
    "population_optimizers",
    "schedule_from_config",
    "staircase",
]
