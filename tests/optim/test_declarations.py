"""Each optimizer's hyperparameters are declared once (``Optimizer.options``, ``population``):
the experiment file, the key reference, the population and the lab runner read them."""

import inspect

import numpy as np
import pytest

from honed import experiment as ex
from honed import validation as check
from honed.experiment.config import ConfigError
from honed.experiment.population_tuning import check_population_config
from honed.experiment.runs import train_experiment
from honed.lab.runner import Spec, _why_not_population
from honed.optim import (
    OPTIMIZERS,
    Adam,
    Optimizer,
    declared_option,
    default_lr,
    hyperparameter_defaults,
    population_optimizers,
)
from honed.population.members import HYPERPARAMETERS, Member
from honed.registry import Option


class SignGD(Optimizer):
    """W := W − α·shrink·sign(dW): registered from outside honed, one declared option."""

    options = (Option("shrink", "float", 1.0, check.positive, "step factor > 0"),)

    def __init__(self, params, lr=0.01, shrink: float = 1.0):
        super().__init__(params, lr, shrink=shrink)

    def init_state(self, param):
        return {}

    def update(self, param, grad, state, lr):
        param.data -= lr * self.shrink * np.sign(grad)


class MyAdam(Adam):
    """An Adam registered from outside honed: it inherits Adam's declared member update."""

    population = True


@pytest.fixture
def sign_gd():
    OPTIMIZERS.register("sign_gd", SignGD)
    yield
    OPTIMIZERS.unregister("sign_gd")


def _population_accepts(name: str) -> dict[str, bool]:
    """Whether the population's member, the tuner's population check and the lab runner take
    optimizer ``name``."""
    accepts = {}
    try:
        Member.from_dict({"optimizer": name}, n_hidden=1)
        accepts["member"] = True
    except ValueError:
        accepts["member"] = False
    try:
        check_population_config(ex.resolve_config({"train": {"optimizer": name}}))
        accepts["tuner"] = True
    except ConfigError:
        accepts["tuner"] = False
    accepts["lab"] = _why_not_population(Spec("x", [2, 3, 1], optimizer=name)) is None
    return accepts


def _check_everywhere_matches_the_declarations():
    trains = population_optimizers()
    assert trains == [n for n, cls in OPTIMIZERS.items() if cls.population]
    for name, cls in OPTIMIZERS.items():
        declared = {o.name: o.default for o in OPTIMIZERS.options(name)}
        if declared:  # the constructor's own defaults must say the same (no second copy)
            signature = inspect.signature(cls.__init__).parameters
            assert {k: signature[k].default for k in declared} == declared, name
        assert hyperparameter_defaults(cls) == declared or not declared
        # the experiment file takes every registered optimizer and its declared options
        config = ex.resolve_config({"train": {"optimizer": name, "optimizer_args": declared}})
        assert config.train.optimizer == name
        with pytest.raises(ConfigError, match=f"the {name} optimizer takes"):
            ex.resolve_config({"train": {"optimizer": name, "optimizer_args": {"wobble": 1}}})
        accepts = _population_accepts(name)
        assert accepts == dict.fromkeys(accepts, name in trains), (name, accepts)
    # a member carries exactly the population optimizers' declared options, with their defaults
    union = {o.name: o for n in trains for o in OPTIMIZERS.options(n)}
    assert union == HYPERPARAMETERS
    for name in trains:
        member = Member.from_dict({"optimizer": name}, n_hidden=1)
        assert member.lr == default_lr(OPTIMIZERS.get(name))
        assert {k: getattr(member, k) for k in union} == {k: o.default for k, o in union.items()}
    # the [train] keys are the declarations, and the key reference shows their help
    train = ex.default_config().train
    reference = ex.key_reference()
    for option in union:
        assert getattr(train, option) == declared_option(option).default
        assert declared_option(option).help in reference


