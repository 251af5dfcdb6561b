import numpy as np
import pytest

from honed.autograd import Parameter
from honed.optim import GD

from .helpers import least_squares, quadratic_trajectory, run


def test_one_step_by_hand():
    # w = [1, -2], dW = [0.5, -1], α = 0.1
    # W := W - α dW = [1 - 0.05, -2 + 0.1] = [0.95, -1.9]
    w = Parameter(np.array([1.0, -2.0]))
    w.grad = np.array([0.5, -1.0])
    GD([w], lr=0.1).step()
    np.testing.assert_allclose(w.data, [0.95, -1.9], rtol=0, atol=1e-15)


def test_golden_five_steps_on_the_notes_quadratic():
    # J = w² - 10w + 25, dJ/dw = 2w - 10, w₀ = 0, α = 0.1: w := w - 0.1(2w - 10) = 0.8w + 1
    # 1, 1.8, 2.44, 2.952, 3.3616
    got = quadratic_trajectory(GD, lr=0.1)
    np.testing.assert_allclose(got, [1.0, 1.8, 2.44, 2.952, 3.3616], rtol=1e-14)


def test_notes_quadratic_converges_to_5():
    # The notes' TensorFlow example: GradientDescentOptimizer(0.01).minimize(cost), 1000 times.
    w = Parameter(0.0)
    opt = GD([w], lr=0.01)
    for _ in range(1000):
        opt.minimize(w**2 - 10 * w + 25)  # a fresh cost (and graph) each step
    assert w.data.dtype == np.float32
    assert float(w.data) == pytest.approx(5.0, abs=1e-4)


def test_matches_torch_sgd_over_50_steps():
    torch = pytest.importorskip("torch")
    init, grads, _ = least_squares()
    ours = run(GD, init, 50, lr=0.05)
    tp = [torch.tensor(v, requires_grad=True) for v in init]
    opt = torch.optim.SGD(tp, lr=0.05)
    for _ in range(50):
        for p, g in zip(tp, grads([p.detach().numpy() for p in tp])):
            p.grad = torch.from_numpy(g)
        opt.step()
    for a, b in zip(ours, tp):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=0)
