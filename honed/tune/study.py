"""Studies: a search space, a sampler and a seed, with every trial kept in an Optuna storage.

How a study runs (``Study.optimize``), in the driver process -- the only process that
writes the storage, and the only driver of the study file while it runs
(``StudyStorage.driver_lock``):

1. read the study once; from then on the driver keeps every trial in memory (so the cost
   per trial does not grow with the study) and writes each change through;
2. trials left running by a run that was cut off (crash, kill, Ctrl-C) are run again
   first, with their number, params and seed (``attempts`` goes up);
3. while fewer than ``workers`` trials run: take the next number, ask the sampler for its
   params (a sampler barrier -- coarse-to-fine -- makes it wait until the trials it
   depends on are finished), store the trial as RUNNING and hand it to the executor;
4. workers send per-epoch values to the driver (``channel.py``), which stores them in
   batches (``batching.py``: at least every half second, so optuna-dashboard shows them
   live; before a trial finishes; before a pruner reads them) and answers the pruner's
   questions;
5. record each outcome (``complete`` / ``failed`` / ``diverged`` / ``pruned``) the moment
   it arrives.

``n_trials`` is the size the study should reach: run it again with the same number and
only missing or interrupted trials run.  Ctrl-C marks the running trials ``interrupted``
(they re-run on resume) and re-raises ``KeyboardInterrupt``.

A worker process that dies fails its trial ("worker error"; the process executor first
runs it again in a fresh worker when a signal killed it) and the executor replaces it.
When workers keep dying before any trial gets through (``2 × workers`` in a row: a broken
installation, or a script without ``if __name__ == "__main__":`` whose workers re-run it),
the study stops with ``WorkersKeepDying`` and those trials become ``interrupted``, so they
run again once the cause is fixed.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import multiprocessing
import os
import pickle
import sys
import threading
import time
import traceback as tb_mod
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import asdict, replace
from typing import Any

from .channel import DirectReporter, ReportServer
from .executors import Executor
from .outcome import Objective, run_trial, trial_outcome
from .progress import Progress
from .pruners import Pruner
from .registry import make_executor, make_pruner, make_sampler, sampler_from_config
from .samplers import Sampler, ZoomSampler
from .space import SearchSpace
from .storage import StudyFileError, StudyStorage, open_storage
from .trial import FrozenTrial, TrialState, trial_seeds

__all__ = ["Study", "WorkersKeepDying", "optimize", "run_trial", "trial_outcome"]


class WorkersKeepDying(RuntimeError):
    """Worker processes died ``2 × workers`` times in a row without finishing a trial."""


def _same_sampler(given: dict, stored: dict) -> bool:
    # An unset budget (None) in the given config means "whatever the study uses".
    return all(stored.get(k) == v for k, v in given.items() if v is not None or k != "budget")


class _Sink:
    """The driver's end of the report channel: per-epoch values and pruning questions."""

    def __init__(self, study: Study, pruner: Pruner | None) -> None:
        self.study = study
        self.pruner = pruner
        self.lock = study._lock
        self._optuna_study = None

    def report_intermediate(self, number: int, step: int, value: float) -> None:
        st = self.study
        with self.lock:
            st.storage.report(st._ids[number], step, value)
            st._at.setdefault(int(step), {})[number] = value

    def intermediate_at(self, step: int) -> dict[int, float]:
        with self.lock:
            return dict(self.study._at.get(int(step), {}))

    def should_prune(self, number: int) -> bool:
        from .optuna_bridge import import_optuna

        st = self.study
        with self.lock:
            if self._optuna_study is None:
                optuna = import_optuna()
                self._optuna_study = optuna.load_study(
                    study_name=st.name,
                    storage=st.storage.optuna,
                    pruner=self.pruner.optuna_pruner(),
                )
            st.storage.flush_reports()  # the pruner decides on what it can read
            frozen = st.storage.optuna.get_trial(st._ids[number])
            return bool(self.pruner.optuna_pruner().prune(self._optuna_study, frozen))


