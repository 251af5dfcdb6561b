"""Experiment files: defaults, validation with dotted keys, overrides, building."""

import numpy as np
import pytest

from honed import experiment as ex


def test_defaults_fill_every_section():
    config = ex.resolve_config({})
    assert config.train.lr == 1e-3 and config.model.activation == "relu"
    assert config.data.dataset == "fashion_mnist" and config.model.output == "softmax"
    assert config == ex.ExperimentConfig() and ex.resolve_config(config.to_dict()) == config


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"train": {"lr": -1}}, "train.lr must be > 0, got -1"),
        ({"train": {"beta1": 1.0}}, r"train.beta1 must be in \[0, 1\), got 1"),
        ({"model": {"keep_prob": 0}}, r"model.keep_prob must be in \(0, 1\], got 0"),
        ({"model": {"hidden": [64, 0]}}, r"model.hidden\[1\] must be an integer >= 1, got 0"),
        ({"train": {"batch_size": 0.5}}, "train.batch_size must be an integer"),
        (
            {"train": {"optimizer": "sgd"}},
            "train.optimizer must be one of adam, gd, momentum, rmsprop, got 'sgd'",
        ),
        (
            {"train": {"schedule": {"name": "exponential", "rate": 2}}},
            "train.schedule.rate is not a parameter",
        ),
        (
            {"train": {"early_stopping": {"patience": 0}}},
            "train.early_stopping.patience must be an integer >= 1",
        ),
        ({"data": {"dataset": "csv"}}, "data.path is needed"),
        ({"model": {"hidden": [8, 8], "layers": 3}}, "model.layers is 3"),
        ({"modle": {}}, "unknown key modle"),
        ({"train": {"lrate": 1}}, "unknown key train.lrate"),
    ],
)
def test_bad_values_name_the_dotted_key(raw, message):
    with pytest.raises(ValueError, match=message):
        ex.resolve_config(raw)


def test_hidden_with_layers_repeats_the_width():
    assert ex.resolve_config({"model": {"hidden": 50, "layers": 3}}).model.hidden_sizes() == [
        50,
        50,
        50,
    ]


def test_set_options_parse_toml_values():
    assert ex.parse_set_options(
        ["train.lr=3e-4", "model.hidden=[64, 32]", "model.batch_norm=true", "data.dataset=moons"]
    ) == {
        "train.lr": 3e-4,
        "model.hidden": [64, 32],
        "model.batch_norm": True,
        "data.dataset": "moons",
    }
    with pytest.raises(ex.ConfigError, match="KEY=VALUE"):
        ex.parse_set_options(["train.lr"])


def test_shipped_examples_are_valid():
    from pathlib import Path

    # examples/lab/ holds lab settings, not experiment files
    paths = sorted(Path(__file__).parents[2].glob("examples/*.toml"))
    assert len(paths) >= 4, paths  # the glob found the shipped examples
    for path in paths:
        config = ex.load_config(path)
        assert config.name == path.stem or "name" in ex.read_toml(path)


def test_build_pieces_from_config():
    config = ex.resolve_config(
        {
            "data": {"dataset": "moons", "n_samples": 200},
            "model": {"hidden": [8, 8], "batch_norm": True},
            "train": {"optimizer": "momentum", "schedule": {"name": "exponential", "base": 0.9}},
        }
    )
    data = ex.prepare_data(config)
    assert len(data.train) + len(data.dev) + len(data.test) == 200
    assert abs(float(data.train.X.mean())) < 1e-5  # standardized with train statistics
    trainer = ex.build_trainer(config, data)
    assert type(trainer.optimizer).__name__ == "Momentum"
    trainer.optimizer.set_epoch(2)
    assert trainer.optimizer.lr == pytest.approx(1e-3 * 0.81)
    assert trainer.capture is not None  # train.capture, on by default
    off = ex.build_trainer(config.replace({"train.capture": False}), data)
    assert off.capture is None
    with pytest.raises(TypeError, match="train.capture must be true or false"):
        config.replace({"train.capture": "sometimes"})


def test_image_data_subset_and_split_before_converting(tmp_path):
    """prepare_data keeps images as uint8 until subset and split are done; the result is
    exactly what converting the whole set first would give."""
    from honed import data as hd
    from honed.data import write_idx

    rng = np.random.default_rng(1)
    for stem, n in (("train", 40), ("t10k", 10)):
        write_idx(
            tmp_path / f"{stem}-images-idx3-ubyte.gz",
            rng.integers(0, 256, (n, 3, 3)).astype(np.uint8),
        )
        write_idx(tmp_path / f"{stem}-labels-idx1-ubyte.gz", (np.arange(n) % 2).astype(np.uint8))
    config = ex.resolve_config(
        {
            "seed": 3,
            "data": {
                "dataset": "mnist",
                "path": str(tmp_path),
                "subset": 30,
                "dev": 10,
                "normalize": "scalar",
            },
        }
    )
    data = ex.prepare_data(config)

    full_train, full_test = hd.mnist(tmp_path)  # the float pipeline, step by step
    picked = np.sort(np.random.default_rng(3).permutation(40)[:30])
    train, dev = hd.train_dev_split(
        full_train[picked], dev=10, stratify=config.data.stratify, seed=3
    )
    scaler = hd.Standardizer(per_feature=False).fit(train)
    for got, want in ((data.train, train), (data.dev, dev), (data.test, full_test)):
        assert got.X.dtype == np.float32
        np.testing.assert_array_equal(got.X, scaler.transform(want).X)
        np.testing.assert_array_equal(got.y, want.y)


def test_augmentation_runs_in_the_data_units_of_a_normalized_experiment():
    """data.augment with data.normalize: the Trainer's augmentation undoes the normalization,
    augments, and normalizes again (a shift brings in black, brightness is in pixel terms)."""
    from honed import experiment as ex
    from honed.data.augment import InDataUnits
    from honed.experiment.build import build_trainer

    raw = {
        "name": "aug_units",
        "data": {"dataset": "moons", "n_samples": 200, "augment": [{"name": "noise"}]},
        "model": {"hidden": [4]},
    }
    config = ex.resolve_config(raw)
    data = ex.prepare_data(config)
    assert data.normalizer is not None  # moons are standardized by default
    augment = build_trainer(config, data).augment
    assert isinstance(augment, InDataUnits) and augment.normalizer is data.normalizer
    raw["data"]["normalize"] = "none"
    config = ex.resolve_config(raw)
    assert not isinstance(build_trainer(config, ex.prepare_data(config)).augment, InDataUnits)
