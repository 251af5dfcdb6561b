"""Registering new things from outside honed and naming them in an experiment file."""

import numpy as np
import pytest

from honed import experiment as ex
from honed.data import AUGMENTATIONS, Augmentation
from honed.experiment.runs import train_experiment
from honed.nn import LOSSES
from honed.nn.losses import SoftmaxCrossEntropy
from honed.optim import OPTIMIZERS, SCHEDULES, Optimizer, Schedule


class SignGD(Optimizer):
    """W := W − α·sign(dW) (a test optimizer with one hyperparameter of its own)."""

    def __init__(self, params, lr=0.01, shrink: float = 1.0):
        super().__init__(params, lr, shrink=shrink)

    def init_state(self, param):
        return {}

    def update(self, param, grad, state, lr):
        param.data -= lr * self.shrink * np.sign(grad)


class HalvingEveryTwo(Schedule):
    """α = α₀ · 0.5^⌊epoch/2⌋."""

    name = "halving_every_two"

    def _rate(self, epoch):
        return self.lr * 0.5 ** (epoch // 2)


class LoggedSoftmax(SoftmaxCrossEntropy):
    name = "logged_softmax"
    calls = 0

    def __call__(self, outputs, targets):
        type(self).calls += 1
        return super().__call__(outputs, targets)


class Jitter(Augmentation):
    needs_images = False
    calls = 0

    def __init__(self, std: float = 0.01, image_shape=None):
        super().__init__(image_shape)
        self.std = std

    def _apply(self, X, rng):
        type(self).calls += 1
        return X + rng.normal(0, self.std, X.shape).astype(X.dtype)


@pytest.fixture
def registered():
    OPTIMIZERS.register("sign_gd", SignGD)
    SCHEDULES.register(HalvingEveryTwo.name, HalvingEveryTwo)
    LOSSES.register(LoggedSoftmax.name, LoggedSoftmax)
    AUGMENTATIONS.register("jitter", Jitter)
    yield
    for registry, name in (
        (OPTIMIZERS, "sign_gd"),
        (SCHEDULES, HalvingEveryTwo.name),
        (LOSSES, LoggedSoftmax.name),
        (AUGMENTATIONS, "jitter"),
    ):
        registry.unregister(name)


def test_registered_things_train_from_a_toml_file(registered, tmp_path):
    path = tmp_path / "custom.toml"
    path.write_text(
        """
        seed = 1
        [data]
        dataset = "moons"
        n_samples = 200
        augment = [{name = "jitter", std = 0.02}]
        [model]
        hidden = [8]
        [train]
        optimizer = "sign_gd"
        optimizer_args = {shrink = 0.5}
        lr = 0.02
        schedule = {name = "halving_every_two"}
        loss = "logged_softmax"
        batch_size = 50
        epochs = 4
        checkpoint_every = 0
        """
    )
    config = ex.load_config(path)
    result = train_experiment(config, out=None, verbose=0)
    trainer = result.trainer
    assert type(trainer.optimizer) is SignGD and trainer.optimizer.shrink == 0.5
    assert [r["lr"] for r in trainer.history.epochs] == pytest.approx([0.02, 0.02, 0.01, 0.01])
    assert isinstance(trainer.loss, LoggedSoftmax) and LoggedSoftmax.calls > 0
    assert Jitter.calls == 4 * 3  # 4 epochs × 3 mini-batches of the 120 training examples
    assert result.ok and result.errors["dev"]["error"] < 0.5
    assert "sign_gd" in ex.key_reference()


def test_unknown_hyperparameter_of_a_registered_optimizer_is_named(registered):
    with pytest.raises(ValueError, match="the sign_gd optimizer takes shrink; got wobble"):
        ex.resolve_config({"train": {"optimizer": "sign_gd", "optimizer_args": {"wobble": 1}}})


def test_a_name_cannot_be_taken_twice_by_accident():
    with pytest.raises(ValueError, match="optimizer name 'adam' is already registered"):
        OPTIMIZERS.register("adam", SignGD)
