"""Dense→BatchNorm→ReLU→Dense→softmax-CE against PyTorch in float64 over 5 SGD steps."""

import numpy as np
import pytest

import honed.nn as nn

torch = pytest.importorskip("torch")

M, N_IN, H, C = 16, 5, 7, 4
LR, MOMENTUM = 0.1, 0.9


def _data():
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((M, N_IN)) * 2 + 1 for _ in range(5)]
    ys = [rng.integers(0, C, M) for _ in range(5)]
    return xs, ys


@pytest.mark.parametrize("unbiased", [True, False])
def test_matches_torch_over_five_sgd_steps(unbiased):
    ours = nn.Sequential(
        nn.Dense(N_IN, H, init="he", rng=0),
        nn.BatchNorm(H, momentum=MOMENTUM, unbiased_running_var=unbiased),
        nn.ReLU(),
        nn.Dense(H, C, rng=1),
    ).to(np.float64)
    dense1, bn, _, dense2 = ours.layers
    assert dense1.b is None

    t_lin1 = torch.nn.Linear(N_IN, H, bias=False).double()
    # PyTorch's momentum is the weight of the new batch: 1 − ours.
    t_bn = torch.nn.BatchNorm1d(H, eps=bn.eps, momentum=1 - MOMENTUM).double()
    t_lin2 = torch.nn.Linear(H, C).double()
    with torch.no_grad():
        t_lin1.weight.copy_(torch.from_numpy(dense1.W.data.T))  # torch stores (out, in)
        t_lin2.weight.copy_(torch.from_numpy(dense2.W.data.T))
        t_lin2.bias.copy_(torch.from_numpy(dense2.b.data))
    t_model = torch.nn.Sequential(t_lin1, t_bn, torch.nn.ReLU(), t_lin2)
    pairs = [
        (dense1.W, t_lin1.weight, True),
        (bn.gamma, t_bn.weight, False),
        (bn.beta, t_bn.bias, False),
        (dense2.W, t_lin2.weight, True),
        (dense2.b, t_lin2.bias, False),
    ]

    xs, ys = _data()
    biased_expected_var = np.ones(H)
    for x, y in zip(xs, ys):
        batch_var = (x @ dense1.W.data).var(axis=0)  # the σ² (1/m) BN sees at this step
        ours.zero_grad()
        J = nn.softmax_cross_entropy(ours(x), y)
        J.backward()
        t_model.zero_grad()
        tJ = torch.nn.functional.cross_entropy(t_model(torch.from_numpy(x)), torch.from_numpy(y))
        tJ.backward()
        np.testing.assert_allclose(J.item(), tJ.item(), rtol=1e-12)
        for p, tp, transposed in pairs:
            tg = tp.grad.numpy().T if transposed else tp.grad.numpy()
            np.testing.assert_allclose(p.grad, tg, rtol=1e-9, atol=1e-12)
        # plain SGD by hand on both sides
        for p, tp, _ in pairs:
            p.data -= LR * p.grad
            with torch.no_grad():
                tp -= LR * tp.grad
        biased_expected_var = MOMENTUM * biased_expected_var + (1 - MOMENTUM) * batch_var

    np.testing.assert_allclose(bn.running_mean, t_bn.running_mean.numpy(), rtol=1e-10)
    if unbiased:
        np.testing.assert_allclose(bn.running_var, t_bn.running_var.numpy(), rtol=1e-10)
    else:
        # torch keeps m/(m−1)·σ²; ours keeps σ² (1/m). Undo torch's factor on each batch's
        # contribution: running = β^5·1 + Σ (1−β)β^(5−t)·σ²_t.
        prior = MOMENTUM**5
        torch_biased = (t_bn.running_var.numpy() - prior) * (M - 1) / M + prior
        np.testing.assert_allclose(bn.running_var, torch_biased, rtol=1e-10)
        np.testing.assert_allclose(bn.running_var, biased_expected_var, rtol=1e-10)

    # eval mode uses the running statistics, as torch's eval does
    ours.eval(), t_model.eval()
    x = xs[0][:3]
    with torch.no_grad():
        t_out = t_model(torch.from_numpy(x)).numpy()
    if unbiased:
        np.testing.assert_allclose(ours(x).data, t_out, rtol=1e-10, atol=1e-12)
    else:
        assert np.abs(ours(x).data - t_out).max() < 0.1  # differs only by the m/(m−1) factor
