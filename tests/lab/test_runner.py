import numpy as np

from honed.data import moons
from honed.lab.runner import BINARY_LOSS, Spec, train_variants


def _data(seed):
    train, test = moons(60, noise=0.2, seed=seed, test_samples=40)
    return {"train": train, "test": test}


def test_train_variants_gives_one_run_per_spec_and_seed():
    specs = [
        Spec("gd", [2, 4, 1], lr=0.5, epochs=5),
        Spec("adam", [2, 4, 1], optimizer="adam", lr=0.01, epochs=3),
    ]
    out = train_variants(specs, [0, 1, 2], _data)
    assert list(out) == ["gd", "adam"]
    assert [r.seed for r in out["gd"]] == [0, 1, 2]
    assert len(out["adam"][0].history) == 3
    assert set(out["gd"][0].errors) == {"train", "test"}
    assert out["gd"][0].spec.loss == BINARY_LOSS == "sigmoid_cross_entropy"


def test_same_seed_same_result_and_full_batch_by_default():
    spec = Spec("a", [2, 4, 1], lr=0.5, epochs=4)
    a = train_variants([spec], [7], _data)["a"][0]
    b = train_variants([spec], [7], _data)["a"][0]
    c = train_variants([spec], [8], _data)["a"][0]
    assert np.array_equal(a.column("train_cost"), b.column("train_cost"))
    assert not np.array_equal(a.column("train_cost"), c.column("train_cost"))
    # one mini-batch per epoch: full-batch gradient descent
    assert a.batch_size == 60 and len(a.history) == 4


def test_a_diverging_run_is_reported_not_raised():
    spec = Spec("huge", [2, 8, 1], init="normal", scale=30.0, lr=1e6, epochs=50)
    run = train_variants([spec], [0], _data)["huge"][0]
    assert run.status == "diverged" and np.isnan(run.errors["test"])


def test_dev_set_gives_a_dev_curve():
    run = train_variants([Spec("a", [2, 4, 1], lr=0.5, epochs=3)], [0], _data, dev="test")["a"][0]
    assert np.isfinite(run.column("dev_error")).all()


def _mixed_specs(epochs=6):
    """Variants of one architecture with mixed optimizers, keep_prob, L2, init and schedules,
    plus one of another architecture (batch norm, tanh) and one on the Trainer path."""
    from honed.optim import inverse_time

    sizes = [2, 6, 4, 1]
    return [
        Spec("gd zeros→normal", sizes, lr=0.3, epochs=epochs, init="normal", scale=2.0),
        Spec("gd full", sizes, lr=0.3, epochs=epochs),
        Spec(
            "momentum + L2",
            sizes,
            optimizer="momentum",
            optimizer_args={"beta": 0.8},
            lr=0.1,
            epochs=epochs,
            batch_size=16,
            l2=0.5,
        ),
        Spec(
            "adam + dropout",
            sizes,
            optimizer="adam",
            optimizer_args={"beta1": 0.85, "eps": 1e-7},
            lr=0.01,
            epochs=epochs,
            batch_size=16,
            keep_prob=0.7,
        ),
        Spec(
            "rmsprop decay + dropout + L2",
            sizes,
            optimizer="rmsprop",
            lr=inverse_time(0.01, 0.5),
            epochs=epochs,
            batch_size=16,
            keep_prob=0.8,
            l2=0.2,
        ),
        Spec(
            "bn tanh adam",
            sizes,
            activation="tanh",
            batch_norm=True,
            optimizer="adam",
            lr=0.01,
            epochs=epochs,
            batch_size=16,
        ),
        # identity is no population activation: this one goes the Trainer path
        Spec("identity", sizes, activation="identity", lr=0.3, epochs=epochs, batch_size=16),
    ]


