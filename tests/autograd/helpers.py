"""Shared helpers for autograd tests: a float64 gradient check of any op."""

import numpy as np

from honed.autograd import Parameter, gradcheck


def random_inputs(shapes, seed=0, low=-2.0, high=2.0, away_from=None):
    """float64 Parameters of the given shapes; values kept ≥ 0.1 away from kinks if asked."""
    rng = np.random.default_rng(seed)
    params = []
    for i, shape in enumerate(shapes):
        data = rng.uniform(low, high, size=shape)
        if away_from is not None:
            close = np.abs(data - away_from) < 0.1
            data[close] += 0.2 * np.sign(data[close] - away_from + 1e-12)
        params.append(Parameter(data, dtype=np.float64, name=f"x{i}"))
    return params


def check_op(op, *shapes, seed=0, **kwargs):
    """Gradient-check ``op(*inputs)`` weighted by a fixed random tensor so no gradient is trivial."""
    inputs = random_inputs(shapes, seed=seed, **kwargs)
    out_shape = op(*inputs).shape
    weights = np.random.default_rng(seed + 1).normal(size=out_shape)
    result = gradcheck(lambda: (op(*inputs) * weights).sum(), inputs)
    assert result.error < 1e-7, f"{result}"
    return result
