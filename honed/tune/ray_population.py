"""Populations as Ray tasks: the population executor's groups, one group a task.

``honed tune EXP --executor ray_population --address ADDR`` groups trials exactly as the
``population`` executor does (:mod:`honed.tune.population_executor`: trials whose settings
agree on everything but the per-member keys train as one population; ``--prune`` and
``--strategy pbt`` inside it), and trains each group as one Ray task on any node of the
cluster instead of a thread of the driver. Members report their per-epoch values live,
through the same reporter actor as :class:`~honed.tune.ray_executor.RayExecutor`, so the
study (and pruning) sees them as they come; only the driver writes the study.

A group lost with its node is run again by Ray (``max_retries``): the same members, the same
seeds, so the same values; values it reports again overwrite the lost run's.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future
from types import SimpleNamespace

from honed import validation as check

from .executors import WORKERS, limit_blas_threads
from .population_executor import MAX_MEMBERS, PopulationExecutor, PopulationJob
from .ray_executor import ADDRESS, RayExecutor, join_cluster


def train_group(threads: int, pbt: dict | None, share: int, entries: list[tuple]) -> list:
    """Train one group of trials (the study's ``run_trial`` arguments, one tuple a trial) as
    one population, in this process; returns each trial's outcome, in order."""
    limit_blas_threads(threads)
    stub = SimpleNamespace(_generation=0, pbt=pbt, workers=share)  # never cancelled here
    futures = [(Future(), args) for args in entries]
    job = PopulationJob(stub, futures)
    try:
        job.objective.train_population(job)
    except Exception as e:
        job.finish_all(e)
    else:
        job.finish_all(RuntimeError("the population ended without this trial's outcome"))
    return [fut.result() for fut, _ in futures]


class RayPopulationExecutor(PopulationExecutor):
    """The population executor, each group a Ray task reserving ``cpus_per_group`` CPUs.

    Args:
        address: the cluster (``resolve_address``: ``address``, ``$RAY_ADDRESS`` or a local
            Ray).
        workers: groups in flight at once (default: the cluster's CPUs // cpus_per_group).
        cpus_per_group: Ray CPUs (and BLAS threads) per group.
        retries: Ray's ``max_retries`` for a group lost to a system failure.
    """

    name = "ray_population"
    needs_pickle = True
    options = (ADDRESS, WORKERS, MAX_MEMBERS)

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        cpus_per_group: int = 1,
        retries: int = 3,
        max_members: int | None = None,
    ) -> None:
        cpus_per_group = check.integer("cpus_per_group", cpus_per_group, minimum=1)
        retries = check.integer("retries", retries, minimum=0)
        ray, self.address = join_cluster(address)
        self.ray = ray
        if workers is None:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)) // cpus_per_group)
        super().__init__(workers=workers, max_members=max_members)
        self.threads = cpus_per_group  # BLAS threads in each task, not in the driver
        self._remote = ray.remote(
            num_cpus=cpus_per_group, max_retries=retries, retry_exceptions=False
        )(train_group)
        self._refs: set = set()
        self._refs_lock = threading.Lock()

    # the reporter actor lives on the driver's node, as for RayExecutor's trials
    wrap_reporter = RayExecutor.wrap_reporter

    def _blas_threads(self, n: int) -> None:
        """The driver trains nothing: BLAS threads are set in each task."""

    def _run(self, job) -> None:
        if job[0] != "population":
            super()._run(job)  # plain work runs in a thread of the driver
            return
        entries = job[1]
        ref = self._remote.remote(
            self.threads, self.pbt, self.workers, [args for _, args in entries]
        )
        with self._refs_lock:
            self._refs.add(ref)
        try:
            outcomes = self.ray.get(ref)
        except Exception as e:  # the study records it as a worker error (trial re-run)
            for fut, _ in entries:
                if not fut.done():
                    fut.set_exception(e)
            return
        finally:
            with self._refs_lock:
                self._refs.discard(ref)
        for (fut, _), out in zip(entries, outcomes, strict=True):
            if not fut.done():
                fut.set_result(out)

    def shutdown(self, kill: bool = False) -> None:
        if kill:
            with self._refs_lock:
                refs, self._refs = list(self._refs), set()
            for ref in refs:
                with contextlib.suppress(Exception):  # already finished
                    self.ray.cancel(ref, force=True)
        super().shutdown(kill=kill)
