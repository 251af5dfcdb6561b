"""Train / dev / test splits, k-fold cross-validation, and the same-distribution check.

Stratification uses a *stratified order*: within each class the examples are shuffled and
example number ``r`` of class ``c`` gets the key ``(r + u_c) / m_c`` (``u_c`` uniform in
[0, 1), ``m_c`` the class size). Sorting all examples by key interleaves the classes so that
**every prefix** of the order holds each class within ±1 of its share. The dev set is the first
``n_dev`` of the order and the test set the next ``n_test`` (each class within ±2 of its share),
the rest is train; fold ``j`` of k-fold takes the ``j``-th of ``k`` contiguous blocks of the
order (a difference of two prefixes, so again within ±2). Fully vectorized.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterator

import numpy as np

from honed import validation as check

from .datasets import Dataset

__all__ = [
    "DistributionMismatchWarning",
    "check_same_distribution",
    "default_holdout_size",
    "kfold",
    "train_dev_split",
    "train_dev_test_split",
]


class DistributionMismatchWarning(UserWarning):
    """Dev and test sets look like they come from different distributions."""


def default_holdout_size(m: int) -> int:
    """The course's size-aware size of each of dev and test for ``m`` examples.

    Rule:
        * ``m < 10 000``: 20 % each (the classic 60/20/20 split), rounded half up;
        * ``m >= 10 000``: 1 % each (98/1/1), clamped to at least 1 000 and at most 10 000.

    Examples: 5 000 → 1 000; 10 000 → 1 000; 200 000 → 2 000; 10 000 000 → 10 000.
    """
    m = check.integer("m", m, minimum=0)
    if m < 10_000:
        return _round_half_up(0.2 * m)
    return min(max(_round_half_up(0.01 * m), 1_000), 10_000)


def _round_half_up(x: float) -> int:
    # Not Python's round(): banker's rounding would make round(0.5 * 5) == 2.
    return math.floor(x + 0.5)


def _resolve_size(value, name: str, m: int) -> int:
    """A fraction ``0 < f < 1`` → ``round(f m)``; an int ``>= 1`` → itself."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a fraction in (0, 1) or an int count >= 1, got {value!r}")
    if isinstance(value, numbers.Integral):
        n = check.integer(name, value, minimum=1)
    elif isinstance(value, numbers.Real):
        f = check.number(name, value, low=0, high=1, low_open=True, high_open=True)
        n = _round_half_up(f * m)
        if n < 1:
            raise ValueError(
                f"{name}={value} of {m} examples rounds to 0 examples; use a larger "
                "fraction or an int count"
            )
    else:
        raise ValueError(f"{name} must be a fraction in (0, 1) or an int count >= 1, got {value!r}")
    return n


