"""Driver for tests/tune/test_ray_cluster.py: runs one honed study and prints its trials.

    python ray_cluster_driver.py STUDY_FILE N_TRIALS EXECUTOR MARKER_DIR

EXECUTOR is ``ray`` (joins the cluster named by $RAY_ADDRESS, as ``honed tune`` does),
``ray-no-retries`` (the same with Ray's own task retries off, so that the executor's
resubmission is what re-runs a lost trial) or ``inprocess`` (the local reference).  Run as a script in its own process so that Ray's
process-wide state (its config, read when ray is imported, and the auth token it caches)
never leaks into the pytest process.
"""

import functools
import json
import os
import sys
import time
from pathlib import Path

from honed.tune import InProcessExecutor, RayExecutor, make_executor, optimize

SPACE = {"lr": {"log": [1e-4, 1e-1]}, "width": {"int": [1, 64]}}
HANG_LIMIT_S = 120  # the test kills the node long before; this only bounds a broken run


def _wait_for(condition, what):
    deadline = time.monotonic() + HANG_LIMIT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise RuntimeError(f"waited {HANG_LIMIT_S} s for {what}")


def objective(trial, markers, on_ray):
    """A deterministic function of the trial's parameters and seed, wherever it runs.

    On Ray, the trials choreograph the test: on the node started with
    HONED_RAY_TEST_NODE=second the first trial finishes and the next one announces itself
    in ``markers`` (``hang-NUMBER`` holding the worker's pid) and waits for the test to
    kill that node, so the kill lands while a trial is running there; trials on the head
    wait for that announcement.  Defined in ``__main__``: cloudpickle ships it to the workers by value.
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
    if on_ray and os.environ.get("HONED_RAY_TEST_NODE") == "second":
        if any(marker.glob("second-done-*")):
            (marker / f"hang-{trial.number}").write_text(str(os.getpid()))
            _wait_for(lambda: False, "the test to kill the second node")
        (marker / f"second-done-{trial.number}").write_text(str(os.getpid()))
    elif on_ray:
        # On the head: hold the head's only CPU until the second node holds a trial, so
        # that the second node is handed a second trial (the head would take them all,
        # these trials being fast).
        _wait_for(lambda: any(marker.glob("hang-*")), "a trial to wait on the second node")
    return value


def main(argv):
    path, n_trials, executor, markers = argv
    # "ray" with no address: the executor joins $RAY_ADDRESS, the way `honed tune` does.
    if executor == "ray":
        ex = make_executor("ray", 2)
    elif executor == "ray-no-retries":
        ex = RayExecutor(workers=2, retries=0)
    else:
        ex = InProcessExecutor()
    on_ray = executor.startswith("ray")
    study = optimize(
        functools.partial(objective, markers=markers, on_ray=on_ray),
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
            "attempts": t.attempts,
            "node": t.user_attrs.get("node"),
            "intermediate": {str(k): v for k, v in sorted(t.intermediate.items())},
        }
        for t in study.trials
    ]
    info = {"trials": trials, "resubmitted": getattr(ex, "resubmitted", 0)}
    if on_ray:
        info["address"], info["driver_node"] = (
            ex.address,
            ex.ray.get_runtime_context().get_node_id(),
        )
    print("RESULT " + json.dumps(info), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
