"""PopulationTrainer: divergence, early stopping, memory, member(k), callbacks, bad input."""

import math

import numpy as np
import pytest

from honed.autograd import Tensor, gradcheck
from honed.nn import load, save
from honed.population import Population, PopulationTrainer, estimate_memory
from honed.train import EarlyStopping
from honed.train.status import Status

from .conftest import max_relative_difference, standalone

ARCH = {"sizes": [4, 6, 3], "activation": "relu"}


def test_diverging_member_is_stopped_and_the_others_go_on(data3):
    train, dev = data3
    members = [
        {"lr": 0.01, "seed": 0, "l2": 0.2},
        {"optimizer": "gd", "lr": 1e200, "seed": 1},
        {"lr": 0.02, "seed": 2, "l1": 0.1},
    ]
    pop = Population({"sizes": [4, 6, 6, 3], "activation": "relu"}, members, dtype=np.float64)
    PopulationTrainer(pop, batch_size=32).fit(train, dev, epochs=4)
    assert pop.status == ["complete", "diverged", "complete"]
    # one vocabulary: train.Status, for the members and their histories alike
    assert all(isinstance(st, Status) for st in pop.status)
    assert [h.status for h in pop.histories] == pop.status
    assert "diverged" in pop.histories[1].message
    assert len(pop.histories[0]) == len(pop.histories[2]) == 4
    assert len(pop.histories[1]) < 4
    # the survivors are untouched by the divergence: the same as trained alone
    for k in (0, 2):
        model, _ = standalone(
            ARCH | {"sizes": [4, 6, 6, 3]},
            members[k],
            train,
            dev,
            4,
            32,
            0,
            "softmax_cross_entropy",
        )
        assert max_relative_difference(model.state_dict(), pop.member(k).state_dict()) < 1e-10


def test_early_stopping_freezes_a_member_with_its_best_weights(data3):
    train, dev = data3
    members = [{"optimizer": "gd", "lr": 0.5, "seed": 3}, {"lr": 0.003, "seed": 4}]
    pop = Population(ARCH, members, dtype=np.float64)
    trainer = PopulationTrainer(pop, batch_size=16, seed=1, patience=2, monitor="dev_cost")
    trainer.fit(train, dev, epochs=25)
    assert "early_stopped" in pop.status
    for k, m in enumerate(members):
        stop = EarlyStopping(monitor="dev_cost", patience=2)
        model, history = standalone(
            ARCH, m, train, dev, 25, 16, 1, "softmax_cross_entropy", callbacks=[stop]
        )
        assert len(history) == len(pop.histories[k])
        assert max_relative_difference(model.state_dict(), pop.member(k).state_dict()) < 1e-10
        if pop.status[k] == "early_stopped":
            assert pop.histories[k].events[-1]["event"] == "early_stop"
            assert history.status == "early_stopped"


def test_training_ends_when_every_member_has_stopped(data3):
    train, dev = data3
    pop = Population(ARCH, [{"optimizer": "gd", "lr": 1.0, "seed": k} for k in range(3)])
    trainer = PopulationTrainer(pop, batch_size=16, patience=1, monitor="train_cost")
    trainer.fit(train, dev, epochs=50)
    assert trainer.alive == [] and pop.status == ["early_stopped"] * 3
    assert all(len(h) < 50 for h in pop.histories)
    assert pop.member(0).predict(train[0]).shape == (len(train[0]),)


def test_memory_estimate_refuses_and_names_a_fitting_population():
    members = [{"seed": k} for k in range(8)]
    pop = Population({"sizes": [784, 256, 10]}, members)
    trainer = PopulationTrainer(pop)
    est = trainer.memory_estimate()
    trainer.memory_limit = int(est["shared"] + est["per_member"] * 3.5)
    X = np.zeros((4, 784), np.float32)
    y = np.zeros(4, np.int64)
    with pytest.raises(ValueError, match=r"P=8 members needs about .* MiB.*P <= 3 would fit"):
        trainer.fit((X, y), epochs=1)
    assert est["total"] > 8 * 784 * 256 * 4 * 4  # at least weights, grads, two moments


def test_member_is_an_ordinary_model(tmp_path, data3):
    (X, y), dev = data3
    arch = {"sizes": [4, 5, 3], "activation": "tanh", "batch_norm": True}
    pop = Population(arch, [{"seed": 0}, {"seed": 1, "keep_prob": 0.8}], dtype=np.float64)
    PopulationTrainer(pop, batch_size=25).fit((X, y), dev, epochs=2)
    model = pop.member(1)
    assert model.to_config()["keep_prob"] == [0.8]
    save(model, tmp_path / "m.npz")
    back = load(tmp_path / "m.npz").to(np.float64)
    assert np.array_equal(back.predict(X), model.predict(X))
    assert max_relative_difference(back.state_dict(), model.state_dict()) == 0.0
    # predictions are the population's own eval-mode logits
    stacked = PopulationTrainer(pop).model.eval()
    logits = stacked(Tensor(X)).data
    assert np.array_equal(model.predict(X), logits[1].argmax(axis=1))
    from honed.nn import softmax_cross_entropy

    model.eval()
    result = gradcheck(lambda: softmax_cross_entropy(model(Tensor(X[:10])), y[:10]), model)
    assert result.passed
    with pytest.raises(ValueError, match="k must be in"):
        pop.member(2)


