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
