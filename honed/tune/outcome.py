"""What a trial's run comes to: ``run_trial`` runs an objective on one trial (in whatever
process or thread an executor runs it) and returns its outcome as data; the study records
it. Executors that run trials their own way (``population``) build outcomes with
``trial_outcome`` too."""

from __future__ import annotations

import math
import time
import traceback as tb_mod
from collections.abc import Callable
from typing import Any

from .pruners import Pruner
from .storage import driver_id
from .trial import Diverged, Trial, TrialPruned, TrialState

__all__ = ["Objective", "run_trial", "trial_outcome"]

Objective = Callable[[Trial], float]


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
    try:
        value = float(objective(trial))
    except Exception as e:  # KeyboardInterrupt propagates to the study
        return trial_outcome(trial, t0, error=e)
    finally:
        # values a worker still holds reach the driver before the outcome does
        flush = getattr(reporter, "flush", None)
        if flush is not None:
            flush()
    return trial_outcome(trial, t0, value=value)


def trial_outcome(
    trial: Trial, t0: float, value: float | None = None, error: BaseException | None = None
) -> dict[str, Any]:
    """The outcome record of a trial that returned ``value`` or raised ``error``, started
    at ``time.perf_counter() == t0``: what ``run_trial`` returns and the study records.
    Executors that run trials their own way (``population``) build it with this too."""
    out: dict[str, Any] = {"value": None, "error": None, "traceback": None}
    if error is None:
        value = float(value)  # type: ignore[arg-type]
        if math.isfinite(value):
            out.update(state=TrialState.COMPLETE, value=value)
        else:
            out.update(state=TrialState.DIVERGED, error=f"objective returned {value}")
    elif isinstance(error, TrialPruned):
        last = trial.intermediate[max(trial.intermediate)] if trial.intermediate else None
        out.update(state=TrialState.PRUNED, value=last, error=str(error) or None)
    elif isinstance(error, Diverged):
        out.update(
            state=TrialState.DIVERGED,
            error=f"Diverged: {error}",
            traceback="".join(tb_mod.format_exception(error)),
        )
    else:
        out.update(
            state=TrialState.FAILED,
            error=f"{type(error).__name__}: {error}",
            traceback="".join(tb_mod.format_exception(error)),
        )
    out.update(
        duration=time.perf_counter() - t0,
        worker=driver_id(),
        params=trial.params,
        suggested={n: d.to_json() for n, d in trial._suggested.items()},
        intermediate=dict(trial.intermediate),
        user_attrs=trial.user_attrs,
    )
    return out