def _assert_same(a, b, rtol):
    assert list(a) == list(b)
    for name in a:
        assert [r.seed for r in a[name]] == [r.seed for r in b[name]]
        for ra, rb in zip(a[name], b[name]):
            assert ra.status == rb.status and ra.batch_size == rb.batch_size
            sa, sb = ra.model.state_dict(), rb.model.state_dict()
            assert sa.keys() == sb.keys()
            for key in sa:
                scale = np.max(np.abs(sb[key])) + 1e-30
                assert np.max(np.abs(sa[key] - sb[key])) <= rtol * scale, (name, key)
            assert len(ra.history) == len(rb.history)
            for key in ("train_cost", "train_error", "dev_cost", "dev_error", "lr"):
                x, y = ra.column(key), rb.column(key)
                np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol, err_msg=f"{name} {key}")
            for key in rb.errors:
                # an error rate moves in steps of 1/m: at most one example may flip in float32
                assert abs(ra.errors[key] - rb.errors[key]) <= (0 if rtol < 1e-9 else 1 / 40)


def test_population_path_equals_the_trainer_path_float64(monkeypatch):
    """Variants × seeds as populations (per-member data, order, optimizer, keep_prob, L2,
    init) compute what one Trainer after another computes: float64, to 1e-10."""
    from honed.lab import runner

    specs = _mixed_specs()
    alone, populations = [], []
    one, many = runner._train_one, runner._train_population
    monkeypatch.setattr(
        runner, "_train_one", lambda spec, *a: alone.append(spec.name) or one(spec, *a)
    )
    monkeypatch.setattr(
        runner,
        "_train_population",
        lambda specs, *a: populations.append(len(specs)) or many(specs, *a),
    )
    a = train_variants(specs, [0, 1, 2], _data, dev="test", dtype=np.float64)
    monkeypatch.undo()
    # only the identity network goes the Trainer path; the rest are three populations across
    # variants and seeds: ReLU full batch (2 variants × 3 seeds), ReLU batches of 16 (3 × 3)
    # and batch norm with tanh (1 × 3)
    assert alone == ["identity"] * 3
    assert sorted(populations) == [3, 6, 9]
    b = train_variants(specs, [0, 1, 2], _data, dev="test", population=False, dtype=np.float64)
    _assert_same(a, b, 1e-10)


def test_population_path_equals_the_trainer_path_float32():
    specs = _mixed_specs()
    a = train_variants(specs, [3, 4], _data, dev="test")
    b = train_variants(specs, [3, 4], _data, dev="test", population=False)
    _assert_same(a, b, 1e-6)
    assert a["gd full"][0].model.parameters()[0].data.dtype == np.float32


def test_population_path_shared_data_and_one_seed():
    """A dict of data (the same sets for every seed) and a single seed (one common order)."""
    specs = _mixed_specs(4)[:5]
    data = _data(5)
    for seeds in ([5], [5, 6]):
        a = train_variants(specs, seeds, data, dtype=np.float64)
        b = train_variants(specs, seeds, data, population=False, dtype=np.float64)
        _assert_same(a, b, 1e-10)


def test_population_path_divergence_matches_the_trainer_path():
    """A member that diverges stops at the same epoch as its Trainer run; the rest go on."""
    specs = [
        Spec("huge", [2, 8, 1], init="normal", scale=30.0, lr=1e6, epochs=50),
        Spec("fine", [2, 8, 1], lr=0.5, epochs=50),
    ]
    a = train_variants(specs, [0, 1], _data)
    b = train_variants(specs, [0, 1], _data, population=False)
    assert [r.status for r in a["huge"]] == [r.status for r in b["huge"]] == ["diverged"] * 2
    assert [len(r.history) for r in a["huge"]] == [len(r.history) for r in b["huge"]]
    assert all(np.isnan(r.errors["test"]) for r in a["huge"])
    assert a["huge"][0].history.status == "diverged"
    _assert_same({"fine": a["fine"]}, {"fine": b["fine"]}, 1e-6)
