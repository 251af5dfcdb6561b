"""The optional numba kernel of the population's update: the NumPy path's numbers, bit for
bit, on every optimizer kind, dtype and region of the buffer, after pruning and PBT's copies;
and how the kernel is chosen."""

import numpy as np
import pytest

from honed.optim import kernels
from honed.population import Population, PopulationTrainer, pbt, successive_halving

from .test_equivalence import ARCH, MEMBERS

numba = pytest.importorskip("numba", reason="the accel extra (numba) is part of make test")


@pytest.fixture(autouse=True)
def compiled_at_any_size(monkeypatch):
    """These populations are tiny: let the kernel run on them (by default it starts at
    ``COMPILED_FROM`` numbers) and count its calls."""
    from honed.population.optim import PopulationOptimizer

    monkeypatch.setattr(PopulationOptimizer, "COMPILED_FROM", 0)
    calls = []
    real = kernels.fused_update
    monkeypatch.setattr(kernels, "fused_update", lambda *a: calls.append(1) or real(*a))
    return calls


def _train(kernel, members, arch=ARCH, dtype=np.float64, epochs=3, data=None, **kw):
    pop = Population(arch, [dict(m) for m in members], dtype=dtype)
    trainer = PopulationTrainer(pop, batch_size=32, seed=7, kernels=kernel, **kw)
    trainer.fit(*data, epochs=epochs)
    return pop, trainer


def _assert_same_states(a, b):
    assert a.status == b.status
    for k in range(len(a.members)):
        sa, sb = a.member(k).state_dict(), b.member(k).state_dict()
        for name in sa:
            assert np.array_equal(sa[name], sb[name]), (k, name)
        assert [e["dev_cost"] for e in a.histories[k].epochs] == [
            e["dev_cost"] for e in b.histories[k].epochs
        ]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mixed_optimizers_are_bitwise_the_numpy_path(data3, dtype, compiled_at_any_size):
    """Adam (with a schedule), Momentum, RMSprop and GD in one population; batch norm,
    dropout, L1, L2: the wide first layer and the (P, R) rest both go through the kernel."""
    a, ta = _train("numpy", MEMBERS, dtype=dtype, data=data3)
    assert not compiled_at_any_size
    b, tb = _train("numba", MEMBERS, dtype=dtype, data=data3)
    assert ta.optimizer.kernels == "numpy" and tb.optimizer.kernels == "numba"
    assert len(compiled_at_any_size) == 3 * 5  # 3 epochs of 5 mini-batches (150 rows / 32)
    _assert_same_states(a, b)


def test_small_populations_keep_the_numpy_update(data3, monkeypatch, compiled_at_any_size):
    """Below COMPILED_FROM numbers numba's call costs what it saves: NumPy's path runs."""
    from honed.population.optim import PopulationOptimizer

    monkeypatch.setattr(PopulationOptimizer, "COMPILED_FROM", PopulationOptimizer.GATHER_LIMIT)
    _, trainer = _train("numba", MEMBERS, data=data3, epochs=1)
    assert trainer.optimizer.kernels == "numba" and not compiled_at_any_size


def test_without_a_second_moment_is_bitwise_the_numpy_path(data3):
    """Only GD and Momentum: the kernel's branch that keeps no ``s``."""
    members = [m for m in MEMBERS if m["optimizer"] in ("gd", "momentum")]
    a, ta = _train("numpy", members, data=data3)
    b, _ = _train("numba", members, data=data3)
    assert ta.optimizer.s is None
    _assert_same_states(a, b)


def test_halving_and_pbt_are_bitwise_the_numpy_path(data3):
    """Pruning slices the optimizer state and PBT copies it (and may switch a member to a
    kind that needs ``s``): the kernel's layout follows."""
    train, dev = data3
    members = [{"optimizer": "gd", "lr": float(lr), "seed": k} for k, lr in enumerate([0.3, 0.1])]
    members += [{"lr": float(lr), "seed": k + 2} for k, lr in enumerate(np.geomspace(1e-3, 0.1, 6))]
    space = {"lr": {"low": 1e-4, "high": 0.5, "scale": "log"}}
    runs = []
    for kernel in ("numpy", "numba"):
        pop = Population(ARCH, [dict(m) for m in members], dtype=np.float64)
        trainer = PopulationTrainer(pop, batch_size=32, seed=0, kernels=kernel)
        lineage = pbt(trainer, train, dev, epochs=4, ready=2, fraction=0.25, space=space, seed=3)
        rungs = successive_halving(trainer, train, dev, min_epochs=1, eta=2, max_epochs=8)
        runs.append((pop, lineage, rungs))
    (a, lin_a, rungs_a), (b, lin_b, rungs_b) = runs
    assert lin_a == lin_b and rungs_a == rungs_b and len(lin_a) > 0
    assert any(r["pruned"] for r in rungs_a)
    _assert_same_states(a, b)


def test_without_numba_the_trainer_refuses_numba(monkeypatch):
    """(kernels.resolve itself: tests/optim/test_kernels.py)"""
    monkeypatch.setattr(kernels, "numba", None)
    pop = Population(ARCH, [dict(MEMBERS[0])], dtype=np.float64)
    with pytest.raises(ValueError, match="needs numba"):
        PopulationTrainer(pop, kernels="numba")
