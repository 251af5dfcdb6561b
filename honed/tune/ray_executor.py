"""RayExecutor: trials as Ray tasks, on this machine or on a cluster of several.

Ray is optional (``pip install 'honed[ray]'``) and imported only when a RayExecutor is
made.  Where it connects:

* ``address`` given (``"HEAD_IP:6379"``, the head's GCS address; ``"auto"`` for one
  started with ``ray start`` on this machine): that cluster.  The driver (honed) runs on
  a node of the cluster, usually the head: it keeps the study file, and the actor that
  stores per-epoch values runs on its node.  Ray Client addresses (``ray://``) are
  refused for that reason: through them the driver's node would be the head, not here;
* else the ``RAY_ADDRESS`` environment variable, when set;
* else a Ray of its own on this machine, started for the study (as ``ray.init()`` does).

A cluster with token authentication (Ray's default for clusters it starts) needs the
token in the driver's environment: ``RAY_AUTH_MODE=token`` and ``RAY_AUTH_TOKEN`` (or
``RAY_AUTH_TOKEN_PATH``, or ``~/.ray/auth_token``), set before Ray is imported.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import Future
from typing import Any

from honed import validation as check
from honed.registry import Option, validate_declared

from .executors import WORKERS, Resubmitting, limit_blas_threads

#: the cluster a Ray executor joins
ADDRESS = Option(
    "address",
    "string",
    None,
    check.text,
    "Ray cluster to join, e.g. HEAD_IP:6379 (default: $RAY_ADDRESS, else a local Ray)",
)

__all__ = ["RayExecutor", "resolve_address"]

#: Ray errors that mean "the machine or process running the task went away", not "the
#: trial went wrong" (run_trial turns every objective error into a recorded outcome).
_LOST = (
    "NodeDiedError",
    "WorkerCrashedError",
    "LocalRayletDiedError",
    "ObjectLostError",  # with its subclasses OwnerDiedError, ObjectReconstructionFailedError
    "RaySystemError",
)


def _import_ray():
    try:
        import ray
    except ImportError as e:
        raise ImportError(
            "RayExecutor needs Ray, which is not installed: pip install 'honed[ray]'"
        ) from e
    return ray


def resolve_address(address: str | None) -> str | None:
    """The cluster to join: ``address``, else ``$RAY_ADDRESS``, else None (a local Ray).

    Raises:
        ValueError: ``address`` is given but empty or not a string, or is a Ray Client
            address (``ray://...``; see the module docstring).
    """
    if address is not None:
        if not isinstance(address, str) or not address.strip():
            raise ValueError(f"address must be a Ray address like 'HOST:6379', got {address!r}")
        address = address.strip()
    else:
        address = os.environ.get("RAY_ADDRESS") or None
    if address is not None and address.startswith("ray://"):
        raise ValueError(
            f"address {address!r} is a Ray Client address, which honed does not use: run "
            "honed on a node of the cluster (e.g. the head) with the head's GCS address, "
            "HEAD_IP:6379"
        )
    return address


def _join_failed(address: str | None, error: BaseException) -> str:
    """What to say when ``ray.init`` cannot join: Ray's deepest reason, and what to check."""
    cause = error
    while cause.__cause__ is not None:
        cause = cause.__cause__
    lines = [ln for ln in str(cause).strip().splitlines() if ln.strip()]
    reason = lines[-1] if lines else type(cause).__name__
    return (
        f"could not join the Ray cluster at {address or 'the local default'} ({reason}). "
        "Is its head running (`ray start --head` there; the address is HEAD_IP:PORT)? With "
        "token authentication, set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN (the cluster's "
        "token, `ray get-auth-token` on the head) before running honed."
    )


def join_cluster(address: str | None, **init_kwargs: Any) -> tuple[Any, str | None]:
    """Join the cluster (``resolve_address``) unless this process already did; returns
    the ``ray`` module and the address.

    Raises:
        ConnectionError: the cluster refused or could not be reached (what to check named).
    """
    ray = _import_ray()
    address = resolve_address(address)
    if not ray.is_initialized():
        try:
            ray.init(address=address, ignore_reinit_error=True, **init_kwargs)
        except (ConnectionError, ray.exceptions.AuthenticationError) as e:
            raise ConnectionError(_join_failed(address, e)) from e
    return ray, address


def _ray_call(threads, fn, *args):
    limit_blas_threads(threads)
    return fn(*args)


class _ReporterActorBody:
    def __init__(self, reporter):
        self.reporter = reporter

    def report_intermediate(self, number, step, value):
        self.reporter.report_intermediate(number, step, value)
        flush = getattr(self.reporter, "flush", None)
        if flush is not None:  # the trial's remote call returns once the driver has it
            flush()

    def intermediate_at(self, step):
        return self.reporter.intermediate_at(step)

    def should_prune(self, number):
        return self.reporter.should_prune(number)


class _RayReporterProxy:
    """A reporter for workers on other machines: calls go to an actor pinned to the
    driver's node, which owns the study file."""

    def __init__(self, actor):
        self.actor = actor

    def report_intermediate(self, number, step, value):
        import ray

        ray.get(self.actor.report_intermediate.remote(number, step, value))

    def intermediate_at(self, step):
        import ray

        return ray.get(self.actor.intermediate_at.remote(step))

    def should_prune(self, number):
        import ray

        return ray.get(self.actor.should_prune.remote(number))


class RayExecutor(Resubmitting):
    """Runs each trial as a Ray task, reserving ``cpus_per_trial`` CPUs of the cluster.

    Workers on other machines reach the study through an actor on the driver's node, so
    the study file need not be on a shared disk; only the driver writes it.  The
    objective is pickled to the workers: a function of an importable module is sent by
    name, so that module (and honed) must be installed on every node, or shipped with
    ``runtime_env`` (``init_kwargs``; see the README, "Running on a real cluster").

    Lost machines.  A trial whose node dies (machine gone, raylet killed) or whose worker
    process crashes is run again, never recorded as failed:

    1. Ray itself resubmits a task lost to a system failure up to ``retries`` times
       (``max_retries``; ``retry_exceptions=False``, so an objective's own exception is
       never retried: ``run_trial`` records it as the trial's outcome);
    2. should that still end in a system error (``NodeDiedError``, ``WorkerCrashedError``,
       ``LocalRayletDiedError``, ``ObjectLostError`` and subclasses, ``RaySystemError``),
       the executor submits the trial again itself, up to ``resubmits`` times, before
       handing the error to the study.

    A re-run gets the same parameters and seed, so it gives the result the lost run
    would have; per-epoch values it reports again overwrite the lost run's.

    Args:
        address: the cluster (see ``resolve_address``); ``None``: ``$RAY_ADDRESS`` or a
            local Ray.
        workers: trials in flight at once (default: the cluster's CPUs // cpus_per_trial).
        cpus_per_trial: Ray CPUs reserved per trial (also its BLAS thread cap).
        retries: Ray's ``max_retries`` for a trial lost to a system failure.
        resubmits: further submissions by the executor after Ray's retries.
        init_kwargs: more ``ray.init`` arguments (e.g. ``runtime_env``, ``num_cpus``).
    """

    needs_pickle = True
    options = (ADDRESS, WORKERS)

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        cpus_per_trial: int = 1,
        retries: int = 3,
        resubmits: int = 2,
        **init_kwargs: Any,
    ) -> None:
        cpus_per_trial = check.integer("cpus_per_trial", cpus_per_trial, minimum=1)
        retries = check.integer("retries", retries, minimum=0)
        resubmits = check.integer("resubmits", resubmits, minimum=0)
        (workers,) = validate_declared(self.options, workers=workers)
        ray, self.address = join_cluster(address, **init_kwargs)
        self.ray = ray
        self.cpus_per_trial = cpus_per_trial
        self.resubmits = resubmits
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus_per_trial)
        self.max_workers = int(workers)
        self._remote = ray.remote(
            num_cpus=cpus_per_trial, max_retries=retries, retry_exceptions=False
        )(_ray_call)
        self._lost = tuple(getattr(ray.exceptions, n) for n in _LOST)
        self._lock = threading.Lock()
        self._refs: dict[Any, Future] = {}  # in flight: Ray ref -> the study's future
        self._closing = False
        #: how many times the executor itself resubmitted a lost trial (step 2 above)
        self.resubmitted = 0

    def wrap_reporter(self, reporter):
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        node = self.ray.get_runtime_context().get_node_id()
        actor_cls = self.ray.remote(num_cpus=0)(_ReporterActorBody)
        actor = actor_cls.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)
        ).remote(reporter)
        return _RayReporterProxy(actor)

    def _launch(self, out: Future, fn, args: tuple, left: int) -> None:
        ref = self._remote.remote(self.cpus_per_trial, fn, *args)
        with self._lock:
            self._refs[ref] = out

        def settle(ray_future: Future) -> None:  # in a Ray thread, when the task ends
            with self._lock:
                self._refs.pop(ref, None)
            error = ray_future.exception()
            if error is None:
                out.set_result(ray_future.result())
            elif isinstance(error, self._lost) and left > 0 and not self._closing:
                self._again(out, fn, args, left)
            else:
                out.set_exception(error)

        ref.future().add_done_callback(settle)

    def shutdown(self, kill: bool = False) -> None:
        self._closing = True
        with self._lock:
            refs, self._refs = list(self._refs), {}
        if kill:
            for ref in refs:
                with contextlib.suppress(Exception):  # already finished
                    self.ray.cancel(ref, force=True)
