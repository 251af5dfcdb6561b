"""Mini-batches: one shuffle per epoch, then consecutive slices of the permutation."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from honed import validation as check

__all__ = ["minibatches", "n_batches"]


def n_batches(m: int, batch_size: int, drop_last: bool = False) -> int:
    """Number of mini-batches per epoch: ``floor(m / B)`` with ``drop_last``, else ``ceil(m / B)``."""
    m = check.integer("m", m, minimum=0)
    batch_size = check.integer("batch_size", batch_size, minimum=1)
    return m // batch_size if drop_last else -(-m // batch_size)


def minibatches(
    X,
    y=None,
    batch_size: int = 64,
    rng: np.random.Generator | int | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield ``(X_b, y_b)`` mini-batches covering each example once (one epoch).

    With ``shuffle`` one permutation of ``0..m-1`` is drawn from ``rng`` and cut into
    consecutive pieces of ``batch_size`` (vectorized fancy indexing; no per-example loop).
    The last, partial batch (``m mod batch_size`` examples) is kept unless ``drop_last``.
    ``batch_size=1`` is stochastic gradient descent, ``batch_size=m`` batch gradient descent;
    powers of two (64, 128, 256, 512) are the usual choice in between. A ``batch_size``
    larger than ``m`` gives one batch of ``m`` (none with ``drop_last``).

    Args:
        X: Features, shape ``(m, ...)``.
        y: Labels with ``m`` rows, or ``None`` (then ``y_b`` is ``None``).
        batch_size: Examples per batch, an int ``>= 1``.
        rng: Generator or int seed for the shuffle; ``None`` draws a fresh seed from the OS
            (never the global ``np.random``). Pass one for reproducible epochs.
        shuffle: Shuffle (else batches are slices in order, views of ``X``).
        drop_last: Drop the last batch if it is smaller than ``batch_size``.

    Raises:
        ValueError: ``batch_size < 1`` or not an int, or ``X`` and ``y`` of different lengths.
    """
    batch_size = check.integer("batch_size", batch_size, minimum=1)
    X = np.asarray(X)
    if X.ndim == 0:
        raise ValueError("X must have one row per example, got a scalar")
    m = len(X)
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0 or len(y) != m:
            raise ValueError(
                f"X and y must have the same number of rows, got X with {m} and y "
                f"with {len(y) if y.ndim else 'a scalar'}"
            )
    # Validate and draw the permutation now, not at the first next(): errors surface early.
    perm = check.as_rng(rng).permutation(m) if shuffle else None
    return _batches(X, y, batch_size, perm, n_batches(m, batch_size, drop_last))


def _batches(X, y, batch_size, perm, count):
    for k in range(count):
        sl = slice(k * batch_size, (k + 1) * batch_size)
        if perm is None:
            yield X[sl], (None if y is None else y[sl])
        else:
            idx = perm[sl]
            # np.take gathers rows ~10 % faster than X[idx] (same values).
            yield np.take(X, idx, axis=0), (None if y is None else np.take(y, idx, axis=0))
