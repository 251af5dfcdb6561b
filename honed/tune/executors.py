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
* ``flush()``: the study has submitted all it can for now and is about to wait for an
  outcome; an executor that batches work (``population``) starts what it queued.  A no-op
  for the others.
* ``configure(objective, sampler, pruner)``: called once by the study before the first
  submit; an executor that needs to know how the study searches (``population``: PBT,
  pruning) reads it there and raises ValueError for combinations it cannot run.
* ``options``: the :class:`~honed.registry.Option` s its constructor takes from an
  experiment file or the command line (``workers``, ``address``, ``max_members``), declared
  once; ``make_executor``, the config and the command line check values against them.

Executors are named in ``honed.tune.registry.EXECUTORS``.

The study decides *which* trial runs and records every outcome; executors only run.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import Future
from typing import Any

from honed import validation as check
from honed.registry import Option

__all__ = [
    "WORKERS",
    "Executor",
    "InProcessExecutor",
    "ProcessExecutor",
    "limit_blas_threads",
]


def at_least_one(path: str, value: Any) -> int:
    """An integer >= 1 (a ValueError or TypeError naming ``path`` otherwise)."""
    return check.integer(path, value, minimum=1)


#: the option every parallel executor takes
WORKERS = Option(
    "workers",
    "int",
    None,
    at_least_one,
    "trials (process, ray) or populations (population) at once; default: the number of cores",
)

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

    def flush(self) -> None:
        pass

    def configure(self, objective: Any, sampler: Any, pruner: Any) -> None:
        pass

    #: whether submitted work must be picklable (checked up front for a clear error)
    needs_pickle: bool = False
    #: what the constructor takes from an experiment file or the command line
    options: tuple[Option, ...] = ()


def _one_worker(path: str, value: Any) -> int:
    if value != 1 or isinstance(value, bool):
        raise ValueError(f"the inprocess executor runs 1 worker, got {path}={value!r}")
    return 1


class InProcessExecutor(Executor):
    """Runs each trial in the calling process, one at a time: for debugging (breakpoints
    and tracebacks work) and for objectives that cannot be pickled."""

    max_workers = 1
    options = (Option("workers", "int", 1, _one_worker, "always 1: one trial at a time"),)

    def __init__(self, workers: int = 1) -> None:
        _one_worker("workers", workers)

    def submit(self, fn, *args) -> Future:
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except Exception as e:  # KeyboardInterrupt propagates to the study
            fut.set_exception(e)
        return fut


class ProcessExecutor(Executor):
    """Runs trials in ``workers`` local processes (default: one per core).

    Uses the ``spawn`` start method: a fresh interpreter per worker, so no lock or BLAS
    thread pool is inherited half-initialised from the driver (``fork`` can deadlock).
    Each worker caps its BLAS threads at ``max(1, cores // workers)`` and ignores SIGINT.
    """

    needs_pickle = True
    options = (WORKERS,)

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
