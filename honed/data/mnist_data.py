"""Fashion-MNIST and any MNIST-format IDX data set: find, download (verified), load.

Look-up order of :func:`fashion_mnist` when no ``path`` is given:

1. ``$HONED_DATA`` (a directory holding the four files, or its ``fashion-mnist/`` subdir);
2. the Debian package directory ``/usr/share/datasets/fashion-mnist``
   (``apt-get install dataset-fashion-mnist``);
3. the user cache ``$XDG_CACHE_HOME/honed/fashion-mnist`` (default
   ``~/.cache/honed/fashion-mnist``);
4. if ``download=True``: the four official files from :data:`FASHION_MNIST_URL` into the
   cache, each verified against its SHA-256 in :data:`FASHION_MNIST_SHA256`.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .datasets import Dataset
from .decoded_cache import cache_root
from .idx import read_idx

__all__ = [
    "DEBIAN_DIR",
    "FASHION_MNIST_CLASSES",
    "FASHION_MNIST_FILES",
    "FASHION_MNIST_SHA256",
    "FASHION_MNIST_URL",
    "DataNotFoundError",
    "cache_dir",
    "download_files",
    "fashion_mnist",
    "find_fashion_mnist",
    "load_idx_pair",
    "mnist",
    "pixels_to_unit",
]

#: Base URL of the official Fashion-MNIST files (Zalando Research).
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
#: Where Debian's package ``dataset-fashion-mnist`` installs the files.
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
#: The four files, keyed by role; MNIST uses the same names.
FASHION_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
#: SHA-256 of the official files (computed from Debian's copy, which is byte-identical).
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


class DataNotFoundError(FileNotFoundError):
    """A data set is not on disk and could not be downloaded; the message says how to get it."""


def cache_dir(name: str = "fashion-mnist") -> Path:
    """The user cache directory ``$XDG_CACHE_HOME/honed/<name>`` (``~/.cache`` by default)."""
    return cache_root() / name


def _resolve(directory: Path, filename: str) -> Path | None:
    """The file in ``directory`` under its name, with or without ``.gz``, or with MNIST's
    alternative ``train-images.idx3-ubyte`` spelling; ``None`` if absent."""
    stem = filename.removesuffix(".gz")
    dotted = stem.replace("-idx", ".idx")
    for cand in (stem + ".gz", stem, dotted + ".gz", dotted):
        p = directory / cand
        if p.is_file():
            return p
    return None


def _has_all(directory: Path) -> bool:
    return all(_resolve(directory, f) is not None for f in FASHION_MNIST_FILES.values())


def _missing(directory: Path) -> list[str]:
    return [f for f in FASHION_MNIST_FILES.values() if _resolve(directory, f) is None]


def _candidates() -> list[Path]:
    dirs = []
    env = os.environ.get("HONED_DATA")
    if env:
        dirs += [Path(env), Path(env) / "fashion-mnist"]
    dirs += [DEBIAN_DIR, cache_dir()]
    return dirs


def find_fashion_mnist(path: str | os.PathLike | None = None) -> Path | None:
    """The first directory holding the four Fashion-MNIST files, or ``None``.

    With ``path`` only ``path`` (and ``path/fashion-mnist``) is looked at; otherwise the
    order in this module's docstring.
    """
    if path is None and os.environ.get("HONED_DATA"):
        # Honoured or refused, never silently replaced by another copy.
        env = Path(os.environ["HONED_DATA"])
        for d in (env, env / "fashion-mnist"):
            if _has_all(d):
                return d
        if not env.is_dir():
            raise DataNotFoundError(
                f"HONED_DATA={env} is not a directory; point it to the directory holding "
                "the Fashion-MNIST files, or unset it"
            )
        raise DataNotFoundError(
            f"HONED_DATA={env} lacks {', '.join(_missing(env))} (looked in {env} and "
            f"{env / 'fashion-mnist'}); complete it, or unset HONED_DATA"
        )
    dirs = [Path(path), Path(path) / "fashion-mnist"] if path is not None else _candidates()
    for d in dirs:
        if _has_all(d):
            return d
    return None


def _how_to_get(looked: list[Path], dest: Path, base_url: str) -> str:
    names = ", ".join(FASHION_MNIST_FILES.values())
    return (
        "Fashion-MNIST was not found. Looked in: "
        + ", ".join(str(d) for d in looked)
        + ".\nGet it one of these ways:\n"
        f"  * on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist "
        f"(installs into {DEBIAN_DIR});\n"
        f"  * download {names} from {base_url} and place them in {dest} "
        "(or in a directory named by $HONED_DATA, or pass path=...);\n"
        "  * call fashion_mnist(download=True) on a machine with internet access."
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_files(
    filenames,
    dest: str | os.PathLike,
    base_url: str = FASHION_MNIST_URL,
    sha256: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> list[Path]:
    """Download ``base_url + name`` for each name into ``dest``, verified and atomic.

    Each file is streamed into a temporary file in ``dest``, its SHA-256 compared with
    ``sha256[name]`` (when given), and only then renamed into place (``os.replace`` is atomic),
    so an interrupted or corrupt download never leaves a half file under the real name.
    A file already present with the right checksum is not downloaded again.

    Args:
        filenames: File names relative to ``base_url``.
        dest: Directory to put them in (created if needed).
        base_url: URL prefix (``http://``, ``https://`` or ``file://``).
        sha256: Expected hex digests by file name; ``None`` skips verification.
        timeout: Seconds per connection.

    Returns:
        The paths of the files.

    Raises:
        DataNotFoundError: If a download fails or a checksum does not match (the temporary
            file is removed).
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if not base_url.endswith("/"):
        base_url += "/"
    out = []
    for name in filenames:
        final = dest / name
        want = None if sha256 is None else sha256.get(name)
        if final.is_file() and (want is None or _sha256(final) == want):
            out.append(final)
            continue
        url = base_url + name
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=dest)
        try:
            h = hashlib.sha256()
            with os.fdopen(fd, "wb") as f, urllib.request.urlopen(url, timeout=timeout) as r:
                for chunk in iter(lambda: r.read(1 << 20), b""):
                    h.update(chunk)
                    f.write(chunk)
            got = h.hexdigest()
            if want is not None and got != want:
                raise DataNotFoundError(
                    f"checksum mismatch for {url}: expected sha256 {want}, got {got}; "
                    "the file was not kept"
                )
            os.replace(tmp, final)
        except DataNotFoundError:
            os.unlink(tmp)
            raise
        # URLError, HTTPError and timeouts are OSErrors; a cut connection is an HTTPException.
        except (OSError, ValueError, http.client.HTTPException) as e:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise DataNotFoundError(f"download of {url} failed: {e}") from e
        out.append(final)
    return out


