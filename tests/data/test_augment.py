import numpy as np
import pytest

from honed.data import (
    BrightnessContrast,
    Compose,
    Dataset,
    GaussianNoise,
    HorizontalFlip,
    RandomRotation,
    RandomShift,
    augmentation_from_config,
    rotate,
)

ALL = [
    HorizontalFlip(p=0.5),
    RandomShift(max_shift=2),
    RandomRotation(max_degrees=10),
    RandomRotation(max_degrees=10, interpolation="nearest"),
    BrightnessContrast(0.1, 0.1),
    GaussianNoise(0.05),
]


@pytest.fixture
def batch():
    return np.random.default_rng(0).random((8, 6, 5)).astype(np.float32)


@pytest.mark.parametrize("aug", ALL, ids=repr)
def test_shape_dtype_no_inplace(aug, batch):
    before = batch.copy()
    out = aug(batch, np.random.default_rng(1))
    assert out.shape == batch.shape and out.dtype == batch.dtype
    assert out is not batch and not np.shares_memory(out, batch)
    np.testing.assert_array_equal(batch, before)


@pytest.mark.parametrize("aug", ALL, ids=repr)
def test_same_seed_same_batch(aug, batch):
    a = aug(batch, np.random.default_rng(5))
    b = aug(batch, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("aug", ALL, ids=repr)
def test_global_random_state_untouched(aug, batch):
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    aug(batch, np.random.default_rng(2))
    np.testing.assert_array_equal(state, np.random.get_state()[1])


def test_uint8_images_keep_dtype():
    X = np.random.default_rng(0).integers(0, 256, (4, 6, 6)).astype(np.uint8)
    for aug in ALL:
        out = aug(X, np.random.default_rng(0))
        assert out.dtype == np.uint8 and out.shape == X.shape


def test_flattened_with_image_shape_and_dataset(batch):
    flat = batch.reshape(8, 30)
    a = RandomShift(1, image_shape=(6, 5))(flat, np.random.default_rng(3))
    b = RandomShift(1)(batch, np.random.default_rng(3))
    np.testing.assert_array_equal(a.reshape(8, 6, 5), b)
    with pytest.raises(ValueError, match=r"pass image_shape=\(H, W\)"):
        RandomShift(1)(flat, np.random.default_rng(0))
    d = Dataset(flat, np.arange(8) % 3, image_shape=(6, 5))
    out = Compose([HorizontalFlip(1.0), RandomRotation(5)])(d, np.random.default_rng(0))
    assert isinstance(out, Dataset) and out.X.shape == (8, 30) and out.X.dtype == np.float32
    np.testing.assert_array_equal(out.y, d.y)  # labels kept
    # a Compose inside a Compose runs its own list (the image shape comes from the Dataset)
    nested = Compose([Compose([HorizontalFlip(1.0)]), HorizontalFlip(1.0)])
    np.testing.assert_array_equal(nested(d, np.random.default_rng(0)).X, d.X)


def test_flip_twice_is_identity(batch):
    f = HorizontalFlip(p=1.0)
    once = f(batch, np.random.default_rng(0))
    np.testing.assert_array_equal(once, batch[:, :, ::-1])
    np.testing.assert_array_equal(f(once, np.random.default_rng(1)), batch)
    np.testing.assert_array_equal(HorizontalFlip(p=0.0)(batch, np.random.default_rng(0)), batch)


def test_zero_rotation_and_shift_are_identity(batch):
    np.testing.assert_array_equal(RandomRotation(0)(batch, np.random.default_rng(0)), batch)
    np.testing.assert_array_equal(RandomShift(0)(batch, np.random.default_rng(0)), batch)
    np.testing.assert_array_equal(rotate(batch, 0.0), batch)


def test_rotate_90_matches_rot90():
    X = np.random.default_rng(0).random((3, 5, 5))
    for interp in ("bilinear", "nearest"):
        np.testing.assert_allclose(rotate(X, 90, interp), np.rot90(X, axes=(1, 2)), atol=1e-12)
    Y = np.random.default_rng(1).random((2, 4, 7))
    np.testing.assert_allclose(rotate(Y, 180), Y[:, ::-1, ::-1], atol=1e-12)


def test_shift_moves_pixels_with_zero_fill():
    X = np.zeros((200, 5, 5), dtype=np.float32)
    X[:, 2, 2] = 1.0
    out = RandomShift(2)(X, np.random.default_rng(0))
    # The single bright pixel lands somewhere in the 5x5 window around the centre.
    assert np.all(out.sum(axis=(1, 2)) == 1.0)
    pos = np.array([np.unravel_index(o.argmax(), o.shape) for o in out])
    assert set(map(tuple, pos)) == {(i, j) for i in range(5) for j in range(5)}
    edge = np.ones((1, 3, 3), np.float32)
    shifted = RandomShift(1)(np.repeat(edge, 50, 0), np.random.default_rng(1))
    assert (shifted == 0).any()  # zero padding came in


def test_brightness_contrast_and_noise_on_vectors():
    V = np.random.default_rng(0).random((100, 7))
    out = GaussianNoise(0.1)(V, np.random.default_rng(0))
    assert out.shape == V.shape and 0.08 < (out - V).std() < 0.12
    bc = BrightnessContrast(brightness=0.2, contrast=0.0)(V, np.random.default_rng(0))
    shift = (bc - V).mean(1)
    np.testing.assert_allclose((bc - V), np.repeat(shift[:, None], 7, 1), atol=1e-12)
    assert np.abs(shift).max() <= 0.2
    clipped = BrightnessContrast(0.5, 0.5, clip=(0, 1))(V, np.random.default_rng(0))
    assert clipped.min() >= 0 and clipped.max() <= 1


def test_rng_required():
    with pytest.raises(ValueError, match="rng must be"):
        GaussianNoise()(np.zeros((2, 2)), None)


def test_parameter_validation():
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        HorizontalFlip(p=1.5)
    with pytest.raises(ValueError, match=r"max_shift must be an integer >= 0, got -1"):
        RandomShift(-1)
    with pytest.raises(ValueError, match=r"std must be >= 0, got -0.1"):
        GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="interpolation must be"):
        RandomRotation(interpolation="cubic")


