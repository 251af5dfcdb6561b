"""Data augmentation applied on the fly to each mini-batch.

Each augmentation is a callable object ``aug(X, rng) -> X_new``:

* ``X`` is a batch of images ``(m, H, W)`` (or ``(m, H, W, C)``), or flattened ``(m, H*W)``
  when the augmentation was built with ``image_shape=(H, W)``; a :class:`Dataset` works too
  (its own ``image_shape`` is used, its labels are kept);
* every random draw comes from ``rng`` (a ``numpy.random.Generator`` or an int seed), so the
  same seed gives the same batch, and the global ``np.random`` state is never touched;
* the input is never modified; a new array of the same shape and dtype is returned
  (integer images are rounded and clipped to their dtype's range).

Everything is vectorized over the batch: no Python loop over examples.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence

import numpy as np

from honed import validation as check
from honed.registry import Registry

from .datasets import Dataset

__all__ = [
    "AUGMENTATIONS",
    "Augmentation",
    "BrightnessContrast",
    "Compose",
    "GaussianNoise",
    "HorizontalFlip",
    "InDataUnits",
    "RandomRotation",
    "RandomShift",
    "augmentation_from_config",
    "rotate",
]


def _restore_dtype(out: np.ndarray, dtype: np.dtype) -> np.ndarray:
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(dtype)
    if dtype.kind == "b":
        return out >= 0.5
    return out.astype(dtype, copy=False)


class Augmentation:
    """Base class: handles the rng, Datasets, flattened images and the dtype.

    Subclasses implement ``_apply(X, rng)`` on an array; image augmentations set
    ``needs_images = True`` and receive ``(m, H, W, ...)``.

    Args:
        image_shape: ``(H, W)`` of flattened image rows; not needed for ``(m, H, W)`` input.
    """

    needs_images = True

    def __init__(self, image_shape: Sequence[int] | None = None):
        if image_shape is not None:
            image_shape = tuple(
                check.integer("image_shape entries", s, minimum=1) for s in image_shape
            )
            if len(image_shape) < 2:
                raise ValueError(f"image_shape must be (H, W) or (H, W, C), got {image_shape}")
        self.image_shape = image_shape

    def __call__(self, X, rng):
        rng = check.as_rng(rng) if rng is not None else _no_rng()
        if isinstance(X, Dataset):
            shape = self.image_shape or X.image_shape
            return X.replace(X=self._run(X.X, rng, shape))
        return self._run(np.asarray(X), rng, self.image_shape)

    def _run(self, X: np.ndarray, rng: np.random.Generator, image_shape) -> np.ndarray:
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must be numeric, got dtype {X.dtype}")
        if X.ndim == 0:
            raise ValueError("X must be a batch (rows are examples), got a scalar")
        if not self.needs_images:
            return _restore_dtype(self._apply(X, rng), X.dtype)
        if X.ndim >= 3:
            imgs = X
        elif image_shape is not None and X.ndim == 2:
            if X.shape[1] != int(np.prod(image_shape)):
                raise ValueError(
                    f"X rows have {X.shape[1]} features but image_shape "
                    f"{image_shape} has {int(np.prod(image_shape))} pixels"
                )
            imgs = X.reshape(len(X), *image_shape)
        else:
            raise ValueError(
                f"{type(self).__name__} needs images (m, H, W); X has shape "
                f"{X.shape}: pass image_shape=(H, W) for flattened images"
            )
        out = _restore_dtype(self._apply(imgs, rng), X.dtype)
        return out.reshape(X.shape)

    def _apply(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def to_config(self) -> dict:
        """``{"name": registered name, **parameters}`` (``image_shape`` left out: the data
        gives it)."""
        name = AUGMENTATIONS.name_of(self) or type(self).__name__
        params = {k: getattr(self, k) for k in _params(type(self)) if k != "image_shape"}
        return {"name": name, **params}

    @classmethod
    def from_config(cls, config: dict, image_shape: Sequence[int] | None = None) -> Augmentation:
        """The augmentation :meth:`to_config` described."""
        return augmentation_from_config([config], image_shape=image_shape).augmentations[0]

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={getattr(self, k)!r}" for k in _params(type(self)))
        return f"{type(self).__name__}({params})"


def _no_rng():
    raise ValueError(
        "rng must be a numpy.random.Generator or an int seed, got None "
        "(augmentation never uses the global np.random state)"
    )


def _params(cls) -> list[str]:
    return [p for p in inspect.signature(cls.__init__).parameters if p not in ("self",)]


def _bcast(v: np.ndarray, ndim: int) -> np.ndarray:
    """Per-example values ``(m,)`` shaped to broadcast against ``(m, ...)`` of ``ndim`` dims."""
    return v.reshape((-1,) + (1,) * (ndim - 1))


class HorizontalFlip(Augmentation):
    """Mirror each image left-right (``x[:, :, ::-1]``) with probability ``p``."""

    def __init__(self, p: float = 0.5, image_shape=None):
        super().__init__(image_shape)
        self.p = check.number("p", p, low=0, high=1)

    def _apply(self, X, rng):
        flip = rng.random(len(X)) < self.p
        return np.where(_bcast(flip, X.ndim), X[:, :, ::-1], X)


class RandomShift(Augmentation):
    """Shift each image by integer ``(dy, dx)`` uniform in ``[-max_shift, max_shift]``.

    Equivalent to padding with zeros by ``max_shift`` and taking a random ``H×W`` crop;
    pixels shifted in from outside are ``fill``.
    """

    def __init__(self, max_shift: int = 2, fill: float = 0.0, image_shape=None):
        super().__init__(image_shape)
        self.max_shift = check.integer("max_shift", max_shift, minimum=0)
        self.fill = check.number("fill", fill)

    def _apply(self, X, rng):
        s = self.max_shift
        if s == 0:
            return X.copy()
        m, H, W = X.shape[:3]
        pad = [(0, 0), (s, s), (s, s)] + [(0, 0)] * (X.ndim - 3)
        P = np.pad(X, pad, constant_values=self.fill)
        # Crop start (s - dy, s - dx) gives out[i, j] = X[i - dy, j - dx].
        start = rng.integers(0, 2 * s + 1, size=(2, m))
        rows = start[0][:, None] + np.arange(H)
        cols = start[1][:, None] + np.arange(W)
        return P[np.arange(m)[:, None, None], rows[:, :, None], cols[:, None, :]]


class RandomRotation(Augmentation):
    """Rotate each image about its centre by an angle uniform in ``[-max_degrees, max_degrees]``.

    Positive angles turn counter-clockwise; see :func:`rotate` for the mapping. Interpolation
    ``"bilinear"`` (4 neighbours) or ``"nearest"``; pixels from outside the image are ``fill``.
    """

    def __init__(
        self,
        max_degrees: float = 10.0,
        interpolation: str = "bilinear",
        fill: float = 0.0,
        image_shape=None,
    ):
        super().__init__(image_shape)
        self.max_degrees = check.number("max_degrees", max_degrees, low=0, high=180)
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(
                f"interpolation must be 'bilinear' or 'nearest', got {interpolation!r}"
            )
        self.interpolation = interpolation
        self.fill = check.number("fill", fill)

    def _apply(self, X, rng):
        degrees = rng.uniform(-self.max_degrees, self.max_degrees, size=len(X))
        if self.max_degrees == 0:
            return X.copy()
        return rotate(X, degrees, self.interpolation, self.fill)


def rotate(
    X: np.ndarray, degrees, interpolation: str = "bilinear", fill: float = 0.0
) -> np.ndarray:
    """Rotate each image of ``X`` (``(m, H, W, ...)``) counter-clockwise by ``degrees``.

    ``degrees`` is a scalar or one angle per image. Inverse mapping: output pixel ``(i, j)``
    reads the input at ``c + R(θ)ᵀ((i, j) - c)``, ``c = ((H-1)/2, (W-1)/2)``, i.e.
    ``sy = cy + cos θ (i-cy) + sin θ (j-cx)``, ``sx = cx - sin θ (i-cy) + cos θ (j-cx)``,
    with bilinear (4 neighbours) or nearest interpolation; outside points read ``fill``.
    At 90° this is ``np.rot90(X, axes=(1, 2))``. Returns floats (the caller restores dtype).
    """
    X = np.asarray(X)
    m, H, W = X.shape[:3]
    theta = np.deg2rad(np.broadcast_to(np.asarray(degrees, dtype=np.float64), (m,)))
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    cy, cx = (H - 1) / 2, (W - 1) / 2
    i = np.arange(H, dtype=np.float64)[None, :, None] - cy
    j = np.arange(W, dtype=np.float64)[None, None, :] - cx
    sy = cy + cos * i + sin * j  # source coordinates, shape (m, H, W)
    sx = cx - sin * i + cos * j
    b = np.arange(m)[:, None, None]
    extra = X.ndim - 3

    def gather(yy, xx):
        valid = (yy >= 0) & (yy < H) & (xx >= 0) & (xx < W)
        v = X[b, np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]
        return np.where(valid.reshape(valid.shape + (1,) * extra), v, fill)

    if interpolation == "nearest":
        return gather(np.rint(sy).astype(np.intp), np.rint(sx).astype(np.intp))
    if interpolation != "bilinear":
        raise ValueError(f"interpolation must be 'bilinear' or 'nearest', got {interpolation!r}")
    # float32 weights for float32 images: keeps the batch in float32 (half the memory).
    wt = np.float32 if X.dtype == np.float32 else np.float64
    y0, x0 = np.floor(sy), np.floor(sx)
    fy, fx = (sy - y0).astype(wt), (sx - x0).astype(wt)
    y0, x0 = y0.astype(np.intp), x0.astype(np.intp)
    out = 0
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            w = (wy * wx).reshape(wy.shape + (1,) * extra)
            out = out + w * gather(y0 + dy, x0 + dx)
    return out


class BrightnessContrast(Augmentation):
    """Random contrast then brightness per example.

    ``x' = (x - x̄) · c + x̄ + b`` with ``x̄`` the example's mean, ``c`` uniform in
    ``[1 - contrast, 1 + contrast]`` and ``b`` uniform in ``[-brightness, brightness]`` (in
    data units: 0.1 is 10 % of a [0, 1] image). ``clip=(lo, hi)`` clips the result (e.g.
    ``(0, 1)``); integer images are clipped to their dtype. Works on any ``(m, ...)`` batch.
    """

    needs_images = False

    def __init__(self, brightness: float = 0.1, contrast: float = 0.1, clip=None, image_shape=None):
        super().__init__(image_shape)
        self.brightness = check.number("brightness", brightness, low=0)
        self.contrast = check.number("contrast", contrast, low=0, high=1)
        if clip is not None:
            clip = (float(clip[0]), float(clip[1]))
            if not clip[0] < clip[1]:
                raise ValueError(f"clip must be (lo, hi) with lo < hi, got {clip}")
        self.clip = clip

    def _apply(self, X, rng):
        m = len(X)
        c = rng.uniform(1 - self.contrast, 1 + self.contrast, size=m)
        b = rng.uniform(-self.brightness, self.brightness, size=m)
        wt = X.dtype if X.dtype.kind == "f" else np.float64
        axes = tuple(range(1, X.ndim))
        mean = X.mean(axis=axes, keepdims=True, dtype=np.float64).astype(wt)
        out = (X - mean) * _bcast(c, X.ndim).astype(wt) + mean + _bcast(b, X.ndim).astype(wt)
        if self.clip is not None:
            out = np.clip(out, *self.clip)
        return out


class GaussianNoise(Augmentation):
    """Add noise ``ε ~ N(0, std²)`` to every value; works on vectors as well as images."""

    needs_images = False

    def __init__(self, std: float = 0.05, image_shape=None):
        super().__init__(image_shape)
        self.std = check.number("std", std, low=0)

    def _apply(self, X, rng):
        wt = X.dtype if X.dtype.kind == "f" else np.float64
        return X + rng.normal(0.0, self.std, size=X.shape).astype(wt)


class Compose(Augmentation):
    """Apply augmentations in order, all drawing from the same ``rng``."""

    needs_images = False

    def __init__(self, augmentations: Iterable[Augmentation], image_shape=None):
        super().__init__(image_shape)
        self.augmentations = list(augmentations)
        for a in self.augmentations:
            if not callable(a):
                raise ValueError(f"augmentations must be callables (X, rng) -> X, got {a!r}")

    def _run(self, X, rng, image_shape):
        # the base class's __call__ (rng, Dataset) then each augmentation's own _run
        out = X.copy()  # a new array even when the list is empty
        for a in self.augmentations:
            if isinstance(a, Augmentation):
                out = a._run(out, rng, a.image_shape or image_shape)
            else:
                out = np.asarray(a(out, rng))
        return out

    def __len__(self) -> int:
        return len(self.augmentations)

    def __repr__(self) -> str:
        return "Compose([" + ", ".join(map(repr, self.augmentations)) + "])"


#: Registered augmentations (``data.augment`` in an experiment file): Augmentation classes
#: whose constructor takes its parameters and ``image_shape``.
AUGMENTATIONS: Registry[type[Augmentation]] = Registry("augmentation")
AUGMENTATIONS.register("flip", HorizontalFlip, aliases=("horizontal_flip",))
AUGMENTATIONS.register("shift", RandomShift, aliases=("random_shift", "crop"))
AUGMENTATIONS.register("rotation", RandomRotation, aliases=("rotate", "random_rotation"))
AUGMENTATIONS.register("brightness_contrast", BrightnessContrast, aliases=("brightness",))
AUGMENTATIONS.register("noise", GaussianNoise, aliases=("gaussian_noise",))


class InDataUnits:
    """Run an augmentation on the data's own units when the batches are normalized.

    ``aug'(X) = T(aug(T⁻¹(X)))`` with ``T`` the fitted normalizer (``x_norm = (x − μ)/σ``
    for a :class:`~honed.data.Standardizer`): a shift or rotation brings in the background
    (``fill`` is a pixel value: 0 is black, where the normalized 0 is the mean grey),
    brightness, contrast and ``clip`` are in pixel terms (0.1 is 10 % of a [0, 1] image), and
    noise's ``std`` is in data units, as each augmentation documents. The experiment layer
    wraps ``data.augment`` in it whenever ``data.normalize`` is not ``"none"``.
    """

    def __init__(self, augmentation, normalizer):
        if not callable(augmentation):
            raise ValueError(f"augmentation must be a callable (X, rng) -> X, got {augmentation!r}")
        for method in ("transform", "inverse_transform"):
            if not callable(getattr(normalizer, method, None)):
                raise ValueError(f"normalizer must have {method}(), got {normalizer!r}")
        self.augmentation, self.normalizer = augmentation, normalizer

    def __call__(self, X, rng):
        n = self.normalizer
        return n.transform(self.augmentation(n.inverse_transform(X), rng))

    def __repr__(self) -> str:
        return f"InDataUnits({self.augmentation!r}, {self.normalizer!r})"


def augmentation_from_config(specs, image_shape: Sequence[int] | None = None) -> Compose:
    """Build a :class:`Compose` from simple specs (e.g. read from a TOML file).

    Each spec is a name (``"flip"``) or a dict with ``"name"`` and the parameters:
    ``[{"name": "flip"}, {"name": "shift", "max_shift": 2}]``. Names: see
    :data:`AUGMENTATIONS`.

    Raises:
        ValueError: Unknown name or parameter (the message lists the allowed ones), a spec
            without ``"name"``, or a bad parameter value.
    """
    if isinstance(specs, (str, dict)):
        specs = [specs]
    augs = []
    for n, spec in enumerate(specs):
        if isinstance(spec, str):
            spec = {"name": spec}
        if not isinstance(spec, dict):
            raise ValueError(f"augmentation spec #{n} must be a name or a dict, got {spec!r}")
        if "name" not in spec:
            raise ValueError(f"augmentation spec #{n} must have a 'name', got {spec!r}")
        params = dict(spec)
        name = str(params.pop("name")).lower()
        cls = AUGMENTATIONS.get(name)
        allowed = [p for p in _params(cls) if p != "image_shape"]
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for "
                f"augmentation {name!r}; allowed: {', '.join(allowed) or 'none'}"
            )
        augs.append(cls(**params, image_shape=image_shape))
    return Compose(augs, image_shape=image_shape)
