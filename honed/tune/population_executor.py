"""The ``population`` executor and the ``pbt`` strategy: trials that can share one stream of
batched NumPy operations are trained together, as one population (``honed.population``).

How it runs (``Study.optimize`` with ``executor="population"``):

1. ``submit`` only queues: the executor takes as many trials as the study hands out
   (``max_workers`` is ``max_members``, unlimited by default), then ``flush`` -- which the
   study calls when it has handed out all it can and is about to wait -- groups them;
2. trials are grouped by ``objective.population_key(params)``: the settings every member
   of a population must share (for an experiment: the architecture, batch size, epochs,
   data...; not the learning rate, β's, L2, dropout, initial scale or seed, which are
   per member).  An objective without ``population_key`` (a plain function), or a key of
   ``None``, runs its trial alone, as the ``inprocess`` executor would;
3. each group is trained by ``objective.train_population(job)`` (``population_cost(params)``,
   if the objective has it, weighs the groups; ``population_prepare()`` runs in the
   background from the start, e.g. to load the data while the study stores its trials) in one of ``workers``
   threads of the driver process (default: one per core; NumPy and BLAS release the GIL,
   and BLAS is capped at ``cores // workers`` threads so the threads do not
   oversubscribe the cores; at ``cores // populations`` when fewer populations start).  Without a pruner or PBT, groups are cut into pieces of about
   equal cost so that every thread has work, but no piece smaller than
   ``objective.population_min_members(params)`` if the objective says (a tiny network's
   step is Python, not BLAS: two pieces in two threads share the GIL and take longer than
   one); with either, a group stays one population;
4. the objective reports every member's per-epoch value through its ``Trial`` (stored in
   batches, as for any trial), asks the study's pruner after *all* members have reported the
   epoch (so successive halving judges the population's members together at each rung),
   and finishes each trial through ``job.finish`` -- a pruned or early-stopped member is
   recorded the moment it stops.  The outcome is the one ``run_trial`` builds, so the study
   records population trials like any other (states, values, seeds, intermediate values).

Results do not depend on the grouping: a member computes what its standalone trial
computes (its own seed for weights, dropout and batch order), up to floating-point
summation order (``tests/tune/test_population_executor.py`` measures it).  Pruning and PBT
decisions do depend on which trials train together, as pruning does on timing with the
other executors.

``strategy = "pbt"`` (:class:`PBTSampler`) draws each member's first hyperparameters at
random (as ``"random"``), then inside each population runs population-based training
(``honed.population.pbt``). Its trials finish together at the end of the population, so a
study cut off mid-way re-runs whole populations (the same ones, from the same seeds).
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any

import numpy as np

from honed import validation as check
from honed.registry import Option, validate_declared

from .channel import DirectReporter
from .executors import WORKERS, Executor, at_least_one
from .outcome import run_trial, trial_outcome
from .samplers import RandomSampler
from .trial import Trial

__all__ = ["PBTSampler", "PopulationCancelled", "PopulationExecutor", "PopulationJob"]


class PopulationCancelled(Exception):
    """Raised inside a population when the study was interrupted (Ctrl-C, an error)."""


class PBTSampler(RandomSampler):
    """Population-based training (Jaderberg et al. 2017), for ``executor="population"``.

    Every member's first hyperparameters are drawn at random, as ``"random"`` draws them;
    inside each population, every ``every`` epochs the worst ``fraction`` of the members
    copy the weights, optimizer state and hyperparameters of one of the best ``fraction``
    and perturb the per-member hyperparameters of the search space (×0.8 or ×1.2 on each
    one's scale; with probability ``resample_probability`` a fresh draw), within the
    space's bounds.

    A trial is one member: its ``params`` stay the values it started with (what the
    sampler drew), its value is the dev error its final weights reach, and its user
    attribute ``pbt`` holds the values it ended with (``final_params``), every exploit it
    made (``lineage``: epoch, parent trial, both scores, the values before and after) and
    the trials of its population. ``honed train --from-study`` trains the best member's
    final values from scratch (PBT found a schedule with inherited weights; its final
    values are the usual summary of it).

    Args:
        every: epochs between exploit/explore steps (default: a quarter of the epochs,
            at least 1; ``tune.pbt_every``).
        fraction: share of the members replaced at each step, in (0, 0.5]
            (``tune.pbt_fraction``).
        resample_probability: chance that a perturbed value is drawn afresh instead
            (``tune.pbt_resample``).
    """

    name = "pbt"
    #: the study refuses this sampler with any other executor
    needs_executor = "population"
    options = (
        Option(
            "every",
            "int",
            None,
            at_least_one,
            "epochs between exploit/explore steps (default: a quarter of the epochs)",
        ),
        Option(
            "fraction",
            "float",
            0.25,
            lambda p, v: check.number(p, v, low=0, high=0.5, low_open=True),
            "share of the members that copy one of the best and perturb its values",
        ),
        Option(
            "resample_probability",
            "float",
            0.25,
            lambda p, v: check.number(p, v, low=0, high=1),
            "chance that a perturbed value is drawn afresh from the search space",
        ),
    )

    def __init__(
        self,
        every: int | None = None,
        fraction: float = 0.25,
        resample_probability: float = 0.25,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed)
        self.every, self.fraction, self.resample_probability = validate_declared(
            self.options,
            "pbt: ",
            every=every,
            fraction=fraction,
            resample_probability=resample_probability,
        )

    def to_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "every": self.every,
            "fraction": self.fraction,
            "resample_probability": self.resample_probability,
            "seed": self.seed,
        }


class _GuardedReporter(DirectReporter):
    """The study's reporter, silent once the study was interrupted: a population still
    finishing its epoch must not write values into trials already marked interrupted."""

    def __init__(self, reporter: Any, cancelled: Callable[[], bool]) -> None:
        super().__init__(reporter)
        self._cancelled = cancelled

    def report_intermediate(self, number: int, step: int, value: float) -> None:
        if self._cancelled():
            raise PopulationCancelled("the study was interrupted")
        super().report_intermediate(number, step, value)


class PopulationJob:
    """One population: the trials an objective trains together.

    Attributes:
        trials: one :class:`~honed.tune.Trial` per member (report per-epoch values and ask
            ``should_prune()`` through them, as an objective does).
        pruner: the study's pruner, or None.
        pbt: None, or the PBT settings (``every``, ``fraction``, ``resample_probability``
            and ``seed``, a seed derived from the study seed and the members' numbers).
        direction: ``"minimize"`` or ``"maximize"``.
    """

    def __init__(self, executor: PopulationExecutor, entries: list[tuple[Future, tuple]]):
        self._executor = executor
        self._generation = executor._generation
        self._futures: dict[int, Future] = {}
        self.trials: list[Trial] = []
        study_seed = 0
        for fut, args in entries:
            objective, reporter, number, params, seed, study_seed, pruner, direction = args
            reporter = _GuardedReporter(reporter, lambda: self.cancelled)
            self.trials.append(Trial(number, params, seed, study_seed, reporter, pruner, direction))
            self._futures[number] = fut
        self.objective = entries[0][1][0]
        self.pruner = entries[0][1][6]
        self.direction = entries[0][1][7]
        self.study_seed = study_seed
        self.pbt: dict[str, Any] | None = None
        if executor.pbt is not None:
            numbers = sorted(t.number for t in self.trials)
            ss = np.random.SeedSequence(study_seed, spawn_key=(numbers[0], 2, len(numbers)))
            self.pbt = {**executor.pbt, "seed": int(ss.generate_state(1, dtype=np.uint32)[0])}
        #: populations that may train at once (each takes this share of the memory)
        self.share = executor.workers
        self.t0 = time.perf_counter()
        self._held: list | None = None  # outcomes waiting for the end of ``together``
        self._held_numbers: set[int] = set()

    @property
    def cancelled(self) -> bool:
        """True once the study was interrupted: stop at the next chance."""
        return self._executor._generation != self._generation

    def check(self) -> None:
        """Raise :class:`PopulationCancelled` when the study was interrupted."""
        if self.cancelled:
            raise PopulationCancelled("the study was interrupted")

    def finished(self, trial: Trial) -> bool:
        return self._futures[trial.number].done() or trial.number in self._held_numbers

    @contextlib.contextmanager
    def together(self):
        """Outcomes given inside the block reach the study together at its end: members
        that end together are recorded together, and the study hands out the next trials
        for all the freed places at once (not one wave per member that happened to be
        first)."""
        self._held: list | None = []
        try:
            yield
        finally:
            held, self._held = self._held, None
            self._held_numbers.clear()
            for fut, out in held:  # back to back: nothing in between lets the study run
                fut.set_result(out)

    def finish(
        self,
        trial: Trial,
        value: float | None = None,
        error: BaseException | None = None,
        duration: float | None = None,
    ):
        """Record ``trial``'s outcome now: its value, or the exception it ended with
        (``TrialPruned``, ``Diverged``, any other for a failure), as ``run_trial`` would.
        ``duration``: the trial's share of the population's time (default: the time since
        the population started)."""
        fut = self._futures[trial.number]
        if self.finished(trial):
            return
        out = trial_outcome(trial, self.t0, value=value, error=error)
        if duration is not None:
            out["duration"] = float(duration)
        members = sorted(t.number for t in self.trials)
        out["user_attrs"] = {**out["user_attrs"], "population": members}
        if self._held is not None:
            self._held.append((fut, out))
            self._held_numbers.add(trial.number)
        else:
            fut.set_result(out)

    def finish_all(self, error: BaseException) -> None:
        """Every trial not finished yet ends with ``error``."""
        for t in self.trials:
            self.finish(t, error=error)


_STOP = object()


def _quietly(fn: Callable[[], Any]) -> None:
    # the population that needs it will raise it again, and say so
    with contextlib.suppress(Exception):
        fn()


MAX_MEMBERS = Option(
    "max_members",
    "int",
    None,
    at_least_one,
    "trials handed out at once, hence the largest population (default: all the sampler "
    "can draw); smaller waves let a learning sampler (tpe) see finished trials",
)


class PopulationExecutor(Executor):
    """Trains trials whose fixed settings agree as one population (see the module docstring).

    Args:
        workers: populations trained at once, each in a thread of the driver (default:
            one per core). BLAS gets ``max(1, cores // workers)`` threads, or more when
            fewer populations than that start at once (``cores // populations``).
        max_members: trials handed out at once, hence the largest population (default:
            no limit -- every trial the sampler can draw; an objective may still cut a
            population that would not fit in memory).
    """

    name = "population"
    kind = "population"  # what PBT needs; shared by the Ray population executor
    options = (WORKERS, MAX_MEMBERS)

    def __init__(self, workers: int | None = None, max_members: int | None = None) -> None:
        cores = os.cpu_count() or 1
        workers, max_members = validate_declared(
            self.options, workers=workers, max_members=max_members
        )
        self.workers = cores if workers is None else workers
        self.threads = max(1, cores // self.workers)
        self.max_workers = max_members if max_members is not None else 1 << 30
        self.pbt: dict[str, Any] | None = None
        self.split = True
        self._generation = 0  # goes up at each kill: populations of before stop
        self._queued: list[tuple[Future, Callable, tuple]] = []
        self._jobs: queue.Queue = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._limits: Any = None  # threadpoolctl's limiter of the first change
        self._blas: int | None = None  # the BLAS thread cap set, if any
        self._busy = 0  # populations training now
        self._lock = threading.Lock()

    # -- the study's hooks ----------------------------------------------------------------
    def configure(self, objective: Any, sampler: Any, pruner: Any) -> None:
        """Read PBT's settings from the sampler; refuse PBT with a pruner."""
        self.pbt = None
        if getattr(sampler, "name", None) == "pbt":
            if pruner is not None:
                raise ValueError(
                    "strategy 'pbt' replaces the worst members itself: it cannot be combined "
                    "with a pruner (tune.prune / --prune)"
                )
            if not hasattr(objective, "population_key"):
                raise ValueError(
                    "strategy 'pbt' trains populations: the objective must be one that can "
                    "(honed tune's experiment objective), not a plain function"
                )
            self.pbt = {
                "every": sampler.every,
                "fraction": sampler.fraction,
                "resample_probability": sampler.resample_probability,
            }
        # cut groups to keep every thread busy only when no decision depends on who
        # trains with whom
        self.split = self.pbt is None and pruner is None
        prepare = getattr(objective, "population_prepare", None)
        if prepare is not None:
            # e.g. load the data while the study draws and stores the first trials
            threading.Thread(target=_quietly, args=(prepare,), daemon=True).start()

    def submit(self, fn, *args) -> Future:
        fut: Future = Future()
        if fn is run_trial and hasattr(args[0], "population_key"):
            self._queued.append((fut, fn, args))  # grouped at the next flush
        else:  # nothing to group: it runs now, in one of the threads
            self._start()
            self._jobs.put((self._generation, ("one", fut, fn, args)))
        return fut

    def flush(self) -> None:
        """Group the queued trials into populations and start them."""
        items, self._queued = self._queued, []
        if not items:
            return
        groups: dict[Hashable, list[tuple[Future, tuple]]] = {}
        costs: dict[Hashable, float] = {}
        jobs: list[tuple[float, Any]] = []
        for fut, fn, args in items:
            objective = args[0] if args else None
            key = None
            if fn is run_trial and hasattr(objective, "population_key"):
                try:
                    key = objective.population_key(args[3])
                except Exception as e:  # a trial whose settings cannot train: it fails alone
                    trial = Trial(args[2], args[3], args[4], args[5], None, None, args[7])
                    fut.set_result(trial_outcome(trial, time.perf_counter(), error=e))
                    continue
            if key is None:
                jobs.append((0.0, ("one", fut, fn, args)))
                continue
            gkey = (id(objective), key)
            groups.setdefault(gkey, []).append((fut, args))
            cost = getattr(objective, "population_cost", None)
            costs[gkey] = costs.get(gkey, 0.0) + (float(cost(args[3])) if cost else 1.0)
        total = sum(costs.values())
        for gkey, entries in groups.items():
            entries.sort(key=lambda e: e[1][2])  # by trial number: a stable grouping
            pieces = 1
            if self.split and total > 0:
                # no piece costs more than a thread's fair share (then longest first)
                share = costs[gkey] / total * self.workers
                pieces = min(len(entries), max(1, math.ceil(share - 1e-9)))
                least = getattr(entries[0][1][0], "population_min_members", None)
                if least is not None:  # smaller pieces would only share the GIL
                    pieces = min(pieces, max(1, len(entries) // max(1, least(entries[0][1][3]))))
            size = -(-len(entries) // pieces)
            for i in range(0, len(entries), size):
                part = entries[i : i + size]
                jobs.append((costs[gkey] * len(part) / len(entries), ("population", part)))
        jobs.sort(key=lambda j: -j[0])  # the longest first: the threads finish together
        self._start()
        with self._lock:
            if self._busy == 0 and self._jobs.empty():
                # fewer populations than threads (PBT or pruning on one group): give BLAS
                # the cores the idle threads leave
                cores = os.cpu_count() or 1
                self._blas_threads(max(1, cores // max(1, min(self.workers, len(jobs)))))
            for _, job in jobs:
                self._jobs.put((self._generation, job))

    # -- threads ----------------------------------------------------------------------------
    def _blas_threads(self, n: int) -> None:
        """Cap BLAS at ``n`` threads (only while no population trains: OpenBLAS must not
        change its thread count under a running call)."""
        if n == self._blas:
            return
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            return
        limiter = threadpool_limits(limits=n)
        if self._limits is None:
            self._limits = limiter  # restores what the process had before the study
        self._blas = n

    def _start(self) -> None:
        if self._threads:
            return
        for i in range(self.workers):
            t = threading.Thread(target=self._work, name=f"honed-population-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            generation, job = job
            if generation != self._generation:
                continue  # handed out before an interruption
            with self._lock:
                self._busy += 1
            try:
                self._run(job)
            finally:
                with self._lock:
                    self._busy -= 1

    def _run(self, job) -> None:
        if job[0] == "one":
            _, fut, fn, args = job
            try:
                fut.set_result(fn(*args))
            except BaseException as e:  # the study records it as a worker error
                fut.set_exception(e)
            return
        pop = PopulationJob(self, job[1])
        try:
            pop.objective.train_population(pop)
        except PopulationCancelled:
            return
        except Exception as e:
            pop.finish_all(e)
        else:
            pop.finish_all(RuntimeError("the population ended without this trial's outcome"))

    def shutdown(self, kill: bool = False) -> None:
        if kill:
            # running populations stop at their next epoch; their trials are already marked
            # interrupted by the study, and nothing more is written to them
            self._generation += 1
            while True:
                try:
                    self._jobs.get_nowait()
                except queue.Empty:
                    break
        threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(_STOP)
        if not kill:
            for t in threads:
                t.join()
        self._queued = []
        if self._limits is not None:
            self._limits.restore_original_limits()
            self._limits, self._blas = None, None

    def restart(self) -> None:
        pass