def test_from_config(batch):
    aug = augmentation_from_config(
        [
            "flip",
            {"name": "shift", "max_shift": 2},
            {"name": "rotation", "max_degrees": 5},
            {"name": "noise", "std": 0.01},
        ],
        image_shape=(6, 5),
    )
    assert isinstance(aug, Compose) and len(aug) == 4
    assert isinstance(aug.augmentations[1], RandomShift) and aug.augmentations[1].max_shift == 2
    out = aug(batch.reshape(8, 30), np.random.default_rng(0))
    assert out.shape == (8, 30) and out.dtype == np.float32
    np.testing.assert_array_equal(augmentation_from_config([])(batch, 0), batch)


def test_from_config_errors():
    with pytest.raises(ValueError, match=r"unknown augmentation 'zoom'; known: flip"):
        augmentation_from_config([{"name": "zoom"}])
    with pytest.raises(
        ValueError,
        match=r"unknown parameter\(s\) 'degrees' for augmentation "
        r"'rotation'; allowed: max_degrees",
    ):
        augmentation_from_config([{"name": "rotation", "degrees": 3}])
    with pytest.raises(ValueError, match=r"must have a 'name'"):
        augmentation_from_config([{"max_shift": 2}])
    with pytest.raises(ValueError, match=r"max_shift must be an integer >= 0"):
        augmentation_from_config([{"name": "shift", "max_shift": -2}])


def test_in_data_units_shifts_in_the_background_not_the_normalized_zero():
    """On normalized batches a shift must bring in black (pixel 0), whose normalized value
    is -μ/σ, not the normalized 0 (the mean grey); the rest is the plain shift's."""
    from honed.data import Standardizer
    from honed.data.augment import InDataUnits

    rng = np.random.default_rng(0)
    X = rng.uniform(0.2, 1.0, (40, 36))
    scaler = Standardizer(per_feature=False).fit(X)
    Xn = scaler.transform(X)
    shift = RandomShift(max_shift=1, image_shape=(6, 6))
    out = InDataUnits(shift, scaler)(Xn, 3)
    brought_in = shift(np.ones_like(Xn), 3) == 0  # the same draws: where nothing was
    assert brought_in.any() and not brought_in.all()
    background = scaler.transform(np.zeros((1, 36)))[0, 0]
    assert background < -1  # well below the normalized 0 the plain shift would bring in
    np.testing.assert_allclose(out[brought_in], background, rtol=1e-12)
    np.testing.assert_allclose(out[~brought_in], shift(Xn, 3)[~brought_in], rtol=1e-12)


def test_in_data_units_refuses_what_it_cannot_use():
    from honed.data.augment import InDataUnits

    with pytest.raises(ValueError, match="augmentation must be a callable"):
        InDataUnits("shift", None)
    with pytest.raises(ValueError, match=r"normalizer must have transform\(\)"):
        InDataUnits(RandomShift(), object())
