"""honed.gradcheck: verdicts, the per-tensor report, and catching a wrong backward."""

import numpy as np
import pytest

import honed.autograd as ag
from honed.autograd import Function, Parameter, gradcheck, verdict


class WrongSquare(Function):
    """x² with a deliberately wrong derivative (x instead of 2x)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return (g * self.x,)


def test_correct_network_gets_correct_verdict():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 3))
    y = rng.integers(0, 2, size=8)
    W1 = Parameter(rng.normal(size=(3, 4)).astype(np.float32), name="W1")
    b1 = Parameter(np.zeros(4) + 0.1, name="b1")
    W2 = Parameter(rng.normal(size=(4, 2)), name="W2")
    result = gradcheck(
        lambda: ag.softmax_cross_entropy(ag.tanh(ag.linear(X, W1, b1)) @ W2, y), [W1, b1, W2]
    )
    assert result.verdict == "correct" and result.passed
    assert W1.data.dtype == np.float32  # restored afterwards
    assert "W2" in repr(result) and "correct" in repr(result)


def test_wrong_backward_is_a_likely_bug_and_named():
    rng = np.random.default_rng(1)
    good = Parameter(rng.normal(size=3), name="good")
    bad = Parameter(rng.normal(size=(2, 2)), name="bad")
    result = gradcheck(lambda: (good * 2).sum() + WrongSquare.apply(bad).sum(), [good, bad])
    assert result.verdict == "likely bug"
    assert result.worst.name == "bad"
    by_name = {t.name: t for t in result.tensors}
    assert by_name["good"].verdict == "correct"
    assert "largest error in: bad" in repr(result)


def test_verdict_thresholds_of_the_notes():
    assert verdict(1e-9) == "correct"
    assert verdict(1e-6) == "check"
    assert verdict(1e-4) == "suspicious"
    assert verdict(1e-2) == "likely bug"
    assert verdict(float("nan")) == "likely bug"


def test_gradcheck_perturbs_contiguous_copies_not_broadcast_views():
    base = np.broadcast_to(np.array([1.0, 2.0]), (3, 2))
    p = Parameter(base, dtype=np.float64, name="p")
    result = gradcheck(lambda: (p * p).sum(), {"p": p})
    assert result.verdict == "correct"


def test_gradcheck_validates():
    with pytest.raises(ValueError, match="eps must be > 0"):
        gradcheck(lambda: None, [Parameter(1.0)], eps=0)
    p = Parameter(np.ones(2))
    with pytest.raises(ValueError, match="scalar"):
        gradcheck(lambda: p * 2, [p])


def test_sampled_entries_still_find_the_bug():
    rng = np.random.default_rng(2)
    # Small values keep J small: the rounding error of J/ε must stay below 1e-7 relative.
    good = Parameter(rng.normal(size=(8, 8)), name="good")
    bad = Parameter(0.1 * rng.normal(size=(30, 10)), name="bad")
    result = gradcheck(
        lambda: (good * good).sum() + WrongSquare.apply(bad).sum(), [good, bad], max_per_tensor=15
    )
    assert result.worst.name == "bad" and result.verdict == "likely bug"
    assert {t.name: t.verdict for t in result.tensors}["good"] == "correct"
    assert result.tensors[1].shape == (30, 10)
