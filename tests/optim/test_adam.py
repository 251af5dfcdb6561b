import numpy as np
import pytest

from honed.autograd import Parameter
from honed.optim import Adam

from .helpers import least_squares, notes_adam, python_adam_quadratic, quadratic_trajectory, run


def test_one_step_by_hand():
    # w = [1, -2], dW = [0.5, -1], α = 0.1, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, t = 1
    # v = 0.1·dW = [0.05, -0.1]         v̂ = v / (1 - 0.9)   = dW
    # s = 0.001·dW² = [0.00025, 0.001]  ŝ = s / (1 - 0.999) = dW² = [0.25, 1]
    # v̂ / (√ŝ + ε) = [0.5/0.50000001, -1/1.00000001] ≈ [0.99999998, -0.99999999]
    # W := W - 0.1·that = [0.900000002, -1.900000001]  (the first Adam step is ≈ α·sign(dW))
    w = Parameter(np.array([1.0, -2.0]))
    w.grad = np.array([0.5, -1.0])
    opt = Adam([w], lr=0.1)
    opt.step()
    v, s = opt.moments(0)
    np.testing.assert_allclose(v, [0.05, -0.1], rtol=1e-15)
    np.testing.assert_allclose(s, [0.00025, 0.001], rtol=1e-15)
    expected = [1 - 0.1 * 0.5 / (0.5 + 1e-8), -2 + 0.1 * 1.0 / (1.0 + 1e-8)]
    np.testing.assert_allclose(w.data, expected, rtol=1e-15)
    np.testing.assert_allclose(w.data, [0.900000002, -1.900000001], atol=1e-9)


def test_golden_five_steps_on_the_notes_quadratic():
    # w₀ = 0, α = 0.1: every early step is ≈ α because v̂/√ŝ ≈ 1 while the gradient keeps
    # its sign: 0.0999999999, 0.1999422431, 0.2997867087, 0.3994923260, 0.4990170522
    golden = [
        0.0999999999,
        0.19994224313114334,
        0.2997867086666086,
        0.3994923260369382,
        0.49901705218129155,
    ]
    np.testing.assert_allclose(python_adam_quadratic(5, 0.1), golden, rtol=1e-14)
    got = quadratic_trajectory(Adam, lr=0.1)
    np.testing.assert_allclose(got, golden, rtol=1e-13)


def test_matches_the_notes_formula_over_50_steps():
    init, grads, _ = least_squares()
    ours = run(Adam, init, 50, lr=0.01)
    ref = notes_adam(init, grads, 50, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


@pytest.mark.parametrize("kwargs", [{}, {"beta1": 0.5, "beta2": 0.9, "eps": 1e-3}])
def test_matches_torch_adam_over_50_steps(kwargs):
    torch = pytest.importorskip("torch")
    init, grads, _ = least_squares()
    ours = run(Adam, init, 50, lr=0.01, **kwargs)
    torch_kwargs = {}
    if kwargs:
        torch_kwargs = {"betas": (kwargs["beta1"], kwargs["beta2"]), "eps": kwargs["eps"]}
    tp = [torch.tensor(v, requires_grad=True) for v in init]
    opt = torch.optim.Adam(tp, lr=0.01, **torch_kwargs)
    for _ in range(50):
        for p, g in zip(tp, grads([p.detach().numpy() for p in tp])):
            p.grad = torch.from_numpy(g)
        opt.step()
    for a, b in zip(ours, tp):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=0)


def test_float32_stays_float32_and_updates_in_place():
    w = Parameter(np.ones((3, 4), dtype=np.float32))
    buffer = w.data
    w.grad = np.full((3, 4), 0.5, dtype=np.float32)
    opt = Adam([w], lr=0.1)
    opt.step()
    assert w.data is buffer and w.data.dtype == np.float32
    assert all(a.dtype == np.float32 for a in opt.state[0].values() if isinstance(a, np.ndarray))
    np.testing.assert_allclose(w.data, 0.9, rtol=1e-6)
