"""Forward and backward of each op against PyTorch in float64 (relative 1e-10)."""

import numpy as np
import pytest

import honed.autograd as ag

from .helpers import random_inputs

torch = pytest.importorskip("torch")
F = torch.nn.functional

LABELS = np.array([0, 2, 1, 2])

# name: (honed op, torch op, input shapes, random_inputs options)
CASES = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [(4, 3), (3,)], {}),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [(4, 3), (4, 1)], {}),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [(4, 3), (3,)], {}),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [(4, 3), (3,)], {"low": 0.5, "high": 2}),
    "pow": (lambda a, b: a**b, lambda a, b: a**b, [(4, 3), (4, 3)], {"low": 0.5, "high": 2}),
    "neg": (lambda a: -a, lambda a: -a, [(4, 3)], {}),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [(4, 3), (3, 5)], {}),
    "sum": (lambda a: a.sum(axis=0), lambda a: a.sum(dim=0), [(4, 3)], {}),
    "mean": (
        lambda a: a.mean(axis=1, keepdims=True),
        lambda a: a.mean(dim=1, keepdim=True),
        [(4, 3)],
        {},
    ),
    "reshape": (lambda a: a.reshape(3, 4), lambda a: a.reshape(3, 4), [(4, 3)], {}),
    "transpose": (lambda a: a.T, lambda a: a.T, [(4, 3)], {}),
    "index": (lambda a: a[np.array([0, 0, 3])], lambda a: a[[0, 0, 3]], [(4, 3)], {}),
    "concatenate": (
        lambda a, b: ag.concatenate([a, b], 1),
        lambda a, b: torch.cat([a, b], 1),
        [(4, 3), (4, 2)],
        {},
    ),
    "exp": (ag.exp, torch.exp, [(4, 3)], {}),
    "log": (ag.log, torch.log, [(4, 3)], {"low": 0.5, "high": 3}),
    "abs": (ag.abs, torch.abs, [(4, 3)], {"away_from": 0.0}),
    "sqrt": (ag.sqrt, torch.sqrt, [(4, 3)], {"low": 0.5, "high": 3}),
    "maximum": (ag.maximum, torch.maximum, [(4, 3), (4, 3)], {}),
    "max": (lambda a: a.max(axis=1), lambda a: a.amax(dim=1), [(4, 3)], {}),
    "clip": (lambda a: ag.clip(a, -1, 1), lambda a: a.clamp(-1, 1), [(4, 3)], {"away_from": 1.0}),
    "where": (
        lambda a, b: ag.where(a.data > 0, a, b),
        lambda a, b: torch.where(a > 0, a, b),
        [(4, 3), (4, 3)],
        {},
    ),
    "sigmoid": (ag.sigmoid, torch.sigmoid, [(4, 3)], {}),
    "tanh": (ag.tanh, torch.tanh, [(4, 3)], {}),
    "relu": (ag.relu, torch.relu, [(4, 3)], {"away_from": 0.0}),
    "leaky_relu": (lambda a: ag.leaky_relu(a, 0.2), lambda a: F.leaky_relu(a, 0.2), [(4, 3)], {}),
    "elu": (lambda a: ag.elu(a, 0.5), lambda a: F.elu(a, 0.5), [(4, 3)], {}),
    "softmax": (lambda a: ag.softmax(a, 1), lambda a: torch.softmax(a, 1), [(4, 3)], {}),
    "log_softmax": (
        lambda a: ag.log_softmax(a, 0),
        lambda a: torch.log_softmax(a, 0),
        [(4, 3)],
        {},
    ),
    "softmax_ce": (
        lambda a: ag.softmax_cross_entropy(a, LABELS),
        lambda a: F.cross_entropy(a, torch.from_numpy(LABELS)),
        [(4, 3)],
        {},
    ),
    "sigmoid_ce": (
        lambda a: ag.sigmoid_cross_entropy(a, (LABELS[:, None] > 1) * 1.0),
        lambda a: F.binary_cross_entropy_with_logits(
            a, torch.from_numpy((LABELS[:, None] > 1) * 1.0)
        ),
        [(4, 1)],
        {},
    ),
    "linear": (ag.linear, lambda x, W, b: x @ W + b, [(4, 3), (3, 2), (2,)], {}),
    "batch_norm": (
        ag.batch_norm,
        lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-5),
        [(5, 3), (3,), (3,)],
        {},
    ),
    "maxout": (
        lambda a: ag.maxout(a, 2),
        lambda a: a.reshape(4, 3, 2).amax(dim=-1),
        [(4, 6)],
        {},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_forward_and_backward_match_torch(name):
    ours, theirs, shapes, options = CASES[name]
    inputs = random_inputs(shapes, seed=7, **options)
    references = [torch.tensor(p.data, dtype=torch.float64, requires_grad=True) for p in inputs]
    out = ours(*inputs)
    ref = theirs(*references)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    weights = np.random.default_rng(0).normal(size=out.shape)
    (out * weights).sum().backward()
    (ref * torch.from_numpy(weights)).sum().backward()
    for p, r in zip(inputs, references):
        np.testing.assert_allclose(p.grad, r.grad.numpy(), rtol=1e-10, atol=1e-12)
