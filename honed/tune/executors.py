"""Executors: where trials run ("caviar": many models in parallel).

Contract (every executor, checked by the shared tests):

* ``max_workers``: how many trials may run at once.
* ``submit(fn, *args) -> concurrent.futures.Future`` runs ``fn(*args)``.  ``fn`` and its
  arguments are picklable (the objective included: a module-level function, a
  ``functools.partial`` of one, or an instance of a module-level class).
* ``wrap_reporter(reporter)`` returns what a remote trial uses to store its per-epoch
  values (the reporter itself when the worker can open the study file).
* ``shutdown(kill=False)``; ``kill=True`` abandons running work at once (Ctrl-C).
* ``restart()`` after a worker died.

The study decides *which* trial runs and records every outcome; executors only run.
"""

from __future__ import annotations

import contextlib
import os
import signal
from concurrent.futures import Future
from typing import Any

from .registry import EXECUTORS, register_executor

__all__ = [
    "Executor",
    "InProcessExecutor",
    "ProcessExecutor",
    "RayExecutor",
    "limit_blas_threads",
    "make_executor",
]

_THREAD_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
_limits: Any = None  # keeps the threadpoolctl limiter alive in this process


def limit_blas_threads(n: int) -> None:
    """Cap BLAS/OpenMP threads in this process at ``n``.

    Why: ``workers`` processes each running a BLAS with one thread per core would run
    ``workers × cores`` threads on ``cores`` cores and all go slower.  threadpoolctl
    changes the limit of libraries already loaded; the environment variables cover the
    ones loaded later (and are all we can do without threadpoolctl).
    """
    global _limits
    n = max(1, int(n))
    for var in _THREAD_ENV:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    _limits = threadpool_limits(limits=n)


def _exit_when_orphaned(parent: int) -> None:
    import time

    # A worker whose driver was killed (SIGKILL, OOM) would otherwise live on, blocked on
    # its task queue, holding memory and the terminal's pipes.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _worker_init(threads: int) -> None:
    import threading

    # Ctrl-C reaches the whole process group; only the driver handles it, so a worker
    # never dies half-way through recording anything.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_blas_threads(threads)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()


class Executor:
    """Base class; see the module docstring for the contract."""

    max_workers: int = 1

    def submit(self, fn, *args) -> Future:
        raise NotImplementedError

    def wrap_reporter(self, reporter: Any) -> Any:
        return reporter

    def shutdown(self, kill: bool = False) -> None:
        pass

    def restart(self) -> None:
        pass

    #: whether submitted work must be picklable (checked up front for a clear error)
    needs_pickle: bool = False


@register_executor("inprocess")
class InProcessExecutor(Executor):
    """Runs each trial in the calling process, one at a time: for debugging (breakpoints
    and tracebacks work) and for objectives that cannot be pickled."""

    max_workers = 1

    def submit(self, fn, *args) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except Exception as e:  # KeyboardInterrupt propagates to the study
            fut.set_exception(e)
        return fut


