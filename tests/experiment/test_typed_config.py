"""The typed config: types, the key reference, `honed config`, binary output, full batch."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from honed import experiment as ex
from honed.cli import main
from honed.experiment.runs import train_experiment

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(
    "raw, error, message",
    [
        ({"train": {"lr": "fast"}}, TypeError, "train.lr must be a number, got 'fast'"),
        ({"train": {"lr": True}}, TypeError, "train.lr must be a number, got True"),
        ({"train": {"epochs": True}}, TypeError, "train.epochs must be an integer, got True"),
        ({"model": {"batch_norm": 1}}, TypeError, "model.batch_norm must be true or false, got 1"),
        (
            {"train": {"batch_size": "half"}},
            ValueError,
            'train.batch_size must be an integer >= 1 or "full"',
        ),
        (
            {"model": {"activation": "swish"}},
            ValueError,
            "model.activation must be one of sigmoid, tanh, relu",
        ),
        ({"model": {"init": "lecun"}}, None, None),
        ({"model": {"output": "tanh"}}, ValueError, "model.output must be one of softmax, sigmoid"),
        (
            {"train": {"loss": "hinge"}},
            ValueError,
            "train.loss must be one of softmax_cross_entropy",
        ),
        ({"data": {"factor": 1.0}}, ValueError, r"data.factor must be in \(0, 1\), got 1"),
        (
            {"train": {"schedule": {"name": "staircase", "every": 0}}},
            ValueError,
            "train.schedule: every must be an integer >= 1, got 0",
        ),
    ],
)
def test_wrong_types_are_type_errors_and_bad_values_value_errors(raw, error, message):
    if error is None:
        assert ex.resolve_config(raw).model.init == "xavier"  # lecun is Xavier's other name
        return
    with pytest.raises(error, match=message):
        ex.resolve_config(raw)


def test_config_is_frozen_and_replace_validates():
    config = ex.resolve_config({})
    with pytest.raises(AttributeError):
        config.train.lr = 1.0
    assert config.replace({"train.lr": 0.5}).train.lr == 0.5 and config.train.lr == 1e-3
    with pytest.raises(ValueError, match="train.lr must be > 0, got -1"):
        config.replace({"train.lr": -1})


def test_key_reference_page_is_current():
    page = (ROOT / "docs" / "config-keys.md").read_text()
    assert page == ex.key_reference() + "\n", (
        "regenerate: honed config --keys > docs/config-keys.md"
    )


def test_key_reference_lists_every_key_with_its_default():
    reference = ex.key_reference()
    for section, cls in ex.SECTIONS.items():
        for name in cls.__dataclass_fields__:
            assert f"`{section}.{name}`" in reference
    assert "| `train.lr` | float | `0.001` |" in reference
    assert "lecun" not in reference.split("`model.init`")[1].split("\n")[0]  # aliases left out


def test_honed_config_prints_every_resolved_key(capsys):
    assert main(["config", str(ROOT / "examples/fashion_mlp.toml"), "--set", "train.lr=3e-4"]) == 0
    out = capsys.readouterr().out
    resolved = ex.load_config(ROOT / "examples/fashion_mlp.toml").to_dict()
    for section in ex.SECTIONS:
        assert f"[{section}]" in out
        for name, value in resolved[section].items():
            assert (f"{name} = " in out) or (value is None and f"# {name} is not set" in out)
    assert "lr = 0.0003" in out and "hidden = [512, 256]" in out
    assert main(["config", "--keys"]) == 0 and "| `data.dataset` |" in capsys.readouterr().out
    assert main(["config", str(ROOT / "examples/moons.toml"), "--set", "train.lr=-1"]) == 1
    assert "train.lr must be > 0, got -1" in capsys.readouterr().err


def test_sigmoid_output_trains_one_unit_with_binary_error(tmp_path, capsys):
    exp = tmp_path / "binary.toml"
    exp.write_text(
        """
        [data]
        dataset = "circles"
        n_samples = 300
        noise = 0.05
        factor = 0.5
        test_samples = 200
        [model]
        hidden = [10, 5]
        output = "sigmoid"
        [train]
        optimizer = "adam"
        lr = 0.05
        batch_size = "full"
        epochs = 60
        log_every = 20
        """
    )
    assert main(["train", str(exp), "--out", str(tmp_path / "runs")]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("epoch")]
    assert [ln.split()[1] for ln in lines] == ["20/60", "40/60", "60/60"]  # log_every
    config = ex.load_config(exp)
    result = train_experiment(config, out=None, verbose=0)
    trainer = result.trainer
    assert trainer.model.layers[-1].W.shape == (5, 1)  # one sigmoid unit
    assert trainer.loss.name == "sigmoid_cross_entropy" and trainer.batches_per_epoch == 1
    assert len(result.trainer.history) == 60
    data = ex.prepare_data(config)
    assert len(data.test) == 200 and len(data.train) + len(data.dev) == 300
    logits = trainer.predict_logits(data.test.X)
    manual = float(np.mean((logits[:, 0] > 0) != data.test.y))
    assert result.errors["test"]["error"] == pytest.approx(manual) and manual < 0.1


def test_sigmoid_output_on_ten_classes_is_refused():
    config = ex.resolve_config({"data": {"dataset": "blobs"}, "model": {"output": "sigmoid"}})
    data = ex.prepare_data(config.replace({"data.dataset": "moons"}))
    ex.build_trainer(config.replace({"data.dataset": "moons"}), data)
    with pytest.raises(ValueError, match='model.output = "sigmoid" is one unit for two classes'):
        ex.build_model(config, 2, 3)


def test_early_stopping_without_a_dev_set_warns_once():
    from honed.nn import mlp
    from honed.optim import GD
    from honed.train import EarlyStopping, Trainer

    model = mlp([2, 3, 2], seed=0)
    trainer = Trainer(model, GD(model.parameters(), lr=0.1), callbacks=[EarlyStopping()])
    X, y = np.zeros((8, 2), np.float32), np.arange(8) % 2
    with pytest.warns(
        UserWarning, match="EarlyStopping monitors dev_error but fit\\(\\) got no dev set"
    ):
        trainer.fit((X, y), epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer.fit((X, y), epochs=2)  # once only