def _order(data: Dataset, stratify: bool, rng: np.random.Generator) -> np.ndarray:
    """A random order of the indices; stratified (see module docstring) for class labels,
    and for real targets by quantile bins of the first target (so dev and test see the
    same range of targets)."""
    m = len(data)
    if not stratify or m == 0:
        return rng.permutation(m)
    if data.is_classification:
        return _stratified_order(data.y, data.n_classes, rng)
    if m < 40:
        return rng.permutation(m)
    # real targets: ~10 equal-count bins (at least 20 examples each) act as the classes
    t = np.asarray(data.y, dtype=np.float64).reshape(m, -1)[:, 0]
    k = max(2, min(10, m // 20))
    edges = np.quantile(t, np.linspace(0, 1, k + 1)[1:-1])
    return _stratified_order(np.searchsorted(edges, t, side="right"), k, rng)


def _stratified_order(y: np.ndarray, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    m = len(y)
    perm = rng.permutation(m)
    ys = y[perm]
    # Rank of each (shuffled) example within its class: stable sort groups classes, keeping
    # the random order inside each group.
    by_class = np.argsort(ys, kind="stable")
    counts = np.bincount(ys, minlength=n_classes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(m, dtype=np.int64)
    rank[by_class] = np.arange(m) - np.repeat(starts, counts)
    u = rng.random(n_classes)
    key = (rank + u[ys]) / counts[ys]
    return perm[np.argsort(key, kind="stable")]


def _subset(data: Dataset, idx: np.ndarray) -> Dataset:
    # Sorted indices keep the original row order inside each subset (and memory locality).
    return data[np.sort(idx)]


def _tv_distance(a: Dataset, b: Dataset, bins: int = 10) -> tuple[float, int]:
    """``(TV, number of categories compared)``."""
    if a.is_classification and b.is_classification:
        k = max(a.n_classes, b.n_classes)
        pa = np.bincount(a.y, minlength=k) / max(len(a), 1)
        pb = np.bincount(b.y, minlength=k) / max(len(b), 1)
    else:
        # Real targets: histograms over shared quantile bins of the pooled targets.
        ya = a.y.reshape(len(a), -1)[:, 0].astype(np.float64)
        yb = b.y.reshape(len(b), -1)[:, 0].astype(np.float64)
        edges = np.unique(np.quantile(np.concatenate([ya, yb]), np.linspace(0, 1, bins + 1)))
        if len(edges) < 2:
            return 0.0, 1
        pa = np.histogram(np.clip(ya, edges[0], edges[-1]), edges)[0] / len(ya)
        pb = np.histogram(np.clip(yb, edges[0], edges[-1]), edges)[0] / len(yb)
    return float(0.5 * np.abs(pa - pb).sum()), len(pa)


def check_same_distribution(
    dev: Dataset,
    test: Dataset,
    threshold: float = 0.1,
    warn: bool = True,
    min_per_category: int = 5,
) -> float:
    """Compare the label distributions of dev and test (they must come from one distribution).

    Total variation distance ``TV = ½ Σ_c |p_dev(c) - p_test(c)|`` over classes (for real
    targets, over 10 shared quantile bins of the first target). ``TV`` is 0 for identical and
    1 for disjoint distributions.

    Args:
        dev, test: The two sets.
        threshold: Warn when ``TV > threshold``.
        warn: Emit :class:`DistributionMismatchWarning` (a ``UserWarning``) when over.
        min_per_category: No warning when either set has fewer than this many examples per
            class (or bin) on average: such small sets differ by chance alone.

    Returns:
        The distance ``TV``.
    """
    threshold = check.number("threshold", threshold, low=0, high=1)
    if len(dev) == 0 or len(test) == 0:
        return 0.0
    tv, k = _tv_distance(dev, test)
    enough = min(len(dev), len(test)) >= min_per_category * k
    if warn and enough and tv > threshold:
        warnings.warn(
            f"dev and test label distributions differ: total variation distance {tv:.3f} > "
            f"{threshold}; dev and test should come from the same distribution "
            "(use stratify=True or shuffle before splitting)",
            DistributionMismatchWarning,
            stacklevel=3,
        )
    return tv


def train_dev_test_split(
    data: Dataset,
    dev: float | None = None,
    test: float | None = None,
    stratify: bool = True,
    seed: int | np.random.Generator = 0,
) -> tuple[Dataset, Dataset, Dataset]:
    """Split ``data`` into disjoint train, dev and test sets.

    Sizes: ``dev`` and ``test`` are fractions ``0 < f < 1`` of ``m`` (rounded) or counts
    (int ``>= 1``); train gets the rest and must not be empty. A size left ``None`` takes the
    course's size-aware default (:func:`default_holdout_size`): 60/20/20 below 10 000
    examples; from 10 000 on, dev and test each 1 % of ``m`` clamped to [1 000, 10 000]
    (200 000 examples → 196 000 / 2 000 / 2 000).

    With ``stratify`` and class labels, each class keeps its share of examples in every set
    (within ±2 examples); with real targets ``stratify`` is ignored. Same seed → same split.
    After splitting, :func:`check_same_distribution` warns if dev and test differ.

    Args:
        data: The examples.
        dev: Size of the dev set.
        test: Size of the test set.
        stratify: Keep class proportions.
        seed: Int seed or ``Generator``.

    Returns:
        ``(train, dev, test)``, each in the original row order.
    """
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a Dataset, got {type(data).__name__}")
    m = len(data)
    n_dev = default_holdout_size(m) if dev is None else _resolve_size(dev, "dev", m)
    n_test = default_holdout_size(m) if test is None else _resolve_size(test, "test", m)
    if n_dev + n_test >= m:
        raise ValueError(
            f"dev + test must leave at least one training example: dev={n_dev} + "
            f"test={n_test} >= m={m}"
        )
    order = _order(data, stratify, check.as_rng(seed, "seed"))
    d, t, tr = order[:n_dev], order[n_dev : n_dev + n_test], order[n_dev + n_test :]
    dev_set, test_set = _subset(data, d), _subset(data, t)
    check_same_distribution(dev_set, test_set)
    return _subset(data, tr), dev_set, test_set


def train_dev_split(
    train: Dataset,
    dev: float | None = None,
    stratify: bool = True,
    seed: int | np.random.Generator = 0,
    test: Dataset | None = None,
) -> tuple[Dataset, Dataset]:
    """Split a dev set off a training set, for data that has its own test set (Fashion-MNIST).

    Size rule as in :func:`train_dev_test_split` (default :func:`default_holdout_size`: 20 %
    below 10 000 examples, else 1 % clamped to [1 000, 10 000]; 60 000 → 1 000).

    Args:
        train: The training set.
        dev: Fraction in (0, 1) or count >= 1.
        stratify: Keep class proportions.
        seed: Int seed or ``Generator``.
        test: The data set's own test set; if given, :func:`check_same_distribution` compares
            it with the new dev set.

    Returns:
        ``(train, dev)``.
    """
    if not isinstance(train, Dataset):
        raise ValueError(f"train must be a Dataset, got {type(train).__name__}")
    m = len(train)
    n_dev = default_holdout_size(m) if dev is None else _resolve_size(dev, "dev", m)
    if n_dev >= m:
        raise ValueError(f"dev must leave at least one training example: dev={n_dev} >= m={m}")
    order = _order(train, stratify, check.as_rng(seed, "seed"))
    dev_set = _subset(train, order[:n_dev])
    if test is not None:
        check_same_distribution(dev_set, test)
    return _subset(train, order[n_dev:]), dev_set


def kfold(
    data: Dataset, k: int = 5, stratify: bool = True, seed: int | np.random.Generator = 0
) -> Iterator[tuple[Dataset, Dataset]]:
    """k-fold cross-validation: yield ``(train, dev)`` ``k`` times.

    Every example is in exactly one dev fold; fold sizes differ by at most one (and class
    counts per fold by at most about one with ``stratify``). For small data, where one dev set
    would be too noisy.

    Args:
        data: The examples.
        k: Number of folds, ``2 <= k <= m``.
        stratify: Keep class proportions in each fold.
        seed: Int seed or ``Generator``.
    """
    if not isinstance(data, Dataset):
        raise ValueError(f"data must be a Dataset, got {type(data).__name__}")
    k = check.integer("k", k, minimum=2)
    if k > len(data):
        raise ValueError(f"k must be <= the number of examples {len(data)}, got {k}")
    order = _order(data, stratify, check.as_rng(seed, "seed"))
    fold = np.empty(len(data), dtype=np.int64)
    # Contiguous blocks of the stratified order (not every k-th position: a periodic class
    # pattern would then put one class in one fold).
    fold[order] = np.arange(len(data)) * k // len(data)
    for j in range(k):
        yield _subset(data, np.flatnonzero(fold != j)), _subset(data, np.flatnonzero(fold == j))
