import numpy as np
import pytest

from honed.autograd import Parameter
from honed.optim import Momentum

from .helpers import least_squares, notes_momentum, quadratic_trajectory, run


def test_one_step_by_hand():
    # w = [1, -2], dW = [0.5, -1], α = 0.1, β = 0.9, v₀ = 0
    # v = 0.9·0 + 0.1·[0.5, -1] = [0.05, -0.1]
    # W := W - αv = [1 - 0.005, -2 + 0.01] = [0.995, -1.99]
    w = Parameter(np.array([1.0, -2.0]))
    w.grad = np.array([0.5, -1.0])
    opt = Momentum([w], lr=0.1, beta=0.9)
    opt.step()
    np.testing.assert_allclose(opt.state[0]["v"], [0.05, -0.1], rtol=1e-15)
    np.testing.assert_allclose(w.data, [0.995, -1.99], rtol=1e-15)


def test_golden_five_steps_on_the_notes_quadratic():
    # w₀ = 0, α = 0.1, β = 0.9. Step 1: g = -10, v = -1, w = 0.1.
    # Step 2: g = -9.8, v = -0.9 - 0.98 = -1.88, w = 0.1 + 0.188 = 0.288 ...
    got = quadratic_trajectory(Momentum, lr=0.1, beta=0.9)
    np.testing.assert_allclose(got, [0.1, 0.288, 0.55144, 0.8775072, 1.253417536], rtol=1e-13)


def test_matches_the_notes_formula_over_50_steps():
    init, grads, _ = least_squares()
    ours = run(Momentum, init, 50, lr=0.05, beta=0.8)
    ref = notes_momentum(init, grads, 50, lr=0.05, beta=0.8)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def test_beta_zero_is_plain_gradient_descent():
    from honed.optim import GD

    init, _, _ = least_squares()
    for a, b in zip(run(Momentum, init, 10, lr=0.05, beta=0.0), run(GD, init, 10, lr=0.05)):
        np.testing.assert_array_equal(a, b)


def test_relation_to_torch_sgd_momentum():
    """How the notes' momentum differs from torch's, pinned down.

    Notes:          v₁ = (1-β) g₁,  v_t = β v_{t-1} + (1-β) g_t,  W -= α v_t.
    torch, no damping (SGD(momentum=β)): b_t = β b_{t-1} + g_t, b₁ = g₁, W -= α' b_t.
        Then v_t = (1-β) b_t for all t, so SGD(lr=α(1-β), momentum=β) *is* Momentum(lr=α, β).
    torch, dampening=β: b₁ = g₁ (no damping on the first step), b_t = β b_{t-1} + (1-β) g_t.
        With the same gradients b_t - v_t = β^t g₁ for all t: torch's buffer carries an
        extra, decaying copy of the first gradient, so W_torch,t = W_notes,t - α g₁ Σ_{k≤t} β^k.
    """
    torch = pytest.importorskip("torch")
    init, grads, _ = least_squares()
    lr, beta = 0.05, 0.9

    ours = run(Momentum, init, 50, lr=lr, beta=beta)
    tp = [torch.tensor(v, requires_grad=True) for v in init]
    opt = torch.optim.SGD(tp, lr=lr * (1 - beta), momentum=beta)
    for _ in range(50):
        for p, g in zip(tp, grads([p.detach().numpy() for p in tp])):
            p.grad = torch.from_numpy(g)
        opt.step()
    for a, b in zip(ours, tp):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=1e-14)

    # dampening=β, on a fixed gradient sequence (independent of the parameters).
    rng = np.random.default_rng(1)
    gs = [rng.standard_normal(4) for _ in range(20)]
    w = Parameter(np.zeros(4))
    ours_opt = Momentum([w], lr=lr, beta=beta)
    tw = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    t_opt = torch.optim.SGD([tw], lr=lr, momentum=beta, dampening=beta)
    for t, g in enumerate(gs, start=1):
        w.grad = g.copy()
        ours_opt.step()
        tw.grad = torch.from_numpy(g.copy())
        t_opt.step()
        buf = t_opt.state[tw]["momentum_buffer"].numpy()
        np.testing.assert_allclose(buf - ours_opt.state[0]["v"], beta**t * gs[0], atol=1e-13)
        shift = lr * gs[0] * sum(beta**k for k in range(1, t + 1))
        np.testing.assert_allclose(tw.detach().numpy(), w.data - shift, atol=1e-13)
