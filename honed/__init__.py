"""honed: train deep neural networks and improve them, from first principles on NumPy.

Subpackages: ``autograd`` (Tensor and reverse-mode autodiff), ``nn`` (layers, losses,
regularizers), ``optim`` (GD, Momentum, RMSprop, Adam, schedules), ``data`` (datasets, splits,
normalization, augmentation), ``train`` (Trainer, callbacks), ``diagnose`` (bias/variance,
gradient checks), ``tune`` (hyperparameter search).
"""

from honed import autograd, data, diagnose, nn, optim, train
from honed.autograd import Parameter, Tensor, gradcheck, no_grad
from honed.nn import load, save

__version__ = "0.1.0"

__all__ = [
    "Parameter",
    "Tensor",
    "__version__",
    "autograd",
    "data",
    "diagnose",
    "gradcheck",
    "load",
    "nn",
    "no_grad",
    "optim",
    "save",
    "train",
]
