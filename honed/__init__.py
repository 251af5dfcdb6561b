"""honed: train deep neural networks and improve them, from first principles on NumPy."""

from honed.autograd import Parameter, Tensor, gradcheck, no_grad

__version__ = "0.1.0"

__all__ = ["Parameter", "Tensor", "__version__", "gradcheck", "no_grad"]
