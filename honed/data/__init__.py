"""honed.data: load → split (train/dev/test) → normalize (fit on train) → augment → mini-batches.

NumPy only. Randomness always comes from an explicit ``numpy.random.Generator`` or seed.
"""

from .augment import (
    AUGMENTATIONS,
    Augmentation,
    BrightnessContrast,
    Compose,
    GaussianNoise,
    HorizontalFlip,
    RandomRotation,
    RandomShift,
    augmentation_from_config,
    rotate,
)
from .batches import minibatches, n_batches
from .checks import DataWarning, check_classes, warn_if_tiny
from .datasets import Dataset
from .files import load_csv, load_npz
from .idx import read_idx, write_idx
from .mnist_data import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_SHA256,
    FASHION_MNIST_URL,
    DataNotFoundError,
    download_files,
    fashion_mnist,
    find_fashion_mnist,
    load_idx_pair,
    mnist,
    pixels_to_unit,
)
from .preprocessing import MinMaxScaler, NotFittedError, Standardizer
from .sources import DATASETS, NORMALIZERS, load_source, required_options, source_options
from .split import (
    DistributionMismatchWarning,
    check_same_distribution,
    default_holdout_size,
    kfold,
    train_dev_split,
    train_dev_test_split,
)
from .tables import LabelEncoder, RawTable, TableEncoder, from_frame, read_table
from .toy import blobs, circles, flower, football, gates, moons

__all__ = [
    "DataWarning",
    "check_classes",
    "warn_if_tiny",
    "AUGMENTATIONS",
    "DATASETS",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_SHA256",
    "FASHION_MNIST_URL",
    "Augmentation",
    "BrightnessContrast",
    "Compose",
    "DataNotFoundError",
    "Dataset",
    "DistributionMismatchWarning",
    "LabelEncoder",
    "RawTable",
    "TableEncoder",
    "GaussianNoise",
    "HorizontalFlip",
    "MinMaxScaler",
    "NORMALIZERS",
    "NotFittedError",
    "RandomRotation",
    "RandomShift",
    "Standardizer",
    "augmentation_from_config",
    "blobs",
    "check_same_distribution",
    "circles",
    "default_holdout_size",
    "download_files",
    "fashion_mnist",
    "find_fashion_mnist",
    "flower",
    "football",
    "from_frame",
    "gates",
    "kfold",
    "load_csv",
    "load_idx_pair",
    "load_npz",
    "load_source",
    "minibatches",
    "mnist",
    "pixels_to_unit",
    "moons",
    "n_batches",
    "read_idx",
    "read_table",
    "required_options",
    "rotate",
    "source_options",
    "train_dev_split",
    "train_dev_test_split",
    "write_idx",
]
