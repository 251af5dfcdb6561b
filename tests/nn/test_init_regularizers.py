import numpy as np
import pytest

import honed.nn as nn
from honed.nn import init


@pytest.mark.parametrize(
    "name, std",
    [
        ("xavier", lambda n_in, n_out: np.sqrt(1 / n_in)),
        ("glorot", lambda n_in, n_out: np.sqrt(2 / (n_in + n_out))),
        ("he", lambda n_in, n_out: np.sqrt(2 / n_in)),
        ("normal", lambda n_in, n_out: 1.0),
    ],
)
@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_empirical_std_matches_formula(name, std, scale):
    n_in, n_out = 400, 300
    W = init.get_initializer(name)(n_in, n_out, np.random.default_rng(0), scale=scale)
    assert W.shape == (n_in, n_out) and W.dtype == np.float32
    # 120 000 draws: the sample std is within ~0.5 % of σ
    assert W.std() == pytest.approx(scale * std(n_in, n_out), rel=0.01)
    assert abs(W.mean()) < 0.01 * scale * std(n_in, n_out) * 10


def test_zeros_uniform_and_errors():
    assert not init.zeros(3, 4).any()
    U = init.uniform(200, 200, rng=0, scale=0.5)
    assert U.min() >= -0.5 and U.max() < 0.5
    assert U.std() == pytest.approx(1 / np.sqrt(12), rel=0.02)  # (high−low)/√12 = 1/√12
    with pytest.raises(ValueError, match="known: .*glorot.*he"):
        init.get_initializer("bogus")
    assert init.get_initializer(init.he) is init.he


def test_dense_takes_initializer_by_name_or_callable_and_is_seeded():
    a = nn.Dense(50, 40, init="he", rng=3)
    b = nn.Dense(50, 40, init=init.he, rng=3)
    np.testing.assert_array_equal(a.W.data, b.W.data)
    custom = nn.Dense(
        2, 3, init=lambda n_in, n_out, rng, scale: np.full((n_in, n_out), scale), scale=0.25
    )
    np.testing.assert_array_equal(custom.W.data, 0.25)
    assert nn.Dense(50, 40, init="normal", scale=0.01, rng=0).W.data.std() == pytest.approx(
        0.01, rel=0.05
    )


# -- regularization -------------------------------------------------------------------------
def _model():
    return nn.Sequential(nn.Dense(3, 4, rng=0), nn.BatchNorm(4), nn.Tanh(), nn.Dense(4, 2, rng=1))


def test_penalty_only_on_weights():
    model = _model()
    W1, W2 = model[0].W.data, model[3].W.data
    l2 = model.penalty(l2=0.3, m=10).item()
    assert l2 == pytest.approx(0.3 / 20 * ((W1**2).sum() + (W2**2).sum()), rel=1e-6)
    l1 = model.penalty(l1=0.3, m=10).item()
    assert l1 == pytest.approx(0.3 / 10 * (np.abs(W1).sum() + np.abs(W2).sum()), rel=1e-6)
    both = model.penalty(l1=0.3, l2=0.3, m=10).item()
    assert both == pytest.approx(l1 + l2, rel=1e-6)
    weights = [w for _, w in model.named_weights()]
    assert nn.elastic_net(weights, 0.3, 0.3, 10).item() == pytest.approx(both, rel=1e-6)
    model.penalty(l2=1.0, m=4).backward()
    assert model[1].gamma.grad is None and model[3].b.grad is None  # not penalized


def test_zero_penalty_is_a_cheap_constant():
    p = _model().penalty()
    assert p.item() == 0 and not p.requires_grad
    with pytest.raises(ValueError, match="m "):
        _model().penalty(l2=0.1)
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        _model().penalty(l2=-1, m=3)


def test_l2_gradient_step_is_weight_decay():
    """One GD step on J = loss + λ/(2m)‖W‖²: W_new = (1 − αλ/m)·W − α·dW_loss."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)), rng.integers(0, 2, 8)
    model = nn.Sequential(nn.Dense(3, 2, rng=0)).to(np.float64)
    W = model[0].W
    lr, lam, m = 0.5, 0.8, len(x)

    nn.softmax_cross_entropy(model(x), y).backward()
    dW_loss = W.grad.copy()
    model.zero_grad()

    W0 = W.data.copy()
    J = nn.softmax_cross_entropy(model(x), y) + model.penalty(l2=lam, m=m)
    J.backward()
    W.data -= lr * W.grad  # the step, by hand
    np.testing.assert_allclose(W.data, (1 - lr * lam / m) * W0 - lr * dW_loss, rtol=1e-12)


@pytest.mark.parametrize("l1, l2", [(0.0, 0.7), (0.4, 0.0), (0.4, 0.7)])
def test_weight_penalty_outside_the_graph_matches_the_graph(l1, l2):
    """WeightPenalty (the Trainer's path) gives the graph's value and gradients."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)
    graph, fast = _model().to(np.float64), _model().to(np.float64)
    J = nn.softmax_cross_entropy(graph(x), y) + graph.penalty(l1=l1, l2=l2, m=6)
    J.backward()
    loss = nn.softmax_cross_entropy(fast(x), y)
    loss.backward()
    penalty = nn.WeightPenalty(fast, l1=l1, l2=l2)
    assert loss.item() + penalty.value(6) == pytest.approx(J.item(), rel=1e-14)
    penalty.add_gradient(6)
    for (name, g), (_, f) in zip(graph.named_parameters(), fast.named_parameters()):
        np.testing.assert_allclose(f.grad, g.grad, rtol=1e-13, atol=1e-15, err_msg=name)


def test_weight_penalty_float32_l2_is_bit_identical_and_reaches_unused_weights():
    model = _model()
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    graph = _model()
    (graph(x).sum() + graph.penalty(l2=0.3, m=5)).backward()
    model(x).sum().backward()
    nn.WeightPenalty(model, l2=0.3).add_gradient(5)
    np.testing.assert_array_equal(model[0].W.grad, graph[0].W.grad)
    alone = nn.Dense(2, 2, rng=0)  # never used by the loss: its gradient is the penalty's
    nn.WeightPenalty([alone.W], l2=0.3).add_gradient(5)
    np.testing.assert_allclose(alone.W.grad, alone.W.data * 0.3 / 5, rtol=1e-6)
    with pytest.raises(ValueError, match="l1 must be >= 0"):
        nn.WeightPenalty(model, l1=-1)
    with pytest.raises(ValueError, match="m "):
        nn.WeightPenalty(model, l2=1).value(0)
