"""Small 2-D data sets for decision-boundary pictures, and the logic gates.

All return a :class:`Dataset` with ``X`` float32 of shape ``(n_samples, 2)`` and ``y`` int64,
and draw randomness only from ``numpy.random.default_rng(seed)``. The 2-D generators take
``test_samples``: when it is given they return ``(train, test)``, the test set drawn separately
from the same distribution (the same generator, after the training points), as the course's
notebooks do with a second ``make_circles`` / ``make_moons`` call.
"""

from __future__ import annotations

import numpy as np

from honed import validation as check

from .datasets import Dataset

__all__ = ["GATES", "blobs", "circles", "flower", "football", "gates", "moons"]

_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
#: Truth tables: outputs for the inputs (0,0), (0,1), (1,0), (1,1).
GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
    "xor": (0, 1, 1, 0),
}


def gates(name: str) -> Dataset:
    """The truth table of a logic gate: ``X`` float32 ``(4, 2)``, ``y`` in {0, 1}.

    Rows are the inputs ``(0,0), (0,1), (1,0), (1,1)``. XOR is not linearly separable, so a
    single perceptron cannot fit it (notes: XOR = AND(NAND, OR)).

    Args:
        name: ``"and"``, ``"or"``, ``"nand"``, ``"nor"`` or ``"xor"`` (any case).
    """
    key = str(name).lower()
    if key not in GATES:
        raise ValueError(f"name must be one of {', '.join(GATES)}, got {name!r}")
    return Dataset(_INPUTS.copy(), np.array(GATES[key], dtype=np.int64), n_classes=2)


def _split_counts(n_samples: int, k: int) -> np.ndarray:
    """``n_samples`` split into ``k`` near-equal parts (earlier parts get the remainder)."""
    return np.full(k, n_samples // k) + (np.arange(k) < n_samples % k)


def _finish(X: np.ndarray, y: np.ndarray, rng: np.random.Generator, n_classes: int) -> Dataset:
    perm = rng.permutation(len(y))  # so that slicing the data does not give one class only
    return Dataset(X[perm].astype(np.float32), y[perm].astype(np.int64), n_classes=n_classes)


def _with_test(draw, n_samples: int, test_samples, rng, n_classes: int):
    """``draw(n, rng) -> (X, y)`` for the training set, and for a test set when asked."""
    train = _finish(*draw(n_samples, rng), rng, n_classes)
    if test_samples is None:
        return train
    test_samples = check.integer("test_samples", test_samples, minimum=1)
    return train, _finish(*draw(test_samples, rng), rng, n_classes)


def moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0, test_samples: int | None = None):
    """Two interleaving half circles.

    Class 0: ``(cos t, sin t)``, class 1: ``(1 - cos t, 0.5 - sin t)`` for ``t`` evenly in
    ``[0, π]``; then Gaussian noise with standard deviation ``noise`` on every coordinate.
    With ``test_samples``, returns ``(train, test)`` (module docstring).
    """
    n_samples = check.integer("n_samples", n_samples, minimum=2)
    noise = check.number("noise", noise, low=0)
    rng = check.as_rng(seed, "seed")
    return _with_test(lambda n, r: _moons(n, noise, r), n_samples, test_samples, rng, 2)


def _moons(n_samples: int, noise: float, rng):
    n0, n1 = _split_counts(n_samples, 2)
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], np.c_[1 - np.cos(t1), 0.5 - np.sin(t1)]])
    X += rng.normal(0.0, noise, X.shape)
    return X, np.repeat([0, 1], [n0, n1])


def circles(
    n_samples: int = 200,
    noise: float = 0.05,
    factor: float = 0.5,
    seed: int = 0,
    test_samples: int | None = None,
):
    """A small circle (class 1, radius ``factor``) inside a big one (class 0, radius 1).

    Points at evenly spaced angles, then Gaussian noise of standard deviation ``noise``.
    (scikit-learn's ``make_circles``, used by the course's initialization notebook, defaults
    to ``factor=0.8``.) With ``test_samples``, returns ``(train, test)``.
    """
    n_samples = check.integer("n_samples", n_samples, minimum=2)
    noise = check.number("noise", noise, low=0)
    factor = check.number("factor", factor, low=0, high=1, low_open=True, high_open=True)
    rng = check.as_rng(seed, "seed")
    return _with_test(lambda n, r: _circles(n, noise, factor, r), n_samples, test_samples, rng, 2)


def _circles(n_samples: int, noise: float, factor: float, rng):
    n0, n1 = _split_counts(n_samples, 2)
    t0 = np.linspace(0, 2 * np.pi, n0, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, n1, endpoint=False)
    X = np.concatenate([np.c_[np.cos(t0), np.sin(t0)], factor * np.c_[np.cos(t1), np.sin(t1)]])
    X += rng.normal(0.0, noise, X.shape)
    return X, np.repeat([0, 1], [n0, n1])