def test_population_lab_and_config_accept_exactly_the_declarations():
    assert population_optimizers() == ["adam", "gd", "momentum", "rmsprop"]
    _check_everywhere_matches_the_declarations()
    # the tuner's per-member and perturbable keys, PBT's space: the same declarations
    from honed.experiment.population_tuning import PER_MEMBER, PERTURBABLE
    from honed.population.pbt import _PERTURBABLE

    train_keys = {k[len("train.") :] for k in PER_MEMBER if k.startswith("train.")}
    assert train_keys == {"optimizer", "lr", "schedule", *HYPERPARAMETERS}
    assert set(HYPERPARAMETERS) <= set(PERTURBABLE.values()) & set(_PERTURBABLE)
    assert {"beta", "beta1", "beta2", "eps"} == set(HYPERPARAMETERS)


def test_a_new_optimizer_shows_up_everywhere_or_is_refused_naming_what_it_lacks(sign_gd):
    _check_everywhere_matches_the_declarations()
    with pytest.raises(ValueError, match="'sign_gd' does not declare population = True"):
        Member.from_dict({"optimizer": "sign_gd"}, n_hidden=1)
    with pytest.raises(ConfigError, match="declare population = True.*got 'sign_gd'"):
        check_population_config(ex.resolve_config({"train": {"optimizer": "sign_gd"}}))
    assert _why_not_population(Spec("x", [2, 3, 1], optimizer="sign_gd")) == ("optimizer 'sign_gd'")


def test_a_population_optimizer_inherits_its_declared_update():
    """MyAdam declares population = True and inherits Adam's member_coefficients: a member
    may use it, and MemberOptimizer updates it as Adam."""
    from honed.autograd import Parameter
    from honed.optim import MemberOptimizer

    OPTIMIZERS.register("my_adam", MyAdam)
    try:
        assert "my_adam" in population_optimizers()
        Member.from_dict({"optimizer": "my_adam"}, n_hidden=1)
        W = Parameter(np.ones((1, 2, 2)))
        opt = MemberOptimizer([W], [{"optimizer": "my_adam", "lr": 0.1}], kernels="numpy")
        W.grad = np.ones((1, 2, 2))
        opt.step()
        assert np.allclose(W.data, 0.9)  # Adam's first step: lr in the gradient's sign
    finally:
        OPTIMIZERS.unregister("my_adam")


def test_optimizers_sharing_an_option_share_its_declaration():
    assert OPTIMIZERS.declaring("beta2") == ["adam", "rmsprop"]
    assert declared_option("beta2") is OPTIMIZERS.options("rmsprop")[0]
    with pytest.raises(ValueError, match="no registered optimizer declares the option 'nope'"):
        declared_option("nope")


def test_the_declared_check_guards_the_constructor():
    from honed.autograd import Parameter

    with pytest.raises(ValueError, match="beta1"):
        Adam([Parameter(np.zeros(2))], beta1=1.0)


def test_an_outside_optimizer_with_a_declared_option_trains_from_toml(sign_gd, tmp_path):
    path = tmp_path / "sign.toml"
    path.write_text(
        """
        seed = 1
        [data]
        dataset = "moons"
        n_samples = 200
        [model]
        hidden = [8]
        [train]
        optimizer = "sign_gd"
        optimizer_args = {shrink = 0.5}
        lr = 0.02
        batch_size = 50
        epochs = 3
        checkpoint_every = 0
        """
    )
    result = train_experiment(ex.load_config(path), out=None, verbose=0)
    optimizer = result.trainer.optimizer
    assert type(optimizer) is SignGD and optimizer.shrink == 0.5
    assert result.ok and result.errors["dev"]["error"] < 0.5
    # the declared check runs on the experiment file, naming the key
    with pytest.raises(ConfigError, match=r"train\.optimizer_args\.shrink must be > 0"):
        ex.load_config(path, {"train.optimizer_args": {"shrink": -1.0}})
    # without the argument, the declared default
    config = ex.load_config(path, {"train.optimizer_args": {}})
    assert ex.build_optimizer(config, result.trainer.model.parameters()).shrink == 1.0


