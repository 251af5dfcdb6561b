"""How the optimizer kernel is chosen: ``kernels=`` or ``HONED_KERNELS``, numba when installed.

(Bit-for-bit equality of the numba kernel with the NumPy path:
tests/optim/test_member_optimizer.py.)"""

import numpy as np
import pytest

from honed.autograd import Parameter
from honed.optim import MemberOptimizer, kernels

pytest.importorskip("numba", reason="the accel extra (numba) is part of make test")


def test_resolve_chooses_and_names_bad_values(monkeypatch):
    monkeypatch.delenv("HONED_KERNELS", raising=False)
    assert kernels.resolve() == "numba" and kernels.resolve("NumPy") == "numpy"
    monkeypatch.setenv("HONED_KERNELS", "numpy")
    assert kernels.resolve() == "numpy" and kernels.resolve("numba") == "numba"
    with pytest.raises(ValueError, match=r"kernels must be one of auto, numpy, numba, got 'c'"):
        kernels.resolve("c")
    monkeypatch.setenv("HONED_KERNELS", "fortran")
    with pytest.raises(ValueError, match=r"HONED_KERNELS must be one of .* got 'fortran'"):
        kernels.resolve()


def test_without_numba_auto_is_numpy_and_numba_is_refused(monkeypatch):
    monkeypatch.setattr(kernels, "numba", None)
    monkeypatch.delenv("HONED_KERNELS", raising=False)
    assert kernels.resolve() == "numpy" and not kernels.available()
    with pytest.raises(ValueError, match=r"^kernels 'numba' needs numba.*honed\[accel\]"):
        kernels.resolve("numba")
    monkeypatch.setenv("HONED_KERNELS", "numba")
    with pytest.raises(ValueError, match=r"^HONED_KERNELS 'numba' needs numba"):
        kernels.resolve()
    monkeypatch.delenv("HONED_KERNELS")
    with pytest.raises(ValueError, match="needs numba"):
        MemberOptimizer([Parameter(np.zeros((1, 2)))], [{"optimizer": "gd"}], kernels="numba")
    auto = MemberOptimizer([Parameter(np.zeros((1, 2)))], [{"optimizer": "gd"}])
    assert auto.kernels == "numpy"


def test_the_environment_chooses_unless_the_argument_does(monkeypatch):
    param = Parameter(np.zeros((1, 2)))
    monkeypatch.setenv("HONED_KERNELS", "numpy")
    assert MemberOptimizer([param], [{"optimizer": "gd"}]).kernels == "numpy"
    assert MemberOptimizer([param], [{"optimizer": "gd"}], kernels="numba").kernels == "numba"
    monkeypatch.setenv("HONED_KERNELS", "auto")
    assert MemberOptimizer([param], [{"optimizer": "gd"}]).kernels == "numba"