class Study:
    """A named study in an Optuna storage; opens the existing one or creates it.

    Args:
        storage: a study file (``.journal``, the default kind, or ``.db``/``.sqlite`` for
            Optuna's SQLite storage; created with its folder if missing), a ``sqlite:///``
            URL, an Optuna storage, or a ``StudyStorage``.
        study_name: several studies can share a file.
        space: ``SearchSpace``, or its config dict (``{"train.lr": {"log": [1e-4, 1]}}``).
            Required to create a study (``{}`` for a purely define-by-run objective);
            optional when opening one, and then it must equal the stored one.
        sampler: ``"random"`` (default), ``"grid"``, ``"zoom"``, ``"tpe"`` or any Optuna
            sampler's name, a config dict or a ``Sampler``.  Stored with the study, so a
            resumed study samples the same way.
        seed: the study seed (default 0); with the trial number it fixes every trial's
            params (honed's samplers) and its ``trial.seed``.
        direction: ``"minimize"`` (dev error, default) or ``"maximize"``.
        user_attrs: JSON-able notes, e.g. the experiment config the objective trains.

    Raises:
        ValueError: when opening a study with a different space, sampler, seed or
            direction than it was created with; ``OldStudyFormat`` (a ValueError) for a
            file in honed's old format, naming the command that upgrades it.
        StudyBusy: when ``space`` is given (the study may be created) and another
            driver is running or creating a study of this file.
    """

    def __init__(
        self,
        storage: Any,
        study_name: str = "default",
        space: SearchSpace | Mapping[str, Any] | None = None,
        sampler: str | dict | Sampler | None = None,
        seed: int | None = None,
        direction: str | None = None,
        user_attrs: dict[str, Any] | None = None,
    ) -> None:
        self._cache: list[FrozenTrial] | None = None  # the driver's trials, while it runs
        if direction not in (None, "minimize", "maximize"):
            raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
        if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.storage: StudyStorage = open_storage(storage)
        self.storage_path = self.storage.path or self.storage.url
        self.name = study_name
        if space is not None and not isinstance(space, SearchSpace):
            space = SearchSpace.from_config(space)
        # Whoever may create the study holds the driver lock from before the file is
        # opened: two drivers starting on a new file would otherwise both create its
        # tables and the study; the second one is refused as StudyBusy instead.
        creating = self.storage.driver_lock(study_name) if space is not None else None
        with creating or contextlib.nullcontext():
            row = self.storage.get_study(study_name)
            if row is None:
                if space is None:
                    names = self.storage.study_names()
                    raise ValueError(
                        f"study {study_name!r} does not exist in {self.storage_path}"
                        + (f", which holds: {', '.join(names)}" if names else "")
                        + "; give a search space to create it"
                    )
                smp = make_sampler(sampler)
                row = self.storage.create_study(
                    study_name,
                    direction or "minimize",
                    space.to_json(),
                    smp.to_config(),
                    0 if seed is None else int(seed),
                    user_attrs,
                )
        stored_space = SearchSpace.from_config(row["space"])
        checks = [
            ("space", space, stored_space),
            ("seed", seed, row["seed"]),
            ("direction", direction, row["direction"]),
        ]
        for what, given, stored in checks:
            if given is not None and given != stored:
                raise ValueError(
                    f"study {study_name!r} in {self.storage_path} has {what} {stored!r}, "
                    f"got {given!r}; use another study_name or storage_path"
                )
        if sampler is not None and not _same_sampler(
            make_sampler(sampler).to_config(), row["sampler"]
        ):
            raise ValueError(
                f"study {study_name!r} has sampler {row['sampler']!r}, got "
                f"{make_sampler(sampler).to_config()!r}"
            )
        self.id: int = row["id"]
        self.space = stored_space
        self.sampler: Sampler = sampler_from_config(row["sampler"])
        self.seed: int = row["seed"]
        self.direction: str = row["direction"]
        self.created: float | None = row["created"]
        self.format: int | None = row["format"]
        self.user_attrs: dict[str, Any] = row["user_attrs"]
        self._ids: list[int] = []
        self._at: dict[int, dict[int, float]] = {}  # step -> {number: value}, while it runs
        self._lock = threading.RLock()  # the driver's threads: main loop and report channel

    # -- reading ------------------------------------------------------------------------
    @property
    def value_name(self) -> str:
        """What a trial's value measures, for tables and axes: the ``value_name`` user
        attribute its creator stored (``"dev RMSE / σ"`` for a regression experiment),
        else ``"dev error"``."""
        name = self.user_attrs.get("value_name") if isinstance(self.user_attrs, dict) else None
        return name if isinstance(name, str) and name else "dev error"

    @property
    def trials(self) -> list[FrozenTrial]:
        """Every trial, by number (a fresh read of the storage; while this process runs
        the study, the driver's own up-to-date copy)."""
        if self._cache is not None:
            return list(self._cache)
        # `show` and `report` read the trials several times: re-read only when the file
        # changed (a journal only grows; SQLite's size or mtime moves with each write)
        key = None
        if self.storage.path is not None and os.path.exists(self.storage.path):
            st = os.stat(self.storage.path)
            key = (st.st_size, st.st_mtime_ns)
        if key is None or key != getattr(self, "_read_key", None):
            self._read = self.storage.get_trials(self.id)[0]
            self._read_key = key
        return list(self._read)

    def _sign(self) -> float:
        return 1.0 if self.direction == "minimize" else -1.0

    def best_trials(self, k: int = 1) -> list[FrozenTrial]:
        """The ``k`` best complete trials, best first (ties: lower number first)."""
        ok = [t for t in self.trials if t.finished_ok]
        return sorted(ok, key=lambda t: (self._sign() * t.value, t.number))[:k]

    @property
    def best_trial(self) -> FrozenTrial | None:
        best = self.best_trials(1)
        return best[0] if best else None

    @property
    def best_params(self) -> dict[str, Any] | None:
        best = self.best_trial
        return None if best is None else dict(best.params)

    def summary(self) -> dict[str, int]:
        """Number of trials in each state (every state present, zeros included)."""
        counts = {s: 0 for s in TrialState.ALL}
        for t in self.trials:
            counts[t.state] = counts.get(t.state, 0) + 1
        return counts

    def zoom_boxes(self) -> list[dict[str, tuple[float, float]]]:
        """For a coarse-to-fine study, each stage's box on the internal scales (stage 0
        is the whole space); ``[]`` for other samplers.  Recomputed from the stored
        trials, which is exactly what the sampler did."""
        if not isinstance(self.sampler, ZoomSampler) or self.sampler.budget is None:
            return []
        return self.sampler.boxes(self.space, self.trials, self.direction)

    def export_json(self, path: str | os.PathLike) -> None:
        """The study and all its trials as one JSON document (NaN written as null)."""

        def clean(o):
            if isinstance(o, float) and not math.isfinite(o):
                return None
            if isinstance(o, dict):
                return {str(k): clean(v) for k, v in o.items()}
            if isinstance(o, list):
                return [clean(v) for v in o]
            return o

        doc = {
            "name": self.name,
            "direction": self.direction,
            "seed": self.seed,
            "space": self.space.to_json(),
            "sampler": self.sampler.to_config(),
            "created": self.created,
            "user_attrs": self.user_attrs,
            "summary": self.summary(),
            "trials": [asdict(t) for t in self.trials],
        }
        with open(path, "w") as f:
            json.dump(clean(doc), f, indent=1)

    def export_csv(self, path: str | os.PathLike) -> None:
        """One row per trial: number, state, value, one ``param:<name>`` column per
        parameter, seed, duration, attempts, worker, error, and the per-epoch values
        as JSON."""
        trials = self.trials
        names = list(self.space)
        for t in trials:
            names += [n for n in t.params if n not in names]
        head = [
            "number",
            "state",
            "value",
            *[f"param:{n}" for n in names],
            "seed",
            "duration",
            "attempts",
            "worker",
            "started",
            "finished",
            "error",
            "intermediate",
        ]
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(head)
            for t in trials:
                w.writerow(
                    [
                        t.number,
                        t.state,
                        "" if t.value is None else repr(t.value),
                        *[t.params.get(n, "") for n in names],
                        t.seed,
                        "" if t.duration is None else f"{t.duration:.6g}",
                        t.attempts,
                        t.worker or "",
                        t.started or "",
                        t.finished or "",
                        t.error or "",
                        json.dumps(
                            {
                                str(k): (None if not math.isfinite(v) else v)
                                for k, v in t.intermediate.items()
                            }
                        ),
                    ]
                )

    def __repr__(self) -> str:
        return f"Study(name={self.name!r}, path={self.storage_path!r}, {self.summary()})"

    def _repr_html_(self) -> str:
        """In a notebook: trials per state, the best trials, the study's figure."""
        from honed.plots.notebook import study_html

        return study_html(self)

    # -- running ------------------------------------------------------------------------
    def optimize(
        self,
        objective: Objective,
        n_trials: int,
        *,
        workers: int | None = None,
        executor: str | Executor | None = None,
        pruner: str | dict | Pruner | None = None,
        progress: Any = "auto",
        callbacks: Iterable[Callable[[Study, FrozenTrial], None]] = (),
    ) -> Study:
        """Run trials until the study has ``n_trials`` finished ones.

        Args:
            objective: ``objective(trial) -> float`` (the final dev error).  Picklable for
                process and Ray workers (module-level function, ``functools.partial``,
                or an instance of a module-level class).
            n_trials: the size the study should reach (not "this many more").
            workers: trials at once (process executor default: ``os.cpu_count()``).
            executor: ``"process"`` (default), ``"inprocess"``, ``"ray"`` or an Executor.
            pruner: ``SuccessiveHalvingPruner()``, ``"median"``, ``"hyperband"`` (Optuna's)
                or another registered name; none by default.
            progress: ``"auto"``, ``"lines"``, ``"bar"`` or ``False`` (see ``progress``).
            callbacks: ``fn(study, trial)`` after each finished trial, in the driver.

        Returns:
            the study itself.

        Raises:
            StudyBusy: when another process is running a study of this file.
        """
        if isinstance(n_trials, bool) or int(n_trials) != n_trials or n_trials < 0:
            raise ValueError(f"n_trials must be a non-negative integer, got {n_trials!r}")
        n_trials = int(n_trials)
        pruner = make_pruner(pruner)
        _refuse_in_worker_bootstrap()
        with self.storage.driver_lock(self.name):
            if getattr(self.sampler, "budget", "none") is None:
                # grid size and stage sizes come from the first requested budget, then stay
                self.sampler.budget = n_trials
                self.storage.set_study_system_attr(
                    self.id, "honed:sampler", self.sampler.to_config()
                )
            ex = make_executor(executor, workers)
            needs = getattr(self.sampler, "needs_executor", None)
            # a Ray population executor is a population executor too
            kinds = {getattr(ex, "name", None), getattr(ex, "kind", None)}
            if needs is not None and needs not in kinds:
                raise ValueError(
                    f"sampler {self.sampler.to_config()['name']!r} needs executor={needs!r} "
                    f"(tune.executor = {needs!r}, --executor {needs}), got "
                    f"{getattr(ex, 'name', type(ex).__name__)!r}"
                )
            ex.configure(objective, self.sampler, pruner)
            if ex.needs_pickle:
                try:
                    pickle.dumps((objective, pruner))
                except Exception as e:
                    raise TypeError(
                        "the objective (and pruner) must be picklable to run in worker "
                        "processes: define it at module level, or use functools.partial or "
                        "an instance of a module-level class; or use executor='inprocess' "
                        f"({e})"
                    ) from e
            trials, ids = self.storage.get_trials(self.id)
            self._cache, self._ids, self._at = trials, ids, {}
            for t in trials:
                for step, v in t.intermediate.items():
                    self._at.setdefault(step, {})[t.number] = v
            sink = _Sink(self, pruner)
            server = ReportServer(sink) if ex.needs_pickle else None
            try:
                reporter = ex.wrap_reporter(server.client() if server else DirectReporter(sink))
                # per-epoch values reach the storage in batches (batching.py)
                with self.storage.batched_reports():
                    return self._run(
                        objective, n_trials, ex, pruner, reporter, sink, progress, callbacks
                    )
            finally:
                if server is not None:
                    server.close()
                self._cache = None

    def _run(self, objective, n_trials, ex, pruner, reporter, sink, progress, callbacks):
        cache, ids = self._cache, self._ids
        sampler, space, seed, direction = self.sampler, self.space, self.seed, self.direction
        for t in cache:
            sampler.observe(t, space, seed, direction)
        # Every trial still running was cut off: this process holds the driver lock.
        rerun = [t.number for t in cache if t.state in (TrialState.RUNNING, TrialState.INTERRUPTED)]
        prog = Progress(n_trials, progress, direction=direction)
        prog.start(cache)
        running: dict[Any, FrozenTrial] = {}
        # (trial, outcome) lost to dying workers since the last good trial
        dead_in_a_row: list[tuple[FrozenTrial, dict]] = []

        def claim() -> FrozenTrial | str | None:
            with sink.lock:
                if rerun:
                    number = rerun.pop(0)
                    old = cache[number]
                    self.storage.restart_trial(ids[number], old.attempts + 1)
                    for at in self._at.values():  # the cut-off attempt's curve is dropped
                        at.pop(number, None)
                    t = replace(
                        old,
                        state=TrialState.RUNNING,
                        attempts=old.attempts + 1,
                        value=None,
                        intermediate={},
                        error=None,
                        traceback=None,
                        started=time.time(),
                        finished=None,
                        duration=None,
                    )
                    cache[number] = t
                    return t
                number = len(cache)
                if number >= n_trials:
                    return None
                if not sampler.ready(number, cache):
                    return "wait"
                params = sampler.sample(number, space, seed, cache, direction)
                tseed = trial_seeds(seed, number)
                tid, onum, started = self.storage.create_trial(self.id, params, space, tseed)
                if onum != number:  # pragma: no cover - only if something else wrote
                    raise RuntimeError(f"study {self.name!r}: trial {onum} stored as {number}")
                t = FrozenTrial(number, TrialState.RUNNING, params, tseed, started=started)
                cache.append(t)
                ids.append(tid)
                return t

        try:
            exhausted = False
            while True:
                while not exhausted and len(running) < ex.max_workers:
                    got = claim()
                    if got is None:
                        exhausted = True
                    if not isinstance(got, FrozenTrial):
                        break
                    fut = ex.submit(
                        run_trial,
                        objective,
                        reporter,
                        got.number,
                        got.params,
                        got.seed,
                        seed,
                        pruner,
                        direction,
                    )
                    running[fut] = got
                if not running:
                    if exhausted or not dead_in_a_row:
                        break
                    # a barrier waits on trials whose workers died: record them failed
                    self._fail_dead(dead_in_a_row, callbacks, prog, running)
                    continue
                ex.flush()  # all that can be handed out now is: batching executors start
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: running[f].number):
                    t = running.pop(fut)
                    ok, out = self._outcome(fut, ex)
                    if not ok:  # the worker died: failed if the study goes on, else interrupted
                        dead_in_a_row.append((t, out))
                        if len(dead_in_a_row) >= 2 * ex.max_workers:
                            numbers = [d.number for d, _ in dead_in_a_row]
                            raise WorkersKeepDying(
                                f"worker processes died {len(numbers)} times in a row "
                                f"without finishing a trial, so the study stops; trials "
                                f"{sorted(numbers)} are marked interrupted and run "
                                "again on resume. Errors the workers printed, if any, are "
                                "above. (A script that runs a study must do it under "
                                '`if __name__ == "__main__":`: workers import the main module.)'
                            )
                        continue
                    self._fail_dead(dead_in_a_row, callbacks, prog, running)
                    final = self._finish(t, out, sampler)
                    prog.trial_finished(final, list(running.values()))
                    for cb in callbacks:
                        cb(self, final)
            self._fail_dead(dead_in_a_row, callbacks, prog, running)
        except KeyboardInterrupt:
            numbers = self._interrupt()
            ex.shutdown(kill=True)
            prog.close()
            print(
                f"\nstudy {self.name!r} interrupted: trial(s) {sorted(numbers)} marked "
                f"interrupted; run it again to resume ({self.storage_path})",
                file=sys.stderr,
            )
            raise
        except BaseException:
            # a study file that cannot be written (full disk) cannot record this either:
            # the trials it leaves running are run again on resume all the same
            with contextlib.suppress(StudyFileError):
                self._interrupt()
            ex.shutdown(kill=True)
            prog.close()
            raise
        ex.shutdown()
        prog.close()
        return self

    def _interrupt(self) -> list[int]:
        """Mark every trial still running interrupted (running, just claimed, or whose
        worker died): this driver is the only one, so none of them will finish now.

        Read from the storage, not the driver's cache: Ctrl-C can land between a trial's
        creation in the storage and its entry in the cache. A second Ctrl-C waits until
        the marking is done.
        """
        from honed.train.durable import deferred_signals

        with deferred_signals():
            trials, ids = self.storage.get_trials(self.id)
            numbers = [t.number for t in trials if t.state == TrialState.RUNNING]
            self.storage.mark_interrupted([ids[n] for n in numbers])
        for n in numbers:
            if n < len(self._cache):
                self._cache[n] = replace(self._cache[n], state=TrialState.INTERRUPTED)
        return numbers

    def _fail_dead(self, dead, callbacks, prog, running) -> None:
        """Trials whose worker died, now that the study goes on: recorded failed."""
        while dead:
            t, out = dead.pop(0)
            final = self._finish(t, out, self.sampler)
            prog.trial_finished(final, list(running.values()))
            for cb in callbacks:
                cb(self, final)

    def _outcome(self, fut, ex: Executor) -> tuple[bool, dict]:
        """(False, a "worker error" outcome) when the worker died instead of running it."""
        try:
            return True, fut.result()
        except Exception as e:
            # Not the objective (run_trial catches that): the worker itself died, or the
            # arguments could not be sent.  Carry on with a fresh pool.
            ex.restart()
            return False, {
                "state": TrialState.FAILED,
                "value": None,
                "error": f"worker error: {type(e).__name__}: {e}",
                "traceback": "".join(tb_mod.format_exception(e)),
            }

    def _finish(self, t: FrozenTrial, out: dict, sampler: Sampler) -> FrozenTrial:
        from .space import distribution_from_json

        params = out.get("params") or t.params
        new = {
            n: (params[n], distribution_from_json(d, n))
            for n, d in (out.get("suggested") or {}).items()
            if n not in t.params
        }
        with self._lock:
            finished = self.storage.finish(
                self._ids[t.number],
                out["state"],
                out.get("value"),
                error=out.get("error"),
                traceback=out.get("traceback"),
                duration=out.get("duration"),
                worker=out.get("worker"),
                new_params=new,
                user_attrs=out.get("user_attrs"),
            )
            value = out.get("value")
            final = replace(
                t,
                state=TrialState(out["state"]),
                params=dict(params),
                value=value if value is not None and math.isfinite(value) else None,
                intermediate=dict(out.get("intermediate") or {}),
                duration=out.get("duration"),
                finished=finished,
                error=out.get("error"),
                traceback=out.get("traceback"),
                worker=out.get("worker"),
                user_attrs=dict(out.get("user_attrs") or {}),
            )
            self._cache[t.number] = final
        sampler.observe(final, self.space, self.seed, self.direction)
        return final


