"""Studies: a search space, a sampler and a seed, with every trial kept in SQLite.

How a study runs (``Study.optimize``), in the driver process:

1. trials left ``running`` by a dead process become ``interrupted``;
2. while fewer than ``workers`` trials run: claim the next one from the database (an
   interrupted trial first, with its number, params and seed; else the next number,
   sampled now) and hand it to the executor; a sampler barrier (coarse-to-fine) makes
   the claim wait until the trials it depends on are finished;
3. record each outcome (``complete`` / ``failed`` / ``diverged`` / ``pruned``) the moment
   it arrives, in one transaction.

``n_trials`` is the size the study should reach: run it again with the same number and
only missing or interrupted trials run.  Ctrl-C marks the running trials ``interrupted``
(they re-run on resume) and re-raises ``KeyboardInterrupt``.

A worker process that dies fails its trial ("worker error") and the pool is restarted.
When workers keep dying before any trial gets through (``2 × workers`` in a row: a broken
installation, or a script without ``if __name__ == "__main__":`` whose workers re-run it),
the study stops with ``WorkersKeepDying`` and those trials become ``interrupted``, so they
run again once the cause is fixed.
"""

from __future__ import annotations

import csv
import json
import math
import multiprocessing
import os
import pickle
import sys
import time
import traceback as tb_mod
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import asdict
from typing import Any

from .executors import Executor, make_executor
from .progress import Progress
from .pruners import Pruner
from .samplers import Sampler, ZoomSampler, make_sampler, sampler_from_config
from .space import SearchSpace
from .storage import Reporter, SQLiteStorage, driver_id
from .trial import Diverged, FrozenTrial, Trial, TrialPruned, TrialState, trial_seeds

__all__ = ["Study", "WorkersKeepDying", "optimize", "run_trial"]

Objective = Callable[[Trial], float]


class WorkersKeepDying(RuntimeError):
    """Worker processes died ``2 × workers`` times in a row without finishing a trial."""


def run_trial(
    objective: Objective,
    reporter: Any,
    number: int,
    params: dict[str, Any],
    seed: int,
    study_seed: int,
    pruner: Pruner | None,
    direction: str,
) -> dict[str, Any]:
    """Run one trial and say how it went (runs in the worker).  Never raises for an
    objective's failure: the outcome is data, so one bad trial cannot stop a study."""
    trial = Trial(number, params, seed, study_seed, reporter, pruner, direction)
    t0 = time.perf_counter()
    out: dict[str, Any] = {"value": None, "error": None, "traceback": None}
    try:
        value = float(objective(trial))
        if math.isfinite(value):
            out.update(state=TrialState.COMPLETE, value=value)
        else:
            out.update(state=TrialState.DIVERGED, error=f"objective returned {value}")
    except TrialPruned as e:
        last = trial.intermediate[max(trial.intermediate)] if trial.intermediate else None
        out.update(state=TrialState.PRUNED, value=last, error=str(e) or None)
    except Diverged as e:
        out.update(state=TrialState.DIVERGED, error=f"Diverged: {e}", traceback=tb_mod.format_exc())
    except Exception as e:
        out.update(
            state=TrialState.FAILED, error=f"{type(e).__name__}: {e}", traceback=tb_mod.format_exc()
        )
    out.update(
        duration=time.perf_counter() - t0,
        worker=driver_id(),
        params=trial.params,
        user_attrs=trial.user_attrs,
    )
    return out


def _same_sampler(given: dict, stored: dict) -> bool:
    # An unset budget (None) in the given config means "whatever the study uses".
    return all(stored.get(k) == v for k, v in given.items() if v is not None or k != "budget")