def test_population_lab_and_tuner_accept_exactly_the_declared_activations():
    from honed.nn import ACTIVATIONS, population_activations
    from honed.population.members import Architecture

    trains = population_activations()
    assert trains == ["sigmoid", "tanh", "relu", "leaky_relu", "elu"]
    for name in ACTIVATIONS:
        try:
            Architecture((2, 3, 1), activation=name)
            arch = True
        except ValueError as err:
            assert "declare population = True" in str(err)
            arch = False
        config = ex.resolve_config({"model": {"activation": name}})
        try:
            check_population_config(config)
            tuner = True
        except ConfigError:
            tuner = False
        lab = _why_not_population(Spec("x", [2, 3, 1], activation=name)) is None
        assert arch == tuner == lab == (name in trains), name


def test_the_layers_declared_constants_are_checked():
    """(A population runs the layers themselves, stacked: no copy of these constants.)"""
    from honed.nn import ELU, BatchNorm, LeakyReLU

    assert LeakyReLU().slope == 0.01 and ELU().alpha == 1.0
    layer = BatchNorm(3)
    assert (layer.eps, layer.momentum) == (1e-5, 0.9)
    with pytest.raises(ValueError, match="slope must be >= 0"):
        LeakyReLU(-0.1)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\)"):
        BatchNorm(3, momentum=1.0)


def test_population_lab_and_tuner_accept_exactly_the_declared_losses():
    from honed.nn import LOSSES, population_losses
    from honed.population import trainer

    trains = population_losses()
    assert trains == [n for n, cls in LOSSES.items() if cls.population]
    assert trains == ["softmax_cross_entropy", "sigmoid_cross_entropy", "mse", "mae", "huber"]
    assert list(trainer.LOSSES) == trains
    assert population_losses("regression") == [
        n for n in trains if LOSSES.get(n).task == "regression"
    ]
    for name in LOSSES:
        raw = {"train": {"loss": name}}
        if LOSSES.get(name).task == "regression":
            raw.update(data={"task": "regression"}, model={"output": "linear"})
        config = ex.resolve_config(raw)
        try:
            check_population_config(config)
            tuner = True
        except ConfigError:
            tuner = False
        lab = _why_not_population(Spec("x", [2, 3, 1], loss=name)) is None
        assert tuner == lab == (name in trains), name


def test_a_loss_argument_is_declared_once():
    from honed.nn.losses import LOSSES, Huber, loss_arguments

    assert [o.name for o in LOSSES.options("huber")] == ["delta"]
    assert loss_arguments("huber") == {"delta": 1.0} == {"delta": Huber().delta}
    with pytest.raises(ValueError, match="delta must be > 0"):
        Huber(0.0)


def test_schedules_declare_their_arguments_once():
    from honed.optim import SCHEDULES
    from honed.optim.schedules import schedule_arguments

    declaring = [n for n in SCHEDULES if SCHEDULES.options(n)]
    assert declaring == ["inverse_time", "exponential", "inverse_sqrt", "staircase"]
    for name in declaring:
        cls = SCHEDULES.get(name)
        declared = {o.name: o.default for o in SCHEDULES.options(name)}
        signature = inspect.signature(cls.__init__).parameters
        assert {k: signature[k].default for k in declared} == declared, name
        assert schedule_arguments(cls) == declared
        config = cls(0.1).to_config()
        assert config == {"name": name, "lr": 0.1, **declared}
    with pytest.raises(ValueError, match=r"every must be an integer >= 1, got 0"):
        SCHEDULES.get("staircase")(0.1, every=0)


def test_initializers_declare_their_arguments_once():
    from honed.nn import INITIALIZERS

    declaring = {n: INITIALIZERS.options(n) for n in INITIALIZERS if INITIALIZERS.options(n)}
    assert {n: [o.name for o in opts] for n, opts in declaring.items()} == {
        "normal": ["std"],
        "uniform": ["low", "high"],
    }
    for name, opts in declaring.items():
        signature = inspect.signature(INITIALIZERS.get(name)).parameters
        assert {o.name: signature[o.name].default for o in opts} == {
            o.name: o.default for o in opts
        }
