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
import sys
import threading
from concurrent.futures import Future
from typing import Any

from honed import validation as check
from honed.registry import Option, validate_declared

__all__ = [
    "WORKERS",
    "Executor",
    "InProcessExecutor",
    "ProcessExecutor",
    "Resubmitting",
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


def _exit_code(procs: list) -> int | None:
    """The exit code of the (one) process of a broken pool: negative when a signal
    killed it; None when unknown."""
    for proc in procs:
        proc.join(timeout=5)  # it is dead: this only reaps it
        if proc.exitcode is not None:
            return proc.exitcode
    return None


def _how_it_died(code: int) -> str:
    """A dead process's exit code in words."""
    if code >= 0:
        return f"exited with code {code} before finishing the trial"
    try:
        how = f"killed by {signal.Signals(-code).name}"
    except ValueError:
        how = f"killed by signal {-code}"
    return how + (" (the OOM killer, a crash or kill)" if code == -signal.SIGKILL else "")


def _worker_died(error: BaseException, code: int | None, tries: int) -> BaseException:
    """The error a study records for a trial whose worker died: how it died, how often."""
    from concurrent.futures.process import BrokenProcessPool

    if code is None:
        return error
    runs = f"; it ran {tries} times" if tries > 1 else ""
    err = BrokenProcessPool(f"the worker process was {_how_it_died(code)}{runs}")
    err.__cause__ = error
    return err


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


class Resubmitting(Executor):
    """An executor whose workers can be lost (a killed process, a machine gone): a trial
    lost that way runs again with the same arguments, so the same parameters and seed, up
    to ``resubmits`` times. A subclass implements ``_launch(out, fn, args, left)``: start
    ``fn(*args)``, settle the study's future ``out`` with its outcome, and call ``_again``
    instead when the worker was lost and ``left > 0``."""

    resubmits = 0
    #: how many times a lost trial was run again
    resubmitted = 0
    _closing = False  # set by shutdown: a trial lost while the study stops is not rerun

    def submit(self, fn, *args) -> Future:
        self._closing = False
        out: Future = Future()
        self._launch(out, fn, args, self.resubmits)
        return out

    def _launch(self, out: Future, fn, args: tuple, left: int) -> None:
        raise NotImplementedError

    def _again(self, out: Future, fn, args: tuple, left: int) -> None:
        """Run a lost trial again (``left``: the re-runs it had); an error starting it (no
        new worker, the cluster gone) becomes the trial's."""
        self.resubmitted += 1
        try:
            self._launch(out, fn, args, left - 1)
        except Exception as e:
            out.set_exception(e)


class ProcessExecutor(Resubmitting):
    """Runs trials in ``workers`` local processes (default: one per core).

    Uses the ``spawn`` start method: a fresh interpreter per worker, so no lock or BLAS
    thread pool is inherited half-initialised from the driver (``fork`` can deadlock).
    Each worker caps its BLAS threads at ``max(1, cores // workers)`` and ignores SIGINT.

    A worker is a pool of its own (one process each): when one dies, only its trial is
    touched, while a single shared ``ProcessPoolExecutor`` would mark every running trial
    broken and terminate the other workers too.  A worker *killed by a signal* (SIGKILL,
    the OOM killer, a crash) gets a fresh process, and its trial is run there again with
    the same arguments (so the same parameters and seed), up to ``resubmits`` times,
    before the error reaches the study.  A worker that exits by itself (it could not
    start, or the objective called ``os._exit``) would do it again: that error goes to
    the study at once.

    Args:
        workers: processes (trials at once).
        start_method: ``multiprocessing`` start method.
        resubmits: re-runs of a trial whose worker was killed.
    """

    needs_pickle = True
    options = (WORKERS,)

    def __init__(
        self, workers: int | None = None, start_method: str = "spawn", resubmits: int = 2
    ) -> None:
        cores = os.cpu_count() or 1
        (workers,) = validate_declared(self.options, workers=workers)
        self.max_workers = cores if workers is None else workers
        self.threads = max(1, cores // self.max_workers)
        self.start_method = start_method
        self.resubmits = check.integer("resubmits", resubmits, minimum=0)
        self._lock = threading.Lock()
        self._pools: list[Any] = [None] * self.max_workers  # one single-process pool each
        self._load = [0] * self.max_workers  # trials handed to each worker, not yet back
        self._closing = False
        self.resubmitted = 0  # trials run again after their worker was killed

    def _pool(self, slot: int):
        if self._pools[slot] is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self._pools[slot] = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context(self.start_method),
                initializer=_worker_init,
                initargs=(self.threads,),
            )
        return self._pools[slot]

    def _launch(self, out: Future, fn, args: tuple, left: int) -> None:
        from concurrent.futures.process import BrokenProcessPool

        with self._lock:
            slot = min(range(self.max_workers), key=lambda i: self._load[i])  # an idle one
            pool = self._pool(slot)
            inner = pool.submit(fn, *args)
            self._load[slot] += 1
            # the process exists once submit returns (spawn starts it there)
            procs = list((getattr(pool, "_processes", None) or {}).values())

        def settle(done: Future) -> None:  # in the pool's thread, when the trial ends
            with self._lock:
                self._load[slot] -= 1
            if done.cancelled():
                out.cancel()
                return
            error = done.exception()
            if error is None:
                out.set_result(done.result())
                return
            if not isinstance(error, BrokenProcessPool):
                out.set_exception(error)  # e.g. arguments that could not be sent
                return
            code = _exit_code(procs)
            self._drop(slot, pool)
            if code is not None and code < 0 and left > 0 and not self._closing:
                # said once, on stderr: the study's own lines only show the trial's end
                pid = procs[0].pid if procs else "?"
                print(
                    f"worker process {pid} was {_how_it_died(code)}: its trial runs again "
                    f"in a fresh worker (re-run {self.resubmits - left + 1} of "
                    f"{self.resubmits}); the other workers go on",
                    file=sys.stderr,
                    flush=True,
                )
                self._again(out, fn, args, left)
                return
            out.set_exception(_worker_died(error, code, self.resubmits - left + 1))

        inner.add_done_callback(settle)

    def _drop(self, slot: int, pool) -> None:
        """Forget a broken worker's pool: the next trial for ``slot`` starts a new one."""
        with self._lock:
            if self._pools[slot] is pool:
                self._pools[slot] = None
        pool.shutdown(wait=False)

    def shutdown(self, kill: bool = False) -> None:
        self._closing = True
        with self._lock:
            pools, self._pools = self._pools, [None] * self.max_workers
        pools = [p for p in pools if p is not None]
        if kill:
            # Running trials are abandoned (the study marks them interrupted); waiting
            # for a long training run after Ctrl-C would defeat the point.
            procs = [
                p for pool in pools for p in (getattr(pool, "_processes", None) or {}).values()
            ]
            for pool in pools:
                pool.shutdown(wait=False, cancel_futures=True)
            for p in procs:
                if p.is_alive():
                    p.terminate()
            for p in procs:
                p.join(timeout=5)
        else:
            for pool in pools:
                pool.shutdown(wait=True)

    def restart(self) -> None:
        """After a worker died: forget the pools that are broken (the healthy workers and
        their trials go on untouched)."""
        with self._lock:
            broken = [(i, p) for i, p in enumerate(self._pools) if p is not None and p._broken]
        for slot, pool in broken:
            self._drop(slot, pool)
