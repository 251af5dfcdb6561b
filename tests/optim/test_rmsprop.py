import math

import numpy as np
import pytest

from honed.autograd import Parameter
from honed.optim import RMSprop

from .helpers import least_squares, notes_rmsprop, quadratic_trajectory, run


def test_one_step_by_hand():
    # w = [1, -2], dW = [0.5, -1], α = 0.01, β₂ = 0.999, ε = 1e-8, s₀ = 0
    # s = 0.001·dW² = [0.00025, 0.001];  √s = [0.0158113883, 0.0316227766]
    # dW / (√s + ε) ≈ ±√1000 = ±31.6227766 without ε; ε/√s is 6.3e-7 and 3.2e-7 relative:
    #   [0.5/0.0158113983, -1/0.0316227866] = [31.6227566, -31.6227666]
    # W := W - 0.01·[31.6227566, -31.6227666] = [0.683772434, -1.683772334]
    w = Parameter(np.array([1.0, -2.0]))
    w.grad = np.array([0.5, -1.0])
    opt = RMSprop([w], lr=0.01, beta2=0.999, eps=1e-8)
    opt.step()
    np.testing.assert_allclose(opt.state[0]["s"], [0.00025, 0.001], rtol=1e-15)
    step = [0.5 / (math.sqrt(0.00025) + 1e-8), 1.0 / (math.sqrt(0.001) + 1e-8)]
    np.testing.assert_allclose(w.data, [1 - 0.01 * step[0], -2 + 0.01 * step[1]], rtol=1e-15)
    np.testing.assert_allclose(w.data, [0.683772434, -1.683772334], atol=1e-9)


def test_golden_five_steps_on_the_notes_quadratic():
    # w₀ = 0, α = 0.1: step 1: g = -10, s = 0.1, w = 0.1·10/√0.1 = √10 = 3.16227756...
    got = quadratic_trajectory(RMSprop, lr=0.1)
    golden = [
        3.1622775601683824,
        4.253683571721097,
        4.692838671099819,
        4.873377155924549,
        4.947818157991013,
    ]
    np.testing.assert_allclose(got, golden, rtol=1e-13)


def test_matches_the_notes_formula_over_50_steps():
    init, grads, _ = least_squares()
    ours = run(RMSprop, init, 50, lr=0.01, beta2=0.9, eps=1e-6)
    ref = notes_rmsprop(init, grads, 50, lr=0.01, beta2=0.9, eps=1e-6)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


@pytest.mark.parametrize("beta2, eps", [(0.999, 1e-8), (0.9, 1e-3)])
def test_matches_torch_rmsprop_over_50_steps(beta2, eps):
    torch = pytest.importorskip("torch")
    init, grads, _ = least_squares()
    ours = run(RMSprop, init, 50, lr=0.01, beta2=beta2, eps=eps)
    tp = [torch.tensor(v, requires_grad=True) for v in init]
    opt = torch.optim.RMSprop(tp, lr=0.01, alpha=beta2, eps=eps)
    for _ in range(50):
        for p, g in zip(tp, grads([p.detach().numpy() for p in tp])):
            p.grad = torch.from_numpy(g)
        opt.step()
    for a, b in zip(ours, tp):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=0)
