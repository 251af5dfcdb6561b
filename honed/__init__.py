"""honed: train deep neural networks and improve them, from first principles on NumPy.

Subpackages: ``autograd`` (Tensor and reverse-mode autodiff), ``nn`` (layers, losses,
regularizers), ``optim`` (GD, Momentum, RMSprop, Adam, schedules), ``data`` (datasets, splits,
normalization, augmentation), ``train`` (Trainer, callbacks), ``diagnose`` (bias/variance,
gradient checks), ``tune`` (hyperparameter search).
"""

from honed import autograd, data, diagnose, nn, optim, train
from honed.autograd import Parameter, Tensor, gradcheck, no_grad
from honed.nn import load, save


def load_run(run_dir):
    """A trained run ready for raw data: ``predict``, ``predict_proba``, ``evaluate`` with the
    run's own preprocessing (see :mod:`honed.experiment.bundle`)."""
    from honed.experiment.bundle import load_run as _load_run

    return _load_run(run_dir)


__version__ = "0.3.0"

__all__ = [
    "Parameter",
    "Tensor",
    "__version__",
    "autograd",
    "data",
    "diagnose",
    "gradcheck",
    "load",
    "load_run",
    "nn",
    "no_grad",
    "optim",
    "save",
    "train",
]
