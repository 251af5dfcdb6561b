"""Population-based training: exploit/explore, lineage, reproducibility, the figure."""

import numpy as np
import pytest

from honed.plots.lineage import plot_lineage
from honed.population import Population, PopulationTrainer, pbt
from honed.population.members import Member
from honed.population.pbt import explore

ARCH = {"sizes": [4, 6, 3], "activation": "relu"}
SPACE = {
    "lr": {"low": 1e-4, "high": 0.5, "scale": "log"},
    "beta1": {"low": 0.5, "high": 0.99},
    "l2": {"low": 0.0, "high": 1.0, "scale": "linear"},
}


def run(train, dev, seed):
    members = [
        {"lr": float(lr), "seed": k, "l2": 0.01} for k, lr in enumerate(np.geomspace(1e-4, 0.3, 8))
    ]
    pop = Population(ARCH, members, dtype=np.float64)
    trainer = PopulationTrainer(pop, batch_size=32, seed=0)
    lineage = pbt(trainer, train, dev, epochs=6, ready=2, fraction=0.25, space=SPACE, seed=seed)
    return pop, lineage


def test_pbt_is_reproducible_from_its_seed(data3):
    train, dev = data3
    pop_a, lin_a = run(train, dev, seed=5)
    pop_b, lin_b = run(train, dev, seed=5)
    assert lin_a == lin_b and len(lin_a) == 2 * 2  # 2 ready points x 2 bottom members
    for k in range(8):
        a, b = pop_a.member(k).state_dict(), pop_b.member(k).state_dict()
        assert all(np.array_equal(a[n], b[n]) for n in a)
        assert pop_a.hyperparameters(k) == pop_b.hyperparameters(k)
    _, lin_c = run(train, dev, seed=6)
    assert lin_c != lin_a


def test_exploit_copies_weights_and_optimizer_state(data3):
    train, dev = data3
    pop = Population(ARCH, [{"lr": 0.01, "seed": 0}, {"lr": 0.001, "seed": 1}], dtype=np.float64)
    trainer = PopulationTrainer(pop, batch_size=32)
    trainer.fit(train, dev, epochs=2)
    trainer.copy_member(1, 0)
    opt = trainer.optimizer
    for p in trainer.model.parameters():
        assert np.array_equal(p.data[0], p.data[1])
    assert opt.t[0] == opt.t[1] > 0
    for state in (opt.v, opt.s):  # the joined (P, R) moments
        assert np.array_equal(state[0], state[1])
    assert pop.members[1].lr == 0.01
    # the copy then trains as the original would: one more epoch keeps them equal (no
    # dropout, common batches)
    trainer.fit(train, dev, epochs=3)
    assert np.array_equal(trainer.optimizer.buffer[0], trainer.optimizer.buffer[1])


def test_explore_perturbs_on_each_scale_and_clips():
    member = Member.from_dict({"lr": 0.4, "beta1": 0.9, "l2": 0.5}, n_hidden=1)
    rng = np.random.default_rng(0)
    seen_lr, seen_beta = set(), set()
    for _ in range(40):
        m = Member.from_dict({"lr": 0.4, "beta1": 0.9, "l2": 0.5}, n_hidden=1)
        explore(m, _space(), rng, resample_probability=0.0)
        seen_lr.add(round(m.lr, 12))
        seen_beta.add(round(m.beta1, 12))
        assert 1e-4 <= m.lr <= 0.5 and 0.5 <= m.beta1 <= 0.99
    assert seen_lr == {0.32, 0.48}
    assert seen_beta == {0.92, 0.88}  # 1 − β scaled by 0.8 / 1.2
    assert member.lr == 0.4


def _space():
    from honed.population.pbt import _check_space

    return _check_space(SPACE)


def test_lineage_figure(tmp_path, data3):
    train, dev = data3
    pop, lineage = run(train, dev, seed=1)
    path = plot_lineage(pop, lineage, tmp_path / "lineage.png")
    assert path.stat().st_size > 10_000
    assert all(e["parent"] != e["member"] for e in lineage)
    exploits = [e for h in pop.histories for e in h.events if e["event"] == "exploit"]
    assert len(exploits) == len(lineage)


def test_pbt_arguments(data3):
    train, dev = data3
    trainer = PopulationTrainer(Population(ARCH, [{}, {"seed": 1}]))
    with pytest.raises(ValueError, match="cannot be perturbed"):
        pbt(trainer, train, dev, epochs=2, space={"seed": {"low": 0, "high": 1}})
    with pytest.raises(ValueError, match="fraction"):
        pbt(trainer, train, dev, epochs=2, fraction=0.9)
    with pytest.raises(ValueError, match="log scale needs low > 0"):
        pbt(trainer, train, dev, epochs=2, space={"l2": {"low": 0, "high": 1, "scale": "log"}})


def test_dropout_switched_on_where_no_member_had_it(data3):
    """PBT may move a member's keep_prob below 1 where no member drops units: the stacked
    model gains that Dropout (optimizer state kept), the member's own model too, and the
    other members train on exactly as without the change."""
    train, dev = data3
    arch = {"sizes": [4, 6, 5, 3], "activation": "relu"}

    def run(switch):
        pop = Population(arch, [{"lr": 0.01, "seed": k} for k in range(3)], dtype=np.float64)
        trainer = PopulationTrainer(pop, batch_size=32)
        trainer.fit(train, dev, epochs=2)
        if switch:
            pop.members[1].keep_prob = [1.0, 0.7]
            trainer.refresh()
        trainer.fit(train, dev, epochs=4)
        return pop, trainer

    pop, trainer = run(True)
    same, _ = run(False)
    assert trainer.optimizer.t.tolist() == [20, 20, 20]  # 4 epochs of 5 batches, state kept
    assert pop.member(1).to_config()["keep_prob"] == [1.0, 0.7]
    assert pop.member(1).layers[4].keep_prob == 0.7
    for k in (0, 2):
        a, b = pop.member(k).state_dict(), same.member(k).state_dict()
        assert all(np.array_equal(a[n], b[n]) for n in a)
    changed = pop.member(1).state_dict()
    assert not np.array_equal(changed["layers.5.W"], same.member(1).state_dict()["layers.4.W"])
