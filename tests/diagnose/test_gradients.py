"""Gradient checking of a real model and per-parameter gradient norms."""

import numpy as np

from honed.autograd import Tensor, softmax_cross_entropy
from honed.diagnose import gradcheck_model, gradient_norms
from honed.nn import mlp
from honed.optim import GD
from honed.train import Trainer


class _PenaltyWithoutGradient(Trainer):
    """A trainer whose backward forgets the penalty's gradient: the check must see it."""

    def backward(self, J, m):
        self.optimizer.zero_grad()
        J.backward()


def test_gradcheck_checks_the_penalty_training_uses():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(6, 4)), rng.integers(0, 2, 6)
    model = mlp([4, 5, 2], seed=0)
    broken = _PenaltyWithoutGradient(model, GD(model.parameters(), lr=0.1), l2=5.0)
    result = gradcheck_model(broken, X, y, max_per_tensor=None)
    assert result.verdict == "likely bug"
    assert result.worst.name.endswith("W")  # the penalty only touches weight matrices
    model.to(np.float32)
    assert gradcheck_model(_trainer(model, l2=5.0), X, y, max_per_tensor=None).verdict == "correct"


def _trainer(model, **kwargs):
    return Trainer(model, GD(model.parameters(), lr=0.1), **kwargs)


def test_gradcheck_model_with_dropout_and_batch_norm_is_correct_and_restores_dropout():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 5)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    model = mlp([5, 6, 3], batch_norm=True, keep_prob=0.5, seed=0)
    result = gradcheck_model(_trainer(model, l1=0.05, l2=0.1), X, y, max_per_tensor=None)
    assert result.verdict == "correct", result
    assert {t.name for t in result.tensors} == {name for name, _ in model.named_parameters()}
    dropout = [m for m in model.modules() if type(m).__name__ == "Dropout"]
    assert dropout and all(m.training for m in dropout)
    assert all(p.data.dtype == np.float64 for p in model.parameters())


def test_gradient_norms_name_every_parameter_with_a_gradient():
    rng = np.random.default_rng(1)
    model = mlp([4, 5, 2], seed=0)
    assert gradient_norms(model) == {}
    softmax_cross_entropy(
        model(Tensor(rng.normal(size=(6, 4)).astype(np.float32))), rng.integers(0, 2, 6)
    ).backward()
    norms = gradient_norms(model)
    assert set(norms) == {name for name, _ in model.named_parameters()}
    assert all(v > 0 for v in norms.values())
