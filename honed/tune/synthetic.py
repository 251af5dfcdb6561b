"""Synthetic objectives with known answers, for tests, demos and benchmarks of the tuner.

They are module-level (picklable) and cost microseconds, so a whole study runs in well
under a second and the tuner itself is what gets measured.
"""

from __future__ import annotations

import math
import os
import signal
import time

from .trial import Diverged, Trial, TrialPruned

__all__ = [
    "bowl",
    "curves",
    "flaky",
    "gated_bowl",
    "killing_bowl",
    "report_then_signal",
    "seeded_noise",
    "slow_bowl",
]


def bowl(
    trial: Trial,
    lr_opt: float = -2.7,
    b_opt: float = -2.3,
    lr_width: float = 0.3,
    b_width: float = 0.2,
) -> float:
    """A narrow quadratic bowl in ``log10 lr`` and ``log10(1 - beta)``:
    ``((log10 lr - lr_opt)/lr_width)**2 + ((log10(1-beta) - b_opt)/b_width)**2``,
    minimum 0 at ``lr = 10**lr_opt``, ``beta = 1 - 10**b_opt``."""
    p = trial.params
    return ((math.log10(p["lr"]) - lr_opt) / lr_width) ** 2 + (
        (math.log10(1.0 - p["beta"]) - b_opt) / b_width
    ) ** 2


def seeded_noise(trial: Trial) -> float:
    """``x**2`` plus noise drawn from ``trial.seed``: shows the result depends on the
    trial's seed only (same at any worker count)."""
    import numpy as np

    rng = np.random.default_rng(trial.seed)
    return float(trial.params["x"] ** 2 + 0.01 * rng.standard_normal())


def gated_bowl(trial: Trial, gate: str) -> float:
    """``bowl`` that runs when it is told to: it writes ``start NUMBER PID`` to the FIFO
    ``gate/events``, then waits until something opens the FIFO ``gate/go-NUMBER`` for
    writing and closes it -- so a test knows which worker process runs which trial, and
    can kill one of them in the middle of its trial."""
    with open(os.path.join(gate, "events"), "w") as events:
        events.write(f"start {trial.number} {os.getpid()}\n")
    with open(os.path.join(gate, f"go-{trial.number}")) as go:
        go.read()
    return bowl(trial)


def killing_bowl(trial: Trial, log: str, kill: int = 0) -> float:
    """``bowl`` whose trial number ``kill`` kills its own worker process with SIGKILL
    every time it runs (what the OOM killer does to a trial too big for the machine).
    Each run appends ``NUMBER PID`` to the file ``log``.  Process workers only."""
    with open(log, "a") as f:
        f.write(f"{trial.number} {os.getpid()}\n")
    if trial.number == kill:
        os.kill(os.getpid(), signal.SIGKILL)
    return bowl(trial)


def curves(trial: Trial, epochs: int = 9) -> float:
    """A learning curve whose level is set by ``x``: ``dev(epoch) = x + 1/epoch``.

    Reports every epoch and honours the pruner, so bad ``x`` (large) should be pruned at
    the first rung while good ones run to the end."""
    x = trial.params["x"]
    value = math.inf
    for epoch in range(1, epochs + 1):
        value = x + 1.0 / epoch
        trial.report(epoch, value)
        if trial.should_prune():
            raise TrialPruned(f"pruned at epoch {epoch}")
    return value


def flaky(trial: Trial) -> float:
    """Fails, diverges or returns NaN depending on the trial number (mod 5):
    1 raises RuntimeError, 2 returns NaN, 3 raises Diverged, others return x**2."""
    k = trial.number % 5
    if k == 1:
        raise RuntimeError(f"boom in trial {trial.number}")
    if k == 2:
        return math.nan
    if k == 3:
        raise Diverged("loss became inf at epoch 3")
    return trial.params["x"] ** 2


def slow_bowl(
    trial: Trial, kill_at: int = -1, marker: str | None = None, sig: int = signal.SIGKILL
) -> float:
    """``bowl`` that takes a moment; when ``trial.number == kill_at`` and ``marker`` does not
    exist yet it creates ``marker`` and sends ``sig`` (SIGKILL: a crash; SIGINT: Ctrl-C) to
    the study's driver process (``$HONED_TEST_DRIVER_PID``, else this process) -- an
    interruption in the middle of a study, on cue."""
    if trial.number == kill_at and marker and not os.path.exists(marker):
        open(marker, "w").close()
        driver = int(os.environ.get("HONED_TEST_DRIVER_PID", os.getpid()))
        os.kill(driver, sig)
        time.sleep(5)  # only reached in a worker whose driver is now dead
    time.sleep(0.01)
    return bowl(trial)


def report_then_signal(
    trial: Trial,
    epochs: int = 20,
    signal_at: int = 5,
    marker: str | None = None,
    sig: int = signal.SIGINT,
    wait_stored: str | None = None,
) -> float:
    """``curves`` without pruning, for ``epochs`` epochs; trial 0, right after reporting
    epoch ``signal_at`` (when ``marker`` does not exist yet), creates ``marker`` and sends
    ``sig`` to the study's driver (``$HONED_TEST_DRIVER_PID``, else this process).

    ``wait_stored``: the study file; first wait until its per-epoch values 1..``signal_at``
    are stored -- written by the timed flush alone, as nothing else writes them while the
    trial runs -- then send ``sig`` (SIGKILL: a crash at a known point)."""
    x = trial.params["x"]
    value = math.inf
    for epoch in range(1, epochs + 1):
        value = x + 1.0 / epoch
        trial.report(epoch, value)
        if trial.number == 0 and epoch == signal_at and marker and not os.path.exists(marker):
            if wait_stored:
                while len(_stored_steps(wait_stored, trial.number)) < signal_at:
                    time.sleep(0.02)
            open(marker, "w").close()
            os.kill(int(os.environ.get("HONED_TEST_DRIVER_PID", os.getpid())), sig)
            time.sleep(5)  # the signal arrives meanwhile (a worker's driver: now dead)
    return value


def _stored_steps(path: str, number: int) -> list[int]:
    """The steps of trial ``number`` a fresh reader of the study file sees."""
    from .storage import StudyStorage

    storage = StudyStorage(path)
    for name in storage.study_names():
        trials, _ = storage.get_trials(storage.get_study(name)["id"])
        if len(trials) > number:
            return sorted(trials[number].intermediate)
    return []
