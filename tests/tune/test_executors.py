"""Every executor runs the same study and gives the same trials."""

import importlib.util
import os

import pytest

from honed.tune import (
    InProcessExecutor,
    PopulationExecutor,
    ProcessExecutor,
    SuccessiveHalvingPruner,
    limit_blas_threads,
    make_executor,
    optimize,
)
from honed.tune.synthetic import curves, flaky, seeded_noise

X = {"x": {"uniform": [-1, 1]}}
HAS_RAY = importlib.util.find_spec("ray") is not None


def _ray():
    from honed.tune import RayExecutor

    return RayExecutor(workers=2, num_cpus=2, include_dashboard=False)


EXECUTORS = {
    "inprocess": lambda: InProcessExecutor(),
    "process": lambda: ProcessExecutor(2),
    "population": lambda: PopulationExecutor(2),  # plain objectives: one by one in threads
    "ray": pytest.param(
        _ray,
        marks=pytest.mark.skipif(
            not HAS_RAY, reason="ray is not installed (pip install 'honed[ray]')"
        ),
    ),
}


def params(d):
    return [v if not isinstance(v, type(pytest.param(1))) else v for v in d.values()]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    return {
        "noise": optimize(
            seeded_noise, X, 6, d / "a.journal", executor="inprocess", progress=False
        ),
        "flaky": optimize(flaky, X, 6, d / "b.journal", executor="inprocess", progress=False),
    }


def summary(study):
    return [(t.number, t.state, t.params, t.seed, t.value, t.error) for t in study.trials]


@pytest.mark.parametrize("make", params(EXECUTORS), ids=list(EXECUTORS))
def test_executor_contract(make, tmp_path, reference):
    ex = make()
    assert ex.max_workers >= 1
    fut = ex.submit(divmod, 7, 2)
    assert fut.result(timeout=60) == (3, 1)
    for name, objective in (("noise", seeded_noise), ("flaky", flaky)):
        study = optimize(objective, X, 6, tmp_path / f"{name}.journal", executor=ex, progress=False)
        assert summary(study) == summary(reference[name])
    pruned = optimize(
        curves,
        {"x": {"uniform": [0, 1]}},
        6,
        tmp_path / "p.journal",
        executor=ex,
        pruner=SuccessiveHalvingPruner(min_trials=2),
        progress=False,
    )
    assert all(t.intermediate for t in pruned.trials)  # per-epoch values reach the study
    ex.shutdown()


def test_make_executor():
    assert isinstance(make_executor("inprocess"), InProcessExecutor)
    ex = make_executor(None, 3)
    assert isinstance(ex, ProcessExecutor) and ex.max_workers == 3
    assert ex.threads == max(1, (os.cpu_count() or 1) // 3)
    with pytest.raises(ValueError, match="workers"):
        ProcessExecutor(0)
    with pytest.raises(ValueError, match="executor"):
        make_executor("threads")


@pytest.mark.skipif(HAS_RAY, reason="ray is installed")
def test_ray_missing_says_how_to_install():
    from honed.tune import RayExecutor

    with pytest.raises(ImportError, match=r"pip install 'honed\[ray\]'"):
        RayExecutor()


def test_limit_blas_threads_sets_env(monkeypatch):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(var, "8")
    limit_blas_threads(1)
    assert os.environ["OMP_NUM_THREADS"] == "1" and os.environ["OPENBLAS_NUM_THREADS"] == "1"
    from threadpoolctl import threadpool_info

    assert all(p["num_threads"] == 1 for p in threadpool_info())
    from honed.tune import executors

    executors._limits.restore_original_limits()
