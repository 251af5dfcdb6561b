import numpy as np
import pytest

import honed.nn as nn
from honed.autograd import no_grad


def test_mlp_structure_and_defaults():
    m = nn.mlp([6, 8, 5, 3], batch_norm=True, keep_prob=[0.9, 1.0])
    kinds = [type(layer).__name__ for layer in m]
    assert kinds == ["Dense", "BatchNorm", "ReLU", "Dropout", "Dense", "BatchNorm", "ReLU", "Dense"]
    assert m[0].b is None and m[-1].b is not None
    assert m[0].init == "he"
    assert nn.mlp([4, 3, 2], activation="tanh")[0].init == "xavier"
    with pytest.raises(ValueError, match="keep_prob has 1 entries"):
        nn.mlp([4, 3, 3, 2], keep_prob=[0.5])
    with pytest.raises(ValueError, match="keep_prob must be in"):
        nn.mlp([4, 3, 2], keep_prob=0)
    # same seed, same weights
    np.testing.assert_array_equal(
        nn.mlp([4, 3, 2], seed=1)[0].W.data, nn.mlp([4, 3, 2], seed=1)[0].W.data
    )


def test_mlp_predict_helpers():
    m = nn.mlp([4, 5, 3], output="softmax", seed=0)
    x = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    probs = m.predict_proba(x)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(m.predict(x), probs.argmax(axis=1))
    assert m.training  # predict does not leave the model in eval mode


def _trained(model, x, y, steps=3):
    params = model.parameters()
    for _ in range(steps):
        model.zero_grad()
        nn.softmax_cross_entropy(model(x), y).backward()
        for p in params:
            p.data -= 0.1 * p.grad
    return model


@pytest.mark.parametrize(
    "build",
    [
        lambda: nn.mlp([5, 8, 8, 3], batch_norm=True, keep_prob=0.7, output="softmax", seed=3),
        lambda: nn.Sequential(
            nn.Flatten(),
            nn.Dense(5, 6, init="glorot", rng=0),
            nn.BatchNorm(6),
            nn.LeakyReLU(0.2),
            nn.Maxout(6, 4, pieces=3, rng=1),
            nn.ELU(0.5),
            nn.Dropout(0.5),
            nn.Dense(4, 3, rng=2),
        ),
    ],
)
def test_save_load_round_trip_identical_predictions(tmp_path, build):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 5)).astype(np.float32), rng.integers(0, 3, 16)
    model = _trained(build(), x, y).eval()
    path = tmp_path / "model.npz"
    nn.save(model, path)
    loaded = nn.load(path)
    assert type(loaded) is type(model) and not loaded.training
    assert repr(loaded) == repr(model)
    with no_grad():
        np.testing.assert_array_equal(loaded(x).data, model(x).data)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[k], v)
        assert loaded.state_dict()[k].dtype == v.dtype


def test_float64_model_round_trip(tmp_path):
    model = nn.mlp([3, 4, 2]).to(np.float64)
    nn.save(model, tmp_path / "m64.npz")
    assert nn.load(tmp_path / "m64.npz")[0].W.data.dtype == np.float64


def test_load_into_same_architecture(tmp_path):
    model = nn.mlp([4, 6, 2], batch_norm=True, seed=0)
    nn.save(model, tmp_path / "a.npz")
    other = nn.mlp([4, 6, 2], batch_norm=True, seed=99)  # other seed: same architecture
    nn.load_into(other, tmp_path / "a.npz")
    np.testing.assert_array_equal(other[0].W.data, model[0].W.data)


def test_mismatched_architecture_names_the_layer(tmp_path):
    nn.save(nn.mlp([4, 6, 2], seed=0), tmp_path / "a.npz")
    with pytest.raises(ValueError, match=r"layer 'layers\.2'.*Dense\(6, 3"):
        nn.load_into(nn.mlp([4, 6, 3], seed=0), tmp_path / "a.npz")
    with pytest.raises(ValueError, match=r"layer 'layers\.1'.*Tanh"):
        nn.load_into(nn.mlp([4, 6, 2], activation="tanh"), tmp_path / "a.npz")
    with pytest.raises(ValueError, match=r"extra layers starting at 'layers\.3'"):
        nn.load_into(
            nn.Sequential(nn.Dense(4, 6), nn.ReLU(), nn.Dense(6, 2), nn.ReLU()), tmp_path / "a.npz"
        )
    # load_state_dict on a mismatched model names the layer too
    state = nn.load(tmp_path / "a.npz").state_dict()
    with pytest.raises(ValueError, match=r"layers\.2\.W in layer 'layers\.2' \(Dense\(6, 3"):
        nn.mlp([4, 6, 3]).load_state_dict(state)


def test_custom_module_is_saveable_when_its_class_is_known(tmp_path):
    class Scaled(nn.Module):
        def __init__(self, n: int, factor: float = 2.0):
            super().__init__()
            self.n, self.factor = n, factor
            self.inner = nn.Dense(n, n, rng=0)

        def forward(self, x):
            return self.inner(x) * self.factor

        def to_config(self):
            return {"n": self.n, "factor": self.factor}

    model = Scaled(3, 0.5)
    nn.save(model, tmp_path / "s.npz")
    loaded = nn.load(tmp_path / "s.npz")
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(loaded(x).data, model(x).data)


def test_not_a_model_file(tmp_path):
    np.savez(tmp_path / "x.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="not a honed model file"):
        nn.load(tmp_path / "x.npz")
