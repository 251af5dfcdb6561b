"""Weight initializers: zeros, normal, uniform, Xavier, Glorot and He.

Every initializer has the signature ``init(n_in, n_out, rng=None, scale=1.0) -> ndarray`` and
returns a float32 array of shape ``(n_in, n_out)`` (rows are inputs, as ``Dense.W``). The
``scale`` factor multiplies the standard deviation: the notes point out that the numerator of
``sqrt(1/n)`` / ``sqrt(2/n)`` is itself a hyperparameter worth tuning.

Why it matters (notes, vanishing / exploding gradients): with ``z = Σ_i w_i x_i`` over n inputs,
``Var(z) = n·Var(w)·Var(x)``; choosing ``Var(w) = 1/n`` (tanh, Xavier) or ``2/n`` (ReLU, He)
keeps the activations' spread constant from layer to layer instead of collapsing or exploding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from honed import validation as check
from honed.registry import Option, Registry

Initializer = Callable[..., np.ndarray]

_DTYPE = np.float32


def _check(n_in: int, n_out: int, scale: float) -> None:
    check.integer("n_in", n_in, minimum=1)
    check.integer("n_out", n_out, minimum=1)
    check.non_negative("scale", scale)


def _gaussian(n_in: int, n_out: int, rng, std: float) -> np.ndarray:
    # Drawn directly in float32: no float64 temporary for large layers.
    out = check.as_rng(rng).standard_normal((int(n_in), int(n_out)), dtype=_DTYPE)
    out *= _DTYPE(std)
    return out


def zeros(n_in: int, n_out: int, rng=None, scale: float = 1.0) -> np.ndarray:
    """All zeros. Every hidden unit then computes the same function and gets the same gradient
    (the symmetry problem of the notes): use it for biases, or to show why not for weights."""
    _check(n_in, n_out, scale)
    return np.zeros((int(n_in), int(n_out)), dtype=_DTYPE)


def normal(n_in: int, n_out: int, rng=None, scale: float = 1.0, std: float = 1.0) -> np.ndarray:
    """W ~ N(0, (scale·std)²). ``Dense(init="normal", scale=0.01)`` is the notes' 0.01·randn."""
    _check(n_in, n_out, scale)
    return _gaussian(n_in, n_out, rng, scale * std)


def uniform(
    n_in: int, n_out: int, rng=None, scale: float = 1.0, low: float = -1.0, high: float = 1.0
) -> np.ndarray:
    """W ~ U(scale·low, scale·high)."""
    _check(n_in, n_out, scale)
    if not low < high:
        raise ValueError(f"uniform needs low < high, got low={low}, high={high}")
    gen = check.as_rng(rng)
    out = gen.random((int(n_in), int(n_out)), dtype=_DTYPE)
    out *= _DTYPE(scale * (high - low))
    out += _DTYPE(scale * low)
    return out


def xavier(n_in: int, n_out: int, rng=None, scale: float = 1.0) -> np.ndarray:
    """Xavier in the course's form: W ~ N(0, σ²), σ = scale·sqrt(1/n_in) (for tanh/sigmoid).

    Note:
        The course's ``sqrt(1/n[l-1])`` is LeCun normal. Glorot & Bengio's own formula
        (``sqrt(2/(n_in+n_out))``, PyTorch ``xavier_normal_``) is :func:`glorot`.
    """
    _check(n_in, n_out, scale)
    return _gaussian(n_in, n_out, rng, scale * np.sqrt(1.0 / n_in))


def glorot(n_in: int, n_out: int, rng=None, scale: float = 1.0) -> np.ndarray:
    """Glorot normal: W ~ N(0, σ²), σ = scale·sqrt(2/(n_in + n_out)).

    Note:
        Same as PyTorch ``xavier_normal_``; Keras ``glorot_normal`` truncates at 2σ, and
        Keras' default ``glorot_uniform`` draws U(±sqrt(6/(n_in+n_out))) (same variance).
    """
    _check(n_in, n_out, scale)
    return _gaussian(n_in, n_out, rng, scale * np.sqrt(2.0 / (n_in + n_out)))


def he(n_in: int, n_out: int, rng=None, scale: float = 1.0) -> np.ndarray:
    """He normal for ReLU: W ~ N(0, σ²), σ = scale·sqrt(2/n_in).

    Note:
        PyTorch ``kaiming_normal_`` (fan_in, relu) is the same. PyTorch's default ``nn.Linear``
        init is different: U(±1/sqrt(n_in)).
    """
    _check(n_in, n_out, scale)
    return _gaussian(n_in, n_out, rng, scale * np.sqrt(2.0 / n_in))


#: Registered initializers (``model.init`` in an experiment file): functions
#: ``(n_in, n_out, rng, scale) -> W``.
INITIALIZERS: Registry[Initializer] = Registry("initializer")
INITIALIZERS.register("zeros", zeros)
# the arguments after ``scale`` each declares (the constructor defaults say the same: a test
# checks)
INITIALIZERS.register(
    "normal", normal, options=(Option("std", "float", 1.0, help="σ before scale"),)
)
INITIALIZERS.register(
    "uniform",
    uniform,
    options=(
        Option("low", "float", -1.0, help="lower end before scale"),
        Option("high", "float", 1.0, help="upper end before scale (> low)"),
    ),
)
INITIALIZERS.register("xavier", xavier, aliases=("lecun",))
INITIALIZERS.register("glorot", glorot)
INITIALIZERS.register("he", he, aliases=("kaiming",))


def get_initializer(init: str | Initializer) -> Initializer:
    """The initializer called ``init`` (case-insensitive), or ``init`` itself if callable.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    if callable(init):
        return init
    if isinstance(init, str) and init in INITIALIZERS:
        return INITIALIZERS.get(init)
    raise ValueError(
        f"unknown initializer {init!r}; known: {', '.join(INITIALIZERS)} "
        "(or a callable (n_in, n_out, rng, scale) -> array)"
    )


def initializer_name(init: str | Initializer) -> str | None:
    """The registry name of ``init`` if it has one (for saving a model's config)."""
    if isinstance(init, str):
        return INITIALIZERS.canonical(init) if init in INITIALIZERS else init.lower()
    return INITIALIZERS.name_of(init)


__all__ = [
    "INITIALIZERS",
    "get_initializer",
    "glorot",
    "he",
    "initializer_name",
    "normal",
    "uniform",
    "xavier",
    "zeros",
]
