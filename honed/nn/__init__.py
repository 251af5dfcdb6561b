"""Neural-network building blocks: modules, layers, initializers, losses, regularization.

model = honed.nn.mlp([784, 256, 256, 10], batch_norm=True, keep_prob=0.8)
J = honed.nn.softmax_cross_entropy(model(x), y) + model.penalty(l2=0.1, m=len(x))
"""

from honed.nn import gates, init, members
from honed.nn.init import INITIALIZERS, get_initializer
from honed.nn.layers import (
    ACTIVATIONS,
    ELU,
    BatchNorm,
    Dense,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Maxout,
    Perceptron,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
    get_activation,
    population_activations,
)
from honed.nn.losses import (
    LOSSES,
    Loss,
    accuracy,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    build_loss,
    error_rate,
    get_loss,
    huber,
    mean_absolute_error,
    mean_squared_error,
    population_losses,
    regression_metrics,
    softmax_cross_entropy,
)
from honed.nn.models import MLP, mlp
from honed.nn.module import Module, build_module, module_spec
from honed.nn.regularizers import WeightPenalty, elastic_net, l1_penalty, l2_penalty, penalty
from honed.nn.serialization import load, load_into, save

__all__ = [
    "ACTIVATIONS",
    "population_activations",
    "population_losses",
    "INITIALIZERS",
    "LOSSES",
    "BatchNorm",
    "Dense",
    "Dropout",
    "ELU",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Loss",
    "MLP",
    "Maxout",
    "Module",
    "Perceptron",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "WeightPenalty",
    "accuracy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "build_loss",
    "build_module",
    "elastic_net",
    "error_rate",
    "gates",
    "get_activation",
    "get_initializer",
    "get_loss",
    "init",
    "members",
    "l1_penalty",
    "l2_penalty",
    "load",
    "load_into",
    "huber",
    "mean_absolute_error",
    "mean_squared_error",
    "regression_metrics",
    "mlp",
    "module_spec",
    "penalty",
    "save",
    "softmax_cross_entropy",
]