class Study:
    """A named study in a SQLite file; opens the existing one or creates it.

    Args:
        storage_path: the ``.db`` file (created with its folder if missing).
        study_name: several studies can share a file.
        space: ``SearchSpace``, or its config dict (``{"train.lr": {"log": [1e-4, 1]}}``).
            Required to create a study (``{}`` for a purely define-by-run objective);
            optional when opening one, and then it must equal the stored one.
        sampler: ``"random"`` (default), ``"grid"``, ``"zoom"``, a config dict or a
            ``Sampler``.  Stored with the study, so a resumed study samples the same way.
        seed: the study seed (default 0); with the trial number it fixes every trial's
            params and its ``trial.seed``.
        direction: ``"minimize"`` (dev error, default) or ``"maximize"``.
        user_attrs: JSON-able notes, e.g. the experiment config the objective trains.

    Raises:
        ValueError: when opening a study with a different space, sampler, seed or
            direction than it was created with.
    """

    def __init__(
        self,
        storage_path: str | os.PathLike,
        study_name: str = "default",
        space: SearchSpace | Mapping[str, Any] | None = None,
        sampler: str | dict | Sampler | None = None,
        seed: int | None = None,
        direction: str | None = None,
        user_attrs: dict[str, Any] | None = None,
    ) -> None:
        if direction not in (None, "minimize", "maximize"):
            raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
        if seed is not None and (isinstance(seed, bool) or int(seed) != seed or seed < 0):
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.storage = SQLiteStorage(storage_path)
        self.storage_path = os.fspath(storage_path)
        self.name = study_name
        if space is not None and not isinstance(space, SearchSpace):
            space = SearchSpace.from_config(space)
        row = self.storage.get_study(study_name)
        if row is None:
            if space is None:
                raise ValueError(
                    f"study {study_name!r} does not exist in {self.storage_path}; "
                    "give a search space to create it"
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
        self.created: float = row["created"]
        self.user_attrs: dict[str, Any] = row["user_attrs"]

    # -- reading ------------------------------------------------------------------------
    @property
    def trials(self) -> list[FrozenTrial]:
        """Every trial, by number (a fresh read of the database)."""
        return self.storage.get_trials(self.id)

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

    # -- running ------------------------------------------------------------------------
    def optimize(
        self,
        objective: Objective,
        n_trials: int,
        *,
        workers: int | None = None,
        executor: str | Executor | None = None,
        pruner: Pruner | None = None,
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
            pruner: e.g. ``SuccessiveHalvingPruner()``; none by default.
            progress: ``"auto"``, ``"lines"``, ``"bar"`` or ``False`` (see ``progress``).
            callbacks: ``fn(study, trial)`` after each finished trial, in the driver.

        Returns:
            the study itself.
        """
        if isinstance(n_trials, bool) or int(n_trials) != n_trials or n_trials < 0:
            raise ValueError(f"n_trials must be a non-negative integer, got {n_trials!r}")
        n_trials = int(n_trials)
        _refuse_in_worker_bootstrap()
        if getattr(self.sampler, "budget", "none") is None:
            # grid size and stage sizes come from the first requested budget, then stay
            self.sampler.budget = n_trials
            conf = self.sampler.to_config()
            with self.storage._tx() as c:
                c.execute(
                    "UPDATE studies SET sampler = ? WHERE id = ?", (json.dumps(conf), self.id)
                )
        ex = make_executor(executor, workers)
        if ex.needs_pickle:
            try:
                pickle.dumps((objective, pruner))
            except Exception as e:
                raise TypeError(
                    "the objective (and pruner) must be picklable to run in worker "
                    "processes: define it at module level, or use functools.partial or an "
                    f"instance of a module-level class; or use executor='inprocess' ({e})"
                ) from e
        self.storage.recover_stale(self.id)
        reporter = ex.wrap_reporter(Reporter(self.storage, self.id))
        me = driver_id()
        sampler, space, seed, direction = self.sampler, self.space, self.seed, self.direction

        def sample(number, history):
            return sampler.sample(number, space, seed, history, direction), trial_seeds(
                seed, number
            )

        prog = Progress(n_trials, progress, direction=direction)
        prog.start(self.storage.get_trials(self.id, intermediate=False))
        running: dict[Any, FrozenTrial] = {}
        claimed: FrozenTrial | None = None
        dead_in_a_row: list[int] = []  # trials lost to dying workers since the last good one
        try:
            exhausted = False
            while True:
                while not exhausted and len(running) < ex.max_workers:
                    got = self.storage.claim(self.id, n_trials, sample, sampler.ready, me)
                    if got is None:
                        exhausted = True
                    if not isinstance(got, FrozenTrial):
                        break
                    claimed = got
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
                    claimed = None
                if not running:
                    if exhausted:
                        break
                    # A barrier waits on trials run by another process on this study.
                    time.sleep(0.2)
                    self.storage.recover_stale(self.id)
                    continue
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: running[f].number):
                    t = running.pop(fut)
                    if self._record(fut, t, ex):
                        dead_in_a_row.clear()
                    else:
                        dead_in_a_row.append(t.number)
                        if len(dead_in_a_row) >= 2 * ex.max_workers:
                            self.storage.mark_interrupted(
                                self.id, dead_in_a_row, was=TrialState.FAILED
                            )
                            raise WorkersKeepDying(
                                f"worker processes died {len(dead_in_a_row)} times in a row "
                                f"without finishing a trial, so the study stops; trials "
                                f"{sorted(dead_in_a_row)} are marked interrupted and run "
                                "again on resume. Errors the workers printed, if any, are above. "
                                "(A script that runs a study must do it under "
                                '`if __name__ == "__main__":`: workers import the main module.)'
                            )
                    final = self.storage.get_trial(self.id, t.number)
                    if final is not None:
                        prog.trial_finished(final, list(running.values()))
                        for cb in callbacks:
                            cb(self, final)
        except KeyboardInterrupt:
            numbers = [t.number for t in running.values()]
            if claimed is not None:
                numbers.append(claimed.number)
            self.storage.mark_interrupted(self.id, numbers)
            ex.shutdown(kill=True)
            prog.close()
            print(
                f"\nstudy {self.name!r} interrupted: trial(s) {sorted(numbers)} marked "
                f"interrupted; run it again to resume ({self.storage_path})",
                file=sys.stderr,
            )
            raise
        except BaseException:
            numbers = [t.number for t in running.values()]
            if claimed is not None:  # claimed, but handing it to the executor failed
                numbers.append(claimed.number)
            self.storage.mark_interrupted(self.id, numbers)
            ex.shutdown(kill=True)
            prog.close()
            raise
        ex.shutdown()
        prog.close()
        return self

    def _record(self, fut, t: FrozenTrial, ex: Executor) -> bool:
        """Store the trial's outcome; False when its worker died instead of running it."""
        try:
            out = fut.result()
        except Exception as e:
            # Not the objective (run_trial catches that): the worker itself died, or the
            # arguments could not be sent.  Record it and carry on with a fresh pool.
            out = {
                "state": TrialState.FAILED,
                "value": None,
                "error": f"worker error: {type(e).__name__}: {e}",
                "traceback": "".join(tb_mod.format_exception(e)),
            }
            ex.restart()
            self.storage.finish(self.id, t.number, t.attempts, **out)
            return False
        self.storage.finish(self.id, t.number, t.attempts, **out)
        return True


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
