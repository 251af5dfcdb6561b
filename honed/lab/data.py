"""The Fashion-MNIST subsets of the lab: a seeded draw of train and dev examples."""

from __future__ import annotations

import numpy as np

from honed.data import fashion_mnist


def fashion_subset(n_train: int, n_dev: int, seed: int) -> dict:
    """``{"train", "dev"}``: disjoint random examples of Fashion-MNIST's training set.

    Pixels are in [0, 1] (no standardization: the lab compares what the course compares).
    Reads /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist); no download.
    """
    train, _ = fashion_mnist(download=False)
    idx = np.random.default_rng(seed).permutation(len(train))
    return {"train": train[idx[:n_train]], "dev": train[idx[n_train : n_train + n_dev]]}
