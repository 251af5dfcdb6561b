"""Successive halving and Hyperband inside a population."""

import numpy as np
import pytest

from honed.population import Population, PopulationTrainer, hyperband, rank, successive_halving

from .conftest import standalone

ARCH = {"sizes": [4, 6, 3], "activation": "relu"}
MEMBERS = [
    {"optimizer": kind, "lr": lr, "seed": s}
    for s, (kind, lr) in enumerate(
        [
            ("adam", 0.01),
            ("adam", 0.001),
            ("gd", 0.3),
            ("momentum", 0.05),
            ("rmsprop", 0.01),
            ("adam", 0.05),
            ("gd", 0.01),
            ("adam", 0.0003),
            ("momentum", 0.3),
        ]
    )
]


def sequential_halving(train, dev, min_epochs, eta):
    """The same rule over separate standalone runs: retrain each survivor from scratch to
    the rung's epoch count (identical to continuing it, every run being deterministic)."""
    alive = list(range(len(MEMBERS)))
    kept_per_rung = []
    r = min_epochs
    while True:
        records = {}
        for k in alive:
            _, history = standalone(ARCH, MEMBERS[k], train, dev, r, 32, 0, "softmax_cross_entropy")
            records[k] = history.last
        order = rank(records)
        alive = order[: max(1, len(order) // eta)]
        kept_per_rung.append(alive)
        if len(alive) <= 1:
            return kept_per_rung
        r *= eta


def test_halving_keeps_exactly_what_a_sequential_run_keeps(data3):
    train, dev = data3
    pop = Population(ARCH, MEMBERS, dtype=np.float64)
    trainer = PopulationTrainer(pop, batch_size=32, seed=0)
    rungs = successive_halving(trainer, train, dev, min_epochs=1, eta=3)
    assert [r["epoch"] for r in rungs] == [1, 3]
    assert [r["kept"] for r in rungs] == sequential_halving(train, dev, 1, 3)
    assert pop.status.count("pruned") == len(MEMBERS) - 1
    winner = rungs[-1]["kept"][0]
    assert pop.status[winner] == "complete" and len(pop.histories[winner]) == 3
    # pruned members keep the weights of their last rung
    for k in rungs[0]["pruned"]:
        assert len(pop.histories[k]) == 1


def test_rank_orders_by_error_then_cost_then_id():
    records = {
        0: {"dev_error": 0.2, "dev_cost": 0.5},
        1: {"dev_error": 0.1, "dev_cost": 0.9},
        2: {"dev_error": 0.2, "dev_cost": 0.4},
        3: {"dev_error": float("nan"), "dev_cost": 0.1},
        4: {"dev_error": 0.2, "dev_cost": 0.4},
    }
    assert rank(records) == [1, 2, 4, 0, 3]


def test_hyperband_brackets(data3):
    train, dev = data3

    def sample(rng):
        return {"lr": float(10 ** rng.uniform(-3, -1)), "seed": int(rng.integers(1000))}

    brackets = hyperband(ARCH, sample, train, dev, max_epochs=9, eta=3, batch_size=32)
    assert [(b["s"], b["n"], b["r"]) for b in brackets] == [(2, 9, 1), (1, 5, 3), (0, 3, 9)]
    assert [len(r["kept"]) for r in brackets[0]["rungs"]] == [3, 1]
    last = brackets[-1]
    assert all(len(h) == 9 for h in last["population"].histories)  # s = 0: no halving


def test_halving_arguments():
    pop = Population(ARCH, MEMBERS[:2])
    trainer = PopulationTrainer(pop)
    with pytest.raises(ValueError, match="eta must be an int >= 2"):
        successive_halving(trainer, None, None, eta=1)
    with pytest.raises(ValueError, match="needs a dev set"):
        successive_halving(trainer, None, None)