def test_callback_can_prune_members_each_epoch(data3):
    train, dev = data3
    pop = Population(ARCH, [{"seed": k, "lr": 10.0**-k} for k in range(4)])
    seen = []

    def prune_worst(trainer, epoch, records):
        seen.append((epoch, sorted(records)))
        if len(trainer.alive) > 1:
            worst = max(records, key=lambda k: (records[k]["dev_error"], k))
            trainer.stop([worst])

    PopulationTrainer(pop, batch_size=32, callbacks=[prune_worst]).fit(train, dev, epochs=5)
    assert [len(ids) for _, ids in seen] == [4, 3, 2, 1, 1]
    assert pop.status.count("pruned") == 3
    assert sorted(len(h) for h in pop.histories) == [1, 2, 3, 5]


def test_progress_line_summarises_the_population(capsys, data3):
    train, dev = data3
    pop = Population(ARCH, [{"seed": k} for k in range(3)])
    trainer = PopulationTrainer(pop, batch_size=32, progress=True)
    trainer.fit(train, dev, epochs=2)
    out = capsys.readouterr().out
    assert "alive 3" in out and "best dev error" in out and "median dev error" in out
    s = trainer.summary()
    assert s["alive"] == 3 and 0 <= s["best_dev_error"] <= s["median_dev_error"] <= 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"members": []}, "members must be a non-empty"),
        ({"members": [{"optimizer": "sgd"}]}, "optimizer must be one of"),
        ({"members": [{"lr": -1.0}]}, r"members\[0\].lr must be > 0"),
        ({"members": [{"keep_prob": 1.5}]}, "keep_prob must be in"),
        ({"members": [{"beta1": 1.0}]}, "beta1 must be in"),
        ({"members": [{"color": 1}]}, "unknown keys"),
        ({"architecture": {"sizes": [3, 2], "scale": 2}}, "per-member settings"),
        ({"architecture": {"sizes": [3, 4, 2], "activation": "maxout"}}, "activation"),
    ],
)
def test_bad_input_is_named(kwargs, message):
    args = {"architecture": {"sizes": [3, 4, 2]}, "members": [{}]} | kwargs
    with pytest.raises(ValueError, match=message):
        Population(args["architecture"], args["members"])


def test_trainer_arguments_are_checked():
    pop = Population({"sizes": [3, 2]}, [{}])
    for kwargs, message in [
        ({"loss": "hinge"}, "loss must be one of"),  # mse, mae, huber: regression
        ({"batch_size": 0}, "batch_size"),
        ({"patience": 0}, "patience"),
        ({"monitor": "accuracy"}, "monitor"),
    ]:
        with pytest.raises(ValueError, match=message):
            PopulationTrainer(pop, **kwargs)
    assert math.isfinite(estimate_memory([3, 2], 1, 1)["total"])
    assert pop.hyperparameters(0)["keep_prob"] == 1.0  # no hidden layer: nothing to drop


def test_a_member_marked_completed_by_an_older_honed_trains_on(data3):
    train, dev = data3
    pop = Population(ARCH, [{"lr": 0.01, "seed": 0}, {"lr": 0.01, "seed": 1}])
    PopulationTrainer(pop, batch_size=32).fit(train, dev, epochs=1)
    pop.status[1] = "completed"  # the word written before one vocabulary
    trainer = PopulationTrainer(pop, batch_size=32)
    assert trainer.alive == [0, 1]
    trainer.fit(train, dev, epochs=2)
    assert pop.status == [Status.COMPLETE, Status.COMPLETE]
    with pytest.raises(ValueError, match="finished"):
        trainer.stop([0], status="finished")


@pytest.mark.parametrize("augment", [False, True])
def test_own_orders_are_each_members_generator_permutation(augment):
    # common_order=False: row p is what member p's standalone Trainer draws each epoch;
    # members 0 and 2 have the same shuffle seed (they share one draw), 1 and 3 the same seed
    seeds = [(0, 10), (1, None), (2, 10), (1, None)]
    members = [{"lr": 0.01, "seed": s, "shuffle_seed": sh} for s, sh in seeds]
    rngs = [np.random.default_rng(sh if sh is not None else s) for s, sh in seeds]

    def shift(X, rng):  # draws from the member's generator: a different amount per member
        return X + rng.standard_normal(1 + int(X[0, 0] > 0)).sum()

    trainer = PopulationTrainer(
        Population(ARCH, members), common_order=False, augment=shift if augment else None
    )
    for _ in range(3):  # the generators go on from epoch to epoch
        if augment:
            trainer._own_generators()
        orders = trainer._member_orders(150)
        assert orders.dtype == np.intp
        assert np.array_equal(orders, np.stack([rng.permutation(150) for rng in rngs]))
        if augment:  # each member's augment draws from its own generator only
            for k, rng in enumerate(rngs):
                X = np.full((2, 4), float(k % 2) - 0.5)
                assert np.array_equal(shift(X, trainer._shuffle_rngs[k]), shift(X, rng))