def _refuse_in_worker_bootstrap() -> None:
    """Raise when this process is a ``spawn`` worker still importing the main module.

    A worker started with ``spawn`` runs the main script's top level again; a script
    that starts a study there without ``if __name__ == "__main__":`` would make every
    worker a second driver of the same study. Stop it before it touches the storage.
    ``_inheriting`` is the flag multiprocessing itself checks for its own error.
    """
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(
            "a study was started while a worker process was importing the main module: "
            "worker processes run the script's top level again, so the code that runs the "
            'study must be under `if __name__ == "__main__":`'
        )


def optimize(
    objective: Objective,
    space: SearchSpace | Mapping[str, Any],
    n_trials: int,
    storage_path: str | os.PathLike,
    study_name: str = "default",
    *,
    sampler: str | dict | Sampler = "random",
    seed: int = 0,
    direction: str = "minimize",
    workers: int | None = None,
    executor: str | Executor | None = "process",
    pruner: Pruner | None = None,
    progress: Any = "auto",
    callbacks: Iterable[Callable[[Study, FrozenTrial], None]] = (),
    user_attrs: dict[str, Any] | None = None,
) -> Study:
    """Create or resume the study ``study_name`` in ``storage_path`` and run it to
    ``n_trials`` trials.  See ``Study`` and ``Study.optimize`` for the arguments."""
    _refuse_in_worker_bootstrap()  # before Study() takes the driver lock the driver holds
    study = Study(
        storage_path,
        study_name,
        space=space,
        sampler=sampler,
        seed=seed,
        direction=direction,
        user_attrs=user_attrs,
    )
    return study.optimize(
        objective,
        n_trials,
        workers=workers,
        executor=executor,
        pruner=pruner,
        progress=progress,
        callbacks=callbacks,
    )
