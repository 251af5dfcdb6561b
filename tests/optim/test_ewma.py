import doctest
import importlib
from fractions import Fraction

import numpy as np
import pytest

from honed.optim import EWMA, ewma


def test_doctests_of_the_optim_modules_run():
    # ``honed.optim.ewma`` as an attribute is the function; the module is in sys.modules.
    for name in ("honed.optim.ewma", "honed.optim.schedules", "honed.optim"):
        result = doctest.testmod(importlib.import_module(name))
        assert result.failed == 0 and result.attempted > 0, name


def test_notes_example_exactly():
    # θ = 40, 42, 44, 46, 48, β = 0.9, V₀ = 0 -- in exact arithmetic:
    # V = 4, 7.8, 11.42, 14.878, 18.1902
    # V̂ = V / (1 - 0.9ᵗ) = 4/0.1, 7.8/0.19, 11.42/0.271, 14.878/0.3439, 18.1902/0.40951
    #   = 40, 41.0526315..., 42.1402214..., 43.2625763..., 44.4194280...
    beta, V, exact, corrected = Fraction(9, 10), Fraction(0), [], []
    for t, theta in enumerate([40, 42, 44, 46, 48], start=1):
        V = beta * V + (1 - beta) * theta
        exact.append(V)
        corrected.append(V / (1 - beta**t))
    assert [float(v) for v in exact] == pytest.approx([4, 7.8, 11.42, 14.878, 18.1902], rel=1e-15)
    series = ewma([40, 42, 44, 46, 48], beta=0.9)
    np.testing.assert_allclose(series, [float(v) for v in exact], rtol=1e-14)
    series = ewma([40, 42, 44, 46, 48], beta=0.9, bias_correction=True)
    np.testing.assert_allclose(series, [float(v) for v in corrected], rtol=1e-14)
    assert series[0] == pytest.approx(40.0) and series[1] == pytest.approx(41.05263157894737)


def test_running_average_on_arrays_and_window():
    avg = EWMA(beta=0.5)
    assert avg.effective_window == 2.0
    a = avg.update(np.array([2.0, 4.0]))
    np.testing.assert_array_equal(a, [1.0, 2.0])
    b = avg.update(np.array([2.0, 4.0]))
    np.testing.assert_array_equal(b, [1.5, 3.0])
    np.testing.assert_array_equal(a, [1.0, 2.0])  # earlier results are not overwritten
    avg.reset()
    assert avg.t == 0 and avg.value == 0.0
    series = ewma(np.ones((4, 2), dtype=np.float32), beta=0.5, bias_correction=True)
    assert series.dtype == np.float32
    np.testing.assert_allclose(series, 1.0)


def test_beta_is_validated():
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\), got 1"):
        EWMA(beta=1)
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1\), got -0.5"):
        ewma([1, 2], beta=-0.5)
