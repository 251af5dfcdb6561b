"""Trials: the object an objective receives, the frozen record a study keeps, and the
exceptions an objective raises to say "diverged" or "pruned"."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from .space import Choice, Distribution, Int, LogInt, LogUniform, OneMinusLogUniform, Uniform

if TYPE_CHECKING:  # pragma: no cover
    from .pruners import Pruner

__all__ = ["Diverged", "FrozenTrial", "Trial", "TrialPruned", "TrialState", "trial_seeds"]


class Diverged(Exception):
    """Raise from an objective (the training layer does) when the run blew up: NaN or inf
    loss, exploding weights.  The trial is recorded ``diverged`` with the message and the
    study goes on.  Returning NaN or inf from the objective has the same effect."""


class TrialPruned(Exception):
    """Raise from an objective when ``trial.should_prune()`` says so; the trial is recorded
    ``pruned`` with its last reported value."""


class TrialState(StrEnum):
    """The states a trial can be in: a ``str`` enum, so a state compares equal to its name
    (``TrialState.COMPLETE == "complete"``) and reads well in JSON, CSV and the dashboard.

    How each shows in Optuna (the study's storage): ``running`` and ``interrupted`` are
    Optuna's RUNNING (an interrupted trial is a running one whose driver is gone; honed runs
    it again on resume), ``complete`` is COMPLETE, ``pruned`` is PRUNED, ``failed`` and
    ``diverged`` are FAIL (the trial's ``honed`` system attribute says which).
    """

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    DIVERGED = "diverged"
    PRUNED = "pruned"
    INTERRUPTED = "interrupted"


#: every state, in display order
TrialState.ALL = tuple(TrialState)  # type: ignore[attr-defined]
#: states that will not change any more (``interrupted`` will be re-run)
TrialState.FINISHED = (  # type: ignore[attr-defined]
    TrialState.COMPLETE,
    TrialState.FAILED,
    TrialState.DIVERGED,
    TrialState.PRUNED,
)


@dataclass(frozen=True)
class FrozenTrial:
    """One trial as stored: read-only.

    ``value`` is the objective's result (the final dev error) for ``complete`` trials and
    the last reported intermediate value for ``pruned`` ones; ``None`` otherwise.
    ``intermediate`` maps epoch -> reported value.  Times are Unix seconds.
    """

    number: int
    state: str
    params: dict[str, Any]
    seed: int
    value: float | None = None
    intermediate: dict[int, float] = field(default_factory=dict)
    duration: float | None = None
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    traceback: str | None = None
    worker: str | None = None
    attempts: int = 1
    user_attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def finished_ok(self) -> bool:
        return self.state == TrialState.COMPLETE and self.value is not None


def trial_seeds(study_seed: int, number: int) -> int:
    """The seed handed to trial ``number``'s objective (weights init, shuffling).

    ``SeedSequence(study_seed, spawn_key=(number,))`` -- the same child ``SeedSequence.spawn``
    would give -- so it depends only on the study seed and the trial number, never on which
    worker runs the trial or when.  32 bits so it suits any library's seeding call.
    """
    ss = np.random.SeedSequence(study_seed, spawn_key=(number,))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


def param_rng(study_seed: int, number: int, name: str) -> np.random.Generator:
    """The generator for parameter ``name`` of trial ``number``.

    Keyed by the parameter's name (crc32) as well as the trial number, so adding a
    parameter to a space, or suggesting parameters in a different order, leaves the
    other parameters' draws unchanged.  Spawn key ``(number, 1, crc)`` cannot collide with
    the trial seed's ``(number,)``.
    """
    key = (number, 1, zlib.crc32(name.encode()))
    return np.random.default_rng(np.random.SeedSequence(study_seed, spawn_key=key))


class Trial:
    """What the objective receives.

    Attributes:
        number: trial number in the study (0, 1, ...); a re-run keeps its number.
        seed: the integer seed the objective must use for its own randomness, so the
            result does not depend on the worker count.
        params: the sampled values, keyed as in the search space (``"train.lr"``).

    ``report(epoch, value)`` records an intermediate dev error (one per epoch);
    ``should_prune()`` asks the pruner whether to stop now (then ``raise TrialPruned()``).
    ``suggest_*`` is the define-by-run API: a name already in the search space returns
    the pre-sampled value; a new name is drawn at random from ``(study seed, number,
    name)``, so it too is reproducible.
    """

    def __init__(
        self,
        number: int,
        params: dict[str, Any],
        seed: int,
        study_seed: int = 0,
        reporter: Any = None,
        pruner: Pruner | None = None,
        direction: str = "minimize",
    ) -> None:
        self.number = number
        self.params = dict(params)
        self.seed = seed
        self.user_attrs: dict[str, Any] = {}
        self.intermediate: dict[int, float] = {}
        self._study_seed = study_seed
        self._reporter = reporter
        self._pruner = pruner
        self._direction = direction
        self._suggested: dict[str, Distribution] = {}

    # -- define-by-run ---------------------------------------------------------------
    def _suggest(self, name: str, dist: Distribution) -> Any:
        if name in self.params:
            value = self.params[name]
            if not dist.contains(value):
                raise ValueError(
                    f"suggest for {name!r}: value {value!r} from the search space is "
                    f"outside {dist!r}"
                )
            return value
        value = dist.sample(param_rng(self._study_seed, self.number, name))
        self.params[name] = value
        self._suggested[name] = dist
        return value

    def suggest_float(self, name: str, low: float, high: float, *, scale: str = "linear") -> float:
        """``scale``: ``"linear"`` (Uniform), ``"log"`` (LogUniform) or
        ``"one_minus_log"`` (OneMinusLogUniform, for β-like values)."""
        kinds = {"linear": Uniform, "log": LogUniform, "one_minus_log": OneMinusLogUniform}
        if scale not in kinds:
            raise ValueError(f"scale must be one of {sorted(kinds)}, got {scale!r}")
        return float(self._suggest(name, kinds[scale](low, high)))

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        return int(self._suggest(name, (LogInt if log else Int)(low, high)))

    def suggest_categorical(self, name: str, choices: list[Any]) -> Any:
        return self._suggest(name, Choice(choices))

    # -- reporting and pruning --------------------------------------------------------
    def report(self, epoch: int, value: float) -> None:
        """Record the dev error after ``epoch`` (stored at once, visible to the pruner in
        every process).  A non-finite value is stored as NaN and never counts as good."""
        if isinstance(epoch, bool) or not float(epoch).is_integer() or epoch < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        value = float(value)
        if not math.isfinite(value):
            value = math.nan
        self.intermediate[int(epoch)] = value
        if self._reporter is not None:
            self._reporter.report_intermediate(self.number, int(epoch), value)

    def should_prune(self) -> bool:
        """True when the pruner says this trial should stop at its last reported epoch."""
        if self._pruner is None or not self.intermediate:
            return False
        epoch = max(self.intermediate)
        value = self.intermediate[epoch]
        if not math.isfinite(value):
            return True
        if getattr(self._pruner, "in_driver", False):
            # Optuna's pruners read (and Hyperband writes) the study: the driver asks them
            return self._reporter is not None and bool(self._reporter.should_prune(self.number))

        def peers(step: int) -> dict[int, float]:
            if self._reporter is None:
                return {self.number: value}
            got = dict(self._reporter.intermediate_at(step))
            got[self.number] = value
            return got

        return bool(self._pruner.prune(self.number, epoch, value, peers, self._direction))

    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON-serialisable note to the trial (e.g. the epoch of the best weights)."""
        self.user_attrs[key] = value

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, seed={self.seed}, params={self.params!r})"
