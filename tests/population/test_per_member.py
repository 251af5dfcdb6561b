"""Per-member data sets (PerMember) and per-member initializers: a member still equals its
standalone Trainer run on its own data (float64, 1e-10)."""

import numpy as np
import pytest

from honed.population import PerMember, Population, PopulationTrainer

from .conftest import blobs3, max_relative_difference, standalone

ARCH = {"sizes": [4, 6, 5, 3], "activation": "relu", "batch_norm": False}


def _close(a, b):
    return abs(a - b) <= 1e-10 * max(abs(a), abs(b), 1e-300)


@pytest.mark.parametrize("common_order", [False, True])
def test_each_member_trains_on_its_own_set(common_order):
    sets = [(blobs3(90, s), blobs3(30, 10 + s)) for s in range(3)]
    members = [
        {"optimizer": "adam", "lr": 0.01, "keep_prob": 0.8, "seed": 0, "init": "normal"},
        {"optimizer": "momentum", "lr": 0.05, "l2": 0.2, "seed": 1},
        {"optimizer": "gd", "lr": 0.1, "seed": 2, "init": "xavier", "init_scale": 0.5},
        {"optimizer": "rmsprop", "lr": 0.003, "seed": 3},  # shares set 0 with member 0
    ]
    which = [0, 1, 2, 0]
    pop = Population(ARCH, members, dtype=np.float64)
    trainer = PopulationTrainer(pop, batch_size=16, seed=4, common_order=common_order)
    trainer.fit(
        PerMember([sets[w][0] for w in which]), PerMember([sets[w][1] for w in which]), epochs=3
    )
    for k, (m, w) in enumerate(zip(members, which)):
        seed = 4 if common_order else m["seed"]
        arch = dict(ARCH)
        model, history = standalone(
            arch, m, sets[w][0], sets[w][1], 3, 16, seed, "softmax_cross_entropy"
        )
        assert max_relative_difference(model.state_dict(), pop.member(k).state_dict()) < 1e-10
        for a, b in zip(history.epochs, pop.histories[k].epochs):
            for key in ("train_cost", "train_error", "dev_cost", "dev_error"):
                assert _close(a[key], b[key]), (k, key, a[key], b[key])


def test_per_member_sets_are_checked():
    pop = Population(ARCH, [{"seed": 0}, {"seed": 1}], dtype=np.float64)
    trainer = PopulationTrainer(pop, batch_size=16)
    with pytest.raises(ValueError, match="3 per-member sets, the population has 2"):
        trainer.fit(PerMember([blobs3(20, 0)] * 3), epochs=1)
    with pytest.raises(ValueError, match="same number of examples, got 20 and 30"):
        trainer.fit(PerMember([blobs3(20, 0), blobs3(30, 1)]), epochs=1)


def test_member_init_is_kept_in_its_hyperparameters():
    pop = Population(ARCH, [{"seed": 0, "init": "zeros"}, {"seed": 1}])
    assert pop.hyperparameters(0)["init"] == "zeros" and "init" not in pop.hyperparameters(1)
    assert not pop.member(0).layers[0].W.data.any()
    with pytest.raises(ValueError, match=r"members\[0\]\.init must be an initializer name"):
        Population(ARCH, [{"init": 3}])


@pytest.mark.parametrize("scale", [0, -1.0, float("nan")])
def test_member_init_scale_is_checked_as_the_config_checks_it(scale):
    from honed.experiment.config import resolve_config

    with pytest.raises(ValueError, match=r"members\[0\]\.init_scale must be") as member:
        Population({"sizes": [2, 3, 2]}, [{"init_scale": scale}])
    with pytest.raises(ValueError, match=r"model\.init_scale must be") as config:
        resolve_config({"model": {"init_scale": scale}})
    # one check: the same words after the key's name
    assert str(member.value).split("init_scale")[1] == str(config.value).split("init_scale")[1]
