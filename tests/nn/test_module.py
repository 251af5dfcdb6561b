import numpy as np
import pytest

import honed.nn as nn
from honed.autograd import Parameter, Tensor


class Custom(nn.Module):
    """A custom module: parameters and children found by walking attributes."""

    def __init__(self):
        super().__init__()
        self.scale = Parameter(np.ones(3, np.float32))
        self.blocks = [nn.Dense(3, 3, rng=0), nn.ReLU()]
        self.heads = {"a": nn.Dense(3, 2, rng=1), "b": nn.Dense(3, 1, rng=2)}
        self.register_buffer("count", np.zeros(1))

    def forward(self, x):
        h = x * self.scale
        for block in self.blocks:
            h = block(h)
        return self.heads["a"](h)


def test_walks_attributes_lists_and_dicts():
    m = Custom()
    names = [n for n, _ in m.named_parameters()]
    assert names == [
        "scale",
        "blocks.0.W",
        "blocks.0.b",
        "heads.a.W",
        "heads.a.b",
        "heads.b.W",
        "heads.b.b",
    ]
    assert len(m.parameters()) == 7
    assert [n for n, _ in m.named_buffers()] == ["count"]
    assert [n for n, _ in m.named_weights()] == ["blocks.0.W", "heads.a.W", "heads.b.W"]
    assert m.num_parameters() == 3 + 12 + 8 + 4


def test_shared_parameter_listed_once():
    d = nn.Dense(2, 2, rng=0)
    seq = nn.Sequential(d, nn.ReLU(), d)
    assert len(seq.parameters()) == 2


def test_train_eval_propagate_and_zero_grad():
    m = Custom()
    out = m(Tensor(np.ones((2, 3), np.float32))).sum()
    out.backward()
    assert m.blocks[0].W.grad is not None
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.eval()
    assert not m.heads["b"].training and not m.blocks[1].training
    m.train()
    assert m.heads["b"].training


def test_load_state_dict_errors_name_the_key_and_layer():
    m = Custom()
    state = m.state_dict()
    bad = dict(state)
    bad["heads.a.W"] = np.zeros((3, 5), np.float32)
    with pytest.raises(ValueError, match=r"heads\.a\.W.*'heads\.a' \(Dense\(3, 2"):
        m.load_state_dict(bad)
    missing = dict(state)
    del missing["blocks.0.b"]
    with pytest.raises(ValueError, match=r"missing keys: blocks\.0\.b"):
        m.load_state_dict(missing)
    extra = dict(state, **{"heads.c.W": np.zeros(1)})
    with pytest.raises(ValueError, match=r"unexpected keys: heads\.c\.W"):
        m.load_state_dict(extra)
    m.load_state_dict(missing, strict=False)  # non-strict loads what is there


def test_failed_load_changes_nothing():
    m = Custom()
    before = m.state_dict()
    bad = {k: v + 1 for k, v in before.items()}
    bad["heads.b.b"] = np.zeros(7)
    with pytest.raises(ValueError):
        m.load_state_dict(bad)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_keeps_model_dtype():
    m = nn.Dense(2, 2, rng=0)
    m.load_state_dict({k: v.astype(np.float64) for k, v in m.state_dict().items()})
    assert m.W.data.dtype == np.float32


def test_repr_is_a_tree():
    text = repr(nn.Sequential(nn.Dense(2, 3, rng=0), nn.Sequential(nn.ReLU(), nn.Dense(3, 1))))
    assert "Dense(2, 3, init='xavier')" in text
    assert "ReLU()" in text and text.count("Sequential(") == 2


def test_module_without_super_init_still_works():
    class Bare(nn.Module):
        def __init__(self):
            self.W = Parameter(np.ones((2, 2)))

        def forward(self, x):
            return x @ self.W

    b = Bare()
    assert b.training and len(b.parameters()) == 1
    b.eval()
    assert not b.training
    assert b.state_dict().keys() == {"W"}
