"""Driver for tests/tune/test_ray_cluster.py: runs one honed study and prints its trials.

    python ray_cluster_driver.py STUDY_FILE N_TRIALS EXECUTOR MARKER_DIR

EXECUTOR is ``ray`` (joins the cluster named by $RAY_ADDRESS, as ``honed tune`` does) or
``inprocess`` (the local reference).  Run as a script in its own process so that Ray's
process-wide state (its config, read when ray is imported, and the auth token it caches)
never leaks into the pytest process.
"""

import functools
import json
import os
import sys
import time
from pathlib import Path

from honed.tune import InProcessExecutor, make_executor, optimize

SPACE = {"lr": {"log": [1e-4, 1e-1]}, "width": {"int": [1, 64]}}
HANG_LIMIT_S = 120  # the test kills the node long before; this only bounds a broken run


def objective(trial, markers, on_ray):
    """A deterministic function of the trial's parameters and seed, wherever it runs.

    On the node started with HONED_RAY_TEST_NODE=second, the first trial finishes and
    every later one announces itself in ``markers`` (``hang-NUMBER`` holding the worker's
    pid) and waits for the test to kill that node, so the kill lands while a trial is
    running there.  Defined in ``__main__``: cloudpickle ships it to the workers by value.
    """
    import numpy as np

    marker = Path(markers)
    node = ""
    if on_ray:
        import ray

        node = ray.get_runtime_context().get_node_id()
    trial.set_user_attr("node", node)
    rng = np.random.default_rng(trial.seed)
    value = float(np.log10(trial.params["lr"]) ** 2 / trial.params["width"])
    value += 0.01 * float(rng.standard_normal())
    for epoch in (1, 2, 3):  # per-epoch values travel to the study through the driver
        trial.report(epoch, value + 1.0 / epoch)
    if os.environ.get("HONED_RAY_TEST_NODE") == "second":
        if any(marker.glob("second-done-*")):
            (marker / f"hang-{trial.number}").write_text(str(os.getpid()))
            deadline = time.monotonic() + HANG_LIMIT_S
            while time.monotonic() < deadline:
                time.sleep(0.1)
            raise RuntimeError(f"the second node was not killed within {HANG_LIMIT_S} s")
        (marker / f"second-done-{trial.number}").write_text(str(os.getpid()))
    return value


def main(argv):
    path, n_trials, executor, markers = argv
    # "ray" with no address: the executor joins $RAY_ADDRESS, the way `honed tune` does.
    ex = make_executor("ray", 2) if executor == "ray" else InProcessExecutor()
    study = optimize(
        functools.partial(objective, markers=markers, on_ray=executor == "ray"),
        SPACE,
        int(n_trials),
        path,
        "cluster",
        seed=7,
        executor=ex,
        progress=False,
    )
    trials = [
        {
            "number": t.number,
            "state": str(getattr(t.state, "value", t.state)),
            "params": t.params,
            "seed": t.seed,
            "value": t.value,
            "error": t.error,
            "node": t.user_attrs.get("node"),
            "intermediate": {str(k): v for k, v in sorted(t.intermediate.items())},
        }
        for t in study.trials
    ]
    info = {"trials": trials, "resubmitted": getattr(ex, "resubmitted", 0)}
    if executor == "ray":
        info["address"], info["driver_node"] = (
            ex.address,
            ex.ray.get_runtime_context().get_node_id(),
        )
    print("RESULT " + json.dumps(info), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