def football(
    n_samples: int = 211,
    overlap: float = 0.06,
    label_noise: float = 0.05,
    seed: int = 0,
    test_samples: int | None = None,
):
    """A noisy two-class set standing in for the course's "football" data (regularization).

    Points uniform in the field ``[-0.75, 0.75]²``; the two regions are split by the wavy
    line ``x₂ = f(x₁) = 0.2 sin(4 x₁) + 0.1 x₁``. Near the line the regions overlap: a point
    at signed distance ``d = x₂ − f(x₁)`` is class 1 with probability ``σ(d / overlap)``;
    then a fraction ``label_noise`` of all labels is flipped. A network that fits every
    training point learns the noise: the train–test gap that L2 and dropout shrink.

    The notebook's ``data.mat`` (211 training and 200 test points of ball positions) is not
    shipped; this generator keeps its size and its character (overlap and stray labels),
    not its exact points. With ``test_samples``, returns ``(train, test)``.
    """
    n_samples = check.integer("n_samples", n_samples, minimum=2)
    overlap = check.number("overlap", overlap, low=0, low_open=True)
    label_noise = check.number("label_noise", label_noise, low=0, high=0.5)
    rng = check.as_rng(seed, "seed")

    def draw(n, r):
        X = r.uniform(-0.75, 0.75, size=(n, 2))
        d = X[:, 1] - (0.2 * np.sin(4 * X[:, 0]) + 0.1 * X[:, 0])
        p = 1.0 / (1.0 + np.exp(np.clip(-d / overlap, -500, 500)))  # no overflow far away
        y = (r.uniform(size=n) < p).astype(np.int64)
        flip = r.uniform(size=n) < label_noise
        return X, np.where(flip, 1 - y, y)

    return _with_test(draw, n_samples, test_samples, rng, 2)


def flower(
    n_samples: int = 400, noise: float = 0.2, petals: int = 4, radius: float = 4.0, seed: int = 0
) -> Dataset:
    """The course's planar "flower" (``load_planar_dataset`` of planar_utils).

    For class ``j`` in {0, 1}, ``N = n_samples / 2`` points with
    ``t = linspace(3.12 j, 3.12 (j+1), N) + noise·ε₁`` and
    ``r = radius · sin(petals · t) + noise·ε₂`` (``ε`` standard normal), placed at
    ``(r sin t, r cos t)``. Defaults (400 points, noise 0.2, 4 petals of radius 4) are the
    course's; the course used the global seed 1, we use our own generator.
    """
    n_samples = check.integer("n_samples", n_samples, minimum=2)
    noise = check.number("noise", noise, low=0)
    petals = check.integer("petals", petals, minimum=1)
    radius = check.number("radius", radius, low=0, low_open=True)
    rng = check.as_rng(seed, "seed")
    counts = _split_counts(n_samples, 2)
    y = np.repeat([0, 1], counts)
    t = np.concatenate([np.linspace(j * 3.12, (j + 1) * 3.12, n) for j, n in enumerate(counts)])
    t = t + rng.normal(0.0, noise, n_samples)
    r = radius * np.sin(petals * t) + rng.normal(0.0, noise, n_samples)
    X = np.c_[r * np.sin(t), r * np.cos(t)]
    return _finish(X, y, rng, 2)


def blobs(
    n_samples: int = 300,
    noise: float = 1.0,
    centers=3,
    n_features: int = 2,
    box: tuple[float, float] = (-10.0, 10.0),
    seed: int = 0,
) -> Dataset:
    """Isotropic Gaussian blobs, one class per center.

    Args:
        n_samples: Total number of points, split evenly over the centers.
        noise: Standard deviation of each blob.
        centers: Number of centers (drawn uniformly in ``box``), or an array
            ``(n_centers, n_features)`` of them.
        n_features: Dimension when centers are drawn.
        box: Range of the drawn centers.
        seed: Seed of the generator.
    """
    n_samples = check.integer("n_samples", n_samples, minimum=1)
    noise = check.number("noise", noise, low=0)
    rng = check.as_rng(seed, "seed")
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        k = check.integer("centers", centers, minimum=1)
        d = check.integer("n_features", n_features, minimum=1)
        C = rng.uniform(box[0], box[1], size=(k, d))
    else:
        C = np.asarray(centers, dtype=np.float64)
        if C.ndim != 2 or len(C) == 0:
            raise ValueError(f"centers must be an int >= 1 or a 2-D array, got shape {C.shape}")
        k = len(C)
    y = np.repeat(np.arange(k), _split_counts(n_samples, k))
    X = C[y] + rng.normal(0.0, noise, (n_samples, C.shape[1]))
    return _finish(X, y, rng, k)