@register_executor("process")
class ProcessExecutor(Executor):
    """Runs trials in ``workers`` local processes (default: one per core).

    Uses the ``spawn`` start method: a fresh interpreter per worker, so no lock or BLAS
    thread pool is inherited half-initialised from the driver (``fork`` can deadlock).
    Each worker caps its BLAS threads at ``max(1, cores // workers)`` and ignores SIGINT.
    """

    needs_pickle = True

    def __init__(self, workers: int | None = None, start_method: str = "spawn") -> None:
        cores = os.cpu_count() or 1
        workers = cores if workers is None else workers
        if int(workers) != workers or workers < 1:
            raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
        self.max_workers = int(workers)
        self.threads = max(1, cores // self.max_workers)
        self.start_method = start_method
        self._pool = None

    def _ensure(self):
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pool = ProcessPoolExecutor(
                max_workers=self.max_workers,
                mp_context=multiprocessing.get_context(self.start_method),
                initializer=_worker_init,
                initargs=(self.threads,),
            )
        return self._pool

    def submit(self, fn, *args) -> Future:
        return self._ensure().submit(fn, *args)

    def shutdown(self, kill: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            # Running trials are abandoned (the study marks them interrupted); waiting
            # for a long training run after Ctrl-C would defeat the point.
            procs = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(timeout=5)
        else:
            pool.shutdown(wait=True)

    def restart(self) -> None:
        self.shutdown(kill=True)


class _ReporterActorBody:
    def __init__(self, reporter):
        self.reporter = reporter

    def report_intermediate(self, number, step, value):
        self.reporter.report_intermediate(number, step, value)

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


def _import_ray():
    try:
        import ray
    except ImportError as e:
        raise ImportError(
            "RayExecutor needs Ray, which is not installed: pip install 'honed[ray]'"
        ) from e
    return ray


def _ray_call(threads, fn, *args):
    limit_blas_threads(threads)
    return fn(*args)


class RayExecutor(Executor):
    """Runs trials as Ray tasks: on this machine or on a cluster (``address="auto"`` or
    ``"ray://host:10001"``).  Ray is optional (``pip install 'honed[ray]'``) and imported
    only here.  Workers on other machines reach the study file through an actor on the
    driver's node, so the file need not be on a shared disk.

    Args:
        address: passed to ``ray.init``; ``None`` starts (or joins) a local instance.
        workers: trials in flight at once (default: the cluster's CPU count).
        cpus_per_trial: Ray CPUs reserved per trial (also its BLAS thread cap).
        init_kwargs: more ``ray.init`` arguments (e.g. ``runtime_env``).
    """

    needs_pickle = True

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        cpus_per_trial: int = 1,
        **init_kwargs: Any,
    ) -> None:
        self.ray = _import_ray()
        if not self.ray.is_initialized():
            self.ray.init(address=address, ignore_reinit_error=True, **init_kwargs)
        self.cpus_per_trial = cpus_per_trial
        if workers is None:
            workers = max(1, int(self.ray.cluster_resources().get("CPU", 1)) // cpus_per_trial)
        self.max_workers = int(workers)
        self._remote = self.ray.remote(num_cpus=cpus_per_trial)(_ray_call)
        self._refs: list = []

    def wrap_reporter(self, reporter):
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        node = self.ray.get_runtime_context().get_node_id()
        actor_cls = self.ray.remote(num_cpus=0)(_ReporterActorBody)
        actor = actor_cls.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)
        ).remote(reporter)
        return _RayReporterProxy(actor)

    def submit(self, fn, *args) -> Future:
        ref = self._remote.remote(self.cpus_per_trial, fn, *args)
        self._refs.append(ref)
        return ref.future()

    def shutdown(self, kill: bool = False) -> None:
        if kill:
            for ref in self._refs:
                with contextlib.suppress(Exception):  # already finished
                    self.ray.cancel(ref, force=True)
        self._refs = []


register_executor("ray", RayExecutor)


def make_executor(executor: str | Executor | None, workers: int | None = None) -> Executor:
    """``"process"`` (default), ``"inprocess"``, ``"ray"``, another registered name (built
    as ``cls(workers=workers)``) or an Executor instance."""
    if isinstance(executor, Executor):
        return executor
    if executor in (None, "process"):
        return ProcessExecutor(workers)
    if executor in ("inprocess", "in_process", "local"):
        if workers not in (None, 1):
            raise ValueError(f"the inprocess executor runs 1 worker, got workers={workers!r}")
        return InProcessExecutor()
    if executor == "ray":
        return RayExecutor(workers=workers)
    if isinstance(executor, str) and executor in EXECUTORS:
        return EXECUTORS.get(executor)(workers=workers)
    raise ValueError(
        f"executor must be one of {EXECUTORS.names()} or an Executor, got {executor!r}"
    )
