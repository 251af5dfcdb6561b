"""Named data sources and normalizers: what ``data.dataset`` and ``data.normalize`` of an
experiment file may say.

A source is a function returning ``(train, test)`` Datasets (``test`` None when the source
has no separate test set; the experiment then splits one off). It takes only the keyword
options it needs (``path``, ``target``, ``n_samples``, ``noise``, ``factor``, ``seed``); an
option without a default is required. Register your own::

    from honed.data import DATASETS

    @DATASETS.register("spiral")
    def spiral(n_samples=500, noise=0.1, seed=0):
        ...
        return Dataset(X, y), None
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from honed.registry import Registry

from . import files, mnist_data, toy
from .datasets import Dataset
from .preprocessing import MinMaxScaler, Standardizer

Source = Callable[..., tuple[Dataset, Dataset | None]]

#: Registered data sources (``data.dataset``).
DATASETS: Registry[Source] = Registry("dataset")
#: Registered input normalizers (``data.normalize``): factories of a fresh, unfitted
#: normalizer, or of None for no normalization.
NORMALIZERS: Registry[Callable[[], object]] = Registry("normalizer")


@DATASETS.register("fashion_mnist")
def _fashion_mnist(path: str | None = None):
    """Fashion-MNIST, 60 000 training and 10 000 test images (uint8 pixels until split)."""
    return mnist_data.fashion_mnist(path=path, raw=True)


@DATASETS.register("mnist")
def _mnist(path: str):
    """MNIST-style IDX files in the directory ``path``."""
    return mnist_data.mnist(path, raw=True)


def _gate(name: str) -> Source:
    def source():
        return toy.gates(name), None

    source.__doc__ = f"The truth table of {name.upper()} (4 rows)."
    return source


for _gate_name in ("xor", "and", "or", "nand"):
    DATASETS.register(_gate_name, _gate(_gate_name))


@DATASETS.register("csv")
def _csv(path: str, target=None):
    """A CSV file: one row per example, the label in column ``target`` (default: the last)."""
    return files.load_csv(path, target=-1 if target is None else target), None


@DATASETS.register("table")
def _table(path: str, target=None, task: str = "auto", categorical=(), missing: str = "error"):
    """A CSV or Parquet table read with pandas: numbers, categories (one-hot, learned on the
    training split), string labels, missing values (``data.missing``); ``target`` a column
    name, a list of names (regression) or an index (default: the last column)."""
    from .tables import prepare_missing, read_table

    table = read_table(path, target=target, task=task, categorical=categorical)
    prepare_missing(table, missing)
    return table, None


@DATASETS.register("npz")
def _npz(path: str):
    """A NumPy ``.npz`` file with arrays ``X`` and ``y``."""
    return files.load_npz(path), None


@DATASETS.register("moons")
def _moons(n_samples: int = 1000, noise: float = 0.2, seed: int = 0):
    """Two interleaving half circles."""
    return toy.moons(n_samples=n_samples, noise=noise, seed=seed), None


@DATASETS.register("circles")
def _circles(n_samples: int = 1000, noise: float = 0.2, factor: float = 0.5, seed: int = 0):
    """A circle inside a circle (inner radius ``factor``)."""
    return toy.circles(n_samples=n_samples, noise=noise, factor=factor, seed=seed), None


@DATASETS.register("flower")
def _flower(n_samples: int = 1000, noise: float = 0.2, seed: int = 0):
    """The course's "flower": petals of two classes."""
    return toy.flower(n_samples=n_samples, noise=noise, seed=seed), None


@DATASETS.register("blobs")
def _blobs(n_samples: int = 1000, noise: float = 0.2, seed: int = 0):
    """Gaussian blobs around class centres."""
    return toy.blobs(n_samples=n_samples, noise=noise, seed=seed), None


def source_options(name: str) -> dict[str, inspect.Parameter]:
    """The keyword options the source ``name`` takes."""
    return dict(inspect.signature(DATASETS.get(name)).parameters)


def required_options(name: str) -> list[str]:
    """Options the source ``name`` cannot do without (e.g. ``path`` for csv)."""
    return [k for k, p in source_options(name).items() if p.default is inspect.Parameter.empty]


def load_source(name: str, **options) -> tuple[Dataset, Dataset | None]:
    """``(train, test or None)`` from the source ``name``, given the options it takes
    (others, and options that are None, are left out)."""
    takes = source_options(name)
    return DATASETS.get(name)(**{k: v for k, v in options.items() if k in takes and v is not None})


NORMALIZERS.register("standard", lambda: Standardizer(per_feature=True))
NORMALIZERS.register("scalar", lambda: Standardizer(per_feature=False))
NORMALIZERS.register("minmax", MinMaxScaler)
NORMALIZERS.register("none", lambda: None)