def pixels_to_unit(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels ``(m, ...)`` → float32 ``pixel / 255`` in [0, 1], flattened to ``(m, H*W)``.

    One pass straight into float32 (no float64 temporary). Every loader converts with this
    function, so converting before or after selecting rows gives bit-identical values.
    """
    pixels = np.asarray(pixels)
    return np.multiply(pixels.reshape(len(pixels), -1), np.float32(1 / 255), dtype=np.float32)


def load_idx_pair(
    images: str | os.PathLike, labels: str | os.PathLike, raw: bool = False, **dataset_kw
) -> Dataset:
    """One split from an images file and a labels file: ``X`` float32 in [0, 1], flattened.

    ``X = images / 255`` with shape ``(m, H*W)`` (``image_shape=(H, W)`` kept on the Dataset);
    ``y`` int64. With ``raw=True``, ``X`` is the stored uint8 pixels (0..255), flattened and
    read-only (memory-mapped from the decoded cache when there is one): select rows first,
    then :func:`pixels_to_unit` converts only those.

    Raises:
        ValueError: If the files are invalid IDX, the images are not uint8 ``(m, H, W)``, the
            labels not ``(m,)``, or their counts differ.
    """
    img = read_idx(images, copy=False)  # read-only view: converted to float32 below anyway
    lab = read_idx(labels, copy=False)
    if img.ndim != 3 or img.dtype != np.uint8:
        raise ValueError(
            f"{images}: images must be uint8 of shape (m, H, W), got {img.dtype} {img.shape}"
        )
    if lab.ndim != 1:
        raise ValueError(f"{labels}: labels must have shape (m,), got {lab.shape}")
    if len(img) != len(lab):
        raise ValueError(f"{images} has {len(img)} images but {labels} has {len(lab)} labels")
    m, H, W = img.shape
    X = img.reshape(m, H * W) if raw else pixels_to_unit(img)
    return Dataset(X, lab.astype(np.int64), image_shape=(H, W), **dataset_kw)


def _load_dir(directory: Path, class_names, raw: bool = False) -> tuple[Dataset, Dataset]:
    f = {k: _resolve(directory, v) for k, v in FASHION_MNIST_FILES.items()}
    missing = [FASHION_MNIST_FILES[k] for k, p in f.items() if p is None]
    if missing:
        raise DataNotFoundError(f"{directory} lacks {', '.join(missing)}")
    kw = {"n_classes": len(class_names), "class_names": class_names}
    return (
        load_idx_pair(f["train_images"], f["train_labels"], raw=raw, **kw),
        load_idx_pair(f["test_images"], f["test_labels"], raw=raw, **kw),
    )


def fashion_mnist(
    path: str | os.PathLike | None = None,
    download: bool = True,
    base_url: str = FASHION_MNIST_URL,
    sha256: Mapping[str, str] | None = None,
    raw: bool = False,
) -> tuple[Dataset, Dataset]:
    """Fashion-MNIST: ``(train, test)`` with 60 000 and 10 000 28×28 grey images, 10 classes.

    ``X`` is float32 ``pixel / 255`` in [0, 1], flattened to ``(m, 784)``, with
    ``image_shape=(28, 28)``; ``y`` is int64 in 0..9; ``class_names`` are
    :data:`FASHION_MNIST_CLASSES`.

    Args:
        path: A directory holding the four files (or its ``fashion-mnist/`` subdir). When given,
            only it is searched, and a download (if allowed) goes into it.
        download: Download the official files when they are found nowhere.
        base_url: Where to download from (default :data:`FASHION_MNIST_URL`).
        sha256: Expected checksums by file name (default :data:`FASHION_MNIST_SHA256`).
        raw: Keep ``X`` as the stored uint8 pixels (read-only; see :func:`load_idx_pair`),
            e.g. to take a subset before converting with :func:`pixels_to_unit`.

    Returns:
        ``(train, test)`` Datasets.

    Raises:
        DataNotFoundError: (a ``FileNotFoundError``) if the files are missing and could not
            be downloaded; the message says how to get them.
    """
    found = find_fashion_mnist(path)
    if found is None:
        looked = [Path(path)] if path is not None else _candidates()
        dest = Path(path) if path is not None else cache_dir()
        how = _how_to_get(looked, dest, base_url)
        partial = [d for d in looked if d.is_dir() and len(_missing(d)) < len(FASHION_MNIST_FILES)]
        if partial:  # name the missing files, not only a failed download of them
            how = "".join(f"{d} lacks {', '.join(_missing(d))}.\n" for d in partial) + how
        if not download:
            raise DataNotFoundError(how)
        try:
            download_files(
                FASHION_MNIST_FILES.values(),
                dest,
                base_url,
                FASHION_MNIST_SHA256 if sha256 is None else sha256,
            )
        except DataNotFoundError as e:
            raise DataNotFoundError(f"{e}\n{how}") from e
        found = dest
    return _load_dir(found, FASHION_MNIST_CLASSES, raw=raw)


def mnist(path: str | os.PathLike, class_names=None, raw: bool = False) -> tuple[Dataset, Dataset]:
    """Load any MNIST-format data set from IDX files in ``path``: ``(train, test)``.

    The directory holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each optionally ``.gz``
    (``train-images.idx3-ubyte`` spellings work too). Same conversion as
    :func:`fashion_mnist`.

    Args:
        path: The directory.
        class_names: Names of the classes; default ``"0"`` .. ``"9"`` (10 classes).
        raw: Keep ``X`` as the stored uint8 pixels (see :func:`fashion_mnist`).

    Raises:
        DataNotFoundError: If a file is missing.
    """
    directory = Path(path)
    if class_names is None:
        class_names = tuple(str(i) for i in range(10))
    return _load_dir(directory, tuple(class_names), raw=raw)
