"""A real Ray cluster on this machine: a head and a second node, each its own raylet.

Both are started with ``ray start`` (one CPU each, a 100 MiB object store, no dashboard
server, token authentication on) in a temporary directory of their own, so concurrent
runs do not clash.  A honed study runs across both; the second node is killed (its whole
process group: raylet, agents, and the worker running a trial) while it holds a trial;
the study must still complete every trial exactly once, with the values and parameters
an in-process run with the same seed gives.

The drivers run as subprocesses (tests/tune/ray_cluster_driver.py and ``honed tune``),
so Ray's process-wide state never enters the pytest process.  Every wait is bounded and
the cluster is torn down in the fixture's finally.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("ray_cluster_driver.py")
RAY_CLI = Path(sys.executable).with_name("ray")
HAS_RAY = importlib.util.find_spec("ray") is not None

needs_cluster = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAS_RAY, reason="ray is not installed (pip install 'honed[ray]')"),
    pytest.mark.skipif(
        HAS_RAY and not RAY_CLI.exists(), reason=f"the ray command is not at {RAY_CLI}"
    ),
    pytest.mark.skipif(sys.platform != "linux", reason="Ray multi-node clusters need Linux"),
]

START_TIMEOUT_S = 120  # bounds on waits for a broken set-up, never on how fast things run
DRIVER_TIMEOUT_S = 420
OBJECT_STORE = 100 * 2**20
N_TRIALS = 10


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_line(log: Path, proc: subprocess.Popen, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise AssertionError(f"ray start did not print {text!r} (exit {proc.poll()}):\n{tail}")


def _pids_under(root: str) -> list[int]:
    """Processes whose command line names ``root`` (the cluster's temp dir)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            with contextlib.suppress(OSError):
                if root in (d / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(d.name))
    return pids


def _rss_mib(pids) -> float:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def _kill(pid: int, group: bool = False) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        (os.killpg if group else os.kill)(pid, signal.SIGKILL)


class LocalCluster:
    """``ray start --head`` and ``ray start --address`` as two process groups."""

    def __init__(self, root: Path):
        self.root = root
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        token = secrets.token_hex(32)
        # Token authentication, as Ray 2.60 wants it: the mode and the token in the
        # environment of every node and driver (before ray is imported); the token
        # never touches ~/.ray.  Fast health checks: a killed node is declared dead
        # in about two seconds instead of fifteen.
        self.env = {
            **os.environ,
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": token,
            "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_health_check_period_ms": "500",
            "RAY_health_check_timeout_ms": "1000",
            "RAY_health_check_failure_threshold": "3",
            # The workers import honed (and nothing else of ours) from this checkout.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        }
        self.env.pop("RAY_ADDRESS", None)
        self.nodes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str, env: dict | None = None) -> None:
        log = self.root / f"{name}.log"
        cmd = [
            str(RAY_CLI),
            "start",
            "--block",
            "--num-cpus=1",
            f"--object-store-memory={OBJECT_STORE}",
            "--node-ip-address=127.0.0.1",
            f"--temp-dir={self.root / name}",
            "--disable-usage-stats",
            "--include-log-monitor=false",
            f"--dashboard-agent-listen-port={_free_port()}",
            f"--dashboard-agent-grpc-port={_free_port()}",
            f"--metrics-export-port={_free_port()}",
            f"--runtime-env-agent-port={_free_port()}",
            "--min-worker-port=0",
            "--max-worker-port=0",
            *args,
        ]
        with open(log, "w") as out:
            self.nodes[name] = subprocess.Popen(
                cmd,
                env={**self.env, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, to kill the node whole
                cwd=self.root,
            )
        _wait_for_line(log, self.nodes[name], "Ray runtime started", START_TIMEOUT_S)

    def kill(self, name: str) -> None:
        proc = self.nodes[name]
        _kill(proc.pid, group=True)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)

    def stop(self) -> None:
        for name in reversed(list(self.nodes)):
            self.kill(name)
        # Ray's workers run in sessions of their own; they exit when their raylet goes,
        # and anything still left that belongs to this cluster is killed here.
        for pid in _pids_under(str(self.root)):
            _kill(pid)

    def memory_mib(self) -> float:
        return _rss_mib(_pids_under(str(self.root)))


def with_cluster(test):
    for mark in needs_cluster:
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def cluster():
    root = Path(tempfile.mkdtemp(prefix="honed-ray-", dir="/tmp"))  # short: socket paths
    c = LocalCluster(root)
    try:
        c.start(
            "head",
            "--head",
            f"--port={c.port}",
            "--include-dashboard=false",
            f"--ray-client-server-port={_free_port()}",
        )
        yield c
    finally:
        c.stop()
        shutil.rmtree(root, ignore_errors=True)


def _result(proc_out: str) -> dict:
    lines = [ln for ln in proc_out.splitlines() if ln.startswith("RESULT ")]
    assert lines, f"the driver printed no result:\n{proc_out[-4000:]}"
    return json.loads(lines[-1][len("RESULT ") :])


def _drive(tmp_path: Path, executor: str, n_trials: int, env: dict) -> subprocess.Popen:
    markers = tmp_path / "markers"
    markers.mkdir(exist_ok=True)
    return subprocess.Popen(
        [
            sys.executable,
            str(DRIVER),
            str(tmp_path / f"{executor}.db"),
            str(n_trials),
            executor,
            str(markers),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _comparable(trials):
    return [(t["number"], t["state"], t["params"], t["seed"], t["value"]) for t in trials]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The same study run in-process (no Ray) with the same seed."""
    d = tmp_path_factory.mktemp("local")
    local = _drive(d, "inprocess", N_TRIALS, os.environ.copy())
    out, _ = local.communicate(timeout=DRIVER_TIMEOUT_S)
    assert local.returncode == 0, out[-4000:]
    return _result(out)["trials"]


@with_cluster
@pytest.mark.parametrize(
    "mode, resubmitted",
    [("ray", 0), ("ray-no-retries", 1)],
    ids=["ray-retries-the-task", "executor-resubmits"],
)
def test_study_survives_losing_a_node(cluster, reference, tmp_path, mode, resubmitted):
    """``ray``: Ray's own task retry re-runs the lost trial; ``ray-no-retries``: with Ray's
    retries off, the executor's resubmission does (see RayExecutor's docstring)."""
    n_trials = N_TRIALS
    second = f"n2-{len(cluster.nodes)}"  # short: Unix socket paths live under it
    cluster.start(second, f"--address={cluster.address}", env={"HONED_RAY_TEST_NODE": "second"})
    markers = tmp_path / "markers"
    driver = _drive(tmp_path, mode, n_trials, {**cluster.env, "RAY_ADDRESS": cluster.address})
    try:
        # The second node finishes one trial, then holds the next until it is killed.
        deadline = time.monotonic() + DRIVER_TIMEOUT_S
        hung = []
        while not hung and time.monotonic() < deadline and driver.poll() is None:
            hung = sorted(markers.glob("hang-*"))
            time.sleep(0.05)
        assert hung, f"no trial waited on the second node:\n{driver.communicate(timeout=60)[0]}"
        memory = cluster.memory_mib()
        cluster.kill(second)
        _kill(int(hung[0].read_text()))  # the worker too: the whole machine is gone
        out, _ = driver.communicate(timeout=DRIVER_TIMEOUT_S)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.communicate(timeout=60)
    print(f"\ncluster memory (RSS of its processes, both nodes up): {memory:.0f} MiB")
    assert driver.returncode == 0, out[-4000:]
    got = _result(out)
    lost = int(hung[0].name.split("-")[1])
    done_on_second = {int(p.name.split("-")[2]) for p in markers.glob("second-done-*")}
    trials = got["trials"]

    # Every trial complete exactly once, none failed or left running.
    assert [t["number"] for t in trials] == list(range(n_trials))
    assert {t["state"] for t in trials} == {"complete"}, [(t["number"], t["error"]) for t in trials]
    assert {t["attempts"] for t in trials} == {1}  # the study handed out each trial once
    # Trials ran on both nodes: the one the second node finished was recorded from there;
    # the trial lost with it was run again elsewhere (on the head, the only node left).
    nodes = {t["number"]: t["node"] for t in trials}
    assert len(done_on_second) == 1 and len(set(nodes.values())) == 2, nodes
    (on_second,) = done_on_second
    assert nodes[on_second] != got["driver_node"]
    assert nodes[lost] == got["driver_node"] and lost != on_second
    assert all(len(t["intermediate"]) == 3 for t in trials)

    # Re-run by Ray's retry, or by the executor (the count it keeps).
    assert got["resubmitted"] == resubmitted
    # The same study as a local in-process run with the same seed.
    assert _comparable(trials) == _comparable(reference)
    assert [t["intermediate"] for t in trials] == [t["intermediate"] for t in reference]


TUNE = """
name = "xor_on_ray"
seed = 3
[data]
dataset = "xor"
normalize = "none"
[model]
hidden = [2]
activation = "sigmoid"
[train]
optimizer = "gd"
lr = 2.0
batch_size = 4
epochs = 30
[tune]
trials = 3
strategy = "random"
[tune.space]
"train.lr" = { log = [0.5, 5.0] }
"""


@with_cluster
def test_honed_tune_joins_the_cluster_named_by_address(cluster, tmp_path):
    exp = tmp_path / "xor.toml"
    exp.write_text(TUNE)
    cmd = [sys.executable, "-m", "honed", "tune", str(exp), "--executor", "ray"]
    cmd += ["--address", cluster.address, "--study", str(tmp_path / "s.sqlite")]
    run = subprocess.run(
        cmd, env=cluster.env, cwd=tmp_path, capture_output=True, text=True, timeout=DRIVER_TIMEOUT_S
    )
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-4000:]
    # It joined this cluster (not a Ray of its own), and all three trials completed.
    assert "Connecting to existing Ray cluster at address: " in out, out[-4000:]
    assert "3 trials (3 complete)" in out, out[-4000:]
    from honed.experiment.tuning import open_study

    study = open_study(tmp_path / "s.sqlite")
    assert len(study.trials) == 3 and all(t.finished_ok for t in study.trials)

    # With another token the cluster refuses the driver: authentication is really on.
    # (Two connection attempts, not Ray's twenty, before it gives up.)
    env = {**cluster.env, "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env["RAY_gcs_server_port_wait_time_s"] = "2"
    refused = subprocess.run(
        cmd[:-1] + [str(tmp_path / "refused.sqlite")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=DRIVER_TIMEOUT_S,
    )
    assert refused.returncode == 1, refused.stderr[-4000:]  # honed: bad input, with a message
    said = refused.stderr.splitlines()[-1]
    assert said.startswith("honed tune: error: could not join the Ray cluster at 127.0.0.1:")
    assert "InvalidAuthToken" in said and "RAY_AUTH_TOKEN" in said, said


@with_cluster
def test_populations_run_as_ray_tasks_with_the_local_values(cluster, tmp_path):
    """--executor ray_population: the trials train as one population in a Ray task on the
    cluster, with the per-trial values and per-epoch values of a local in-process study."""
    from honed.experiment.tuning import open_study

    exp = tmp_path / "xor.toml"
    exp.write_text(TUNE)
    studies = {}
    # --workers 1: one group in flight, so the three trials stay one population
    ray_args = ["--address", cluster.address, "--workers", "1"]
    for executor, extra in (("ray_population", ray_args), ("inprocess", [])):
        study = tmp_path / f"{executor}.journal"
        cmd = [sys.executable, "-m", "honed", "tune", str(exp), "--executor", executor]
        cmd += [*extra, "--study", str(study)]
        run = subprocess.run(
            cmd,
            env=cluster.env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=DRIVER_TIMEOUT_S,
        )
        assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
        studies[executor] = open_study(study).trials
    on_ray, local = studies["ray_population"], studies["inprocess"]
    assert len(on_ray) == 3 and all(t.finished_ok for t in on_ray)
    assert [t.params for t in on_ray] == [t.params for t in local]
    for a, b in zip(on_ray, local, strict=True):
        # float32, one population vs one run each: summation order only
        assert a.value == pytest.approx(b.value, abs=1e-6)
        assert sorted(a.intermediate) == sorted(b.intermediate) == list(range(1, 31))
        assert a.user_attrs["population"] == [0, 1, 2]  # one group: one task


def test_address_comes_from_the_argument_then_ray_address(monkeypatch):
    from honed.tune.ray_executor import resolve_address

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert resolve_address(None) is None  # a local Ray, as without a cluster
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    assert resolve_address(None) == "10.0.0.5:6379"
    assert resolve_address(" 127.0.0.1:6380 ") == "127.0.0.1:6380"
    with pytest.raises(ValueError, match="address"):
        resolve_address("  ")
    with pytest.raises(ValueError, match="Ray Client"):
        resolve_address("ray://10.0.0.5:10001")
    monkeypatch.setenv("RAY_ADDRESS", "ray://10.0.0.5:10001")
    with pytest.raises(ValueError, match="HEAD_IP:6379"):
        resolve_address(None)


def test_address_is_refused_for_other_executors():
    from honed.cli import main
    from honed.tune import make_executor

    with pytest.raises(ValueError, match="address is for executor='ray'"):
        make_executor("process", 2, address="127.0.0.1:6379")
    args = ["tune", "examples/fashion_tune.toml", "--address", "127.0.0.1:6379"]
    assert main([a.replace("examples", str(ROOT / "examples")) for a in args]) == 1


@pytest.mark.skipif(not HAS_RAY, reason="ray is not installed (pip install 'honed[ray]')")
@pytest.mark.parametrize(("arg", "value"), [("cpus_per_group", 0), ("retries", -1)])
def test_ray_population_refuses_bad_arguments_before_joining(arg, value):
    from honed.tune.ray_population import RayPopulationExecutor

    with pytest.raises(ValueError, match=f"{arg} must be an integer >= "):
        RayPopulationExecutor(**{arg: value})
