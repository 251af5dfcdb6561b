"""Samplers: which parameters trial ``number`` gets.

Contract (every sampler, checked by the shared tests):

* ``sample(number, space, seed, history) -> dict`` returns one value per space entry,
  each inside its distribution.  The result is a *pure function* of the sampler's
  config, the study ``seed``, ``number`` and -- for adaptive samplers -- the finished
  trials that ``ready`` waited for.  Never of timing, worker count or the order in which
  trials were claimed, so a study gives the same trials at 1 or N workers and a re-run
  of an interrupted trial gets the same parameters.
* ``ready(number, history) -> bool`` says whether trial ``number`` may be sampled now
  (a barrier); the study waits for running trials until it is.
* ``to_config()`` is JSON and ``sampler_from_config`` rebuilds an equal sampler, so a
  study resumed from its file samples exactly as before.
* ``reproducible``: True when the trials are the same at any worker count (honed's
  random, grid and zoom); model-based Optuna samplers say False.
* ``observe(trial, space, seed, direction)``: the driver tells every finished trial, once
  (a no-op for honed's samplers, which read ``history``; ask-and-tell samplers learn here).

Samplers are named in ``honed.tune.registry.SAMPLERS`` (``honed.tune.register_sampler``
for one of yours); a name not registered is looked up among Optuna's samplers (``"tpe"``,
``"cmaes"``, ...). ``options`` declares what a sampler takes from an experiment file.

Randomness comes from ``param_rng(seed, number, name)``: one generator per (trial,
parameter), derived with ``SeedSequence(seed, spawn_key=...)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from honed import validation as check
from honed.registry import Option, validate_declared

from .space import Choice, Int, SearchSpace
from .trial import FrozenTrial, TrialState, param_rng

__all__ = ["GridSampler", "RandomSampler", "Sampler", "ZoomSampler"]

Box = dict[str, tuple[float, float]]


class Sampler:
    """Base class.  ``budget`` (the study's ``n_trials``) is set by the study when a
    sampler needs it (grid size, stage sizes) and is part of the stored config."""

    name = "base"
    budget: int | None = None
    #: what it takes from an experiment file (``honed.registry.Option``)
    options: tuple[Option, ...] = ()
    #: the same trials at any number of workers (see the module docstring)
    reproducible = True

    def sample(
        self,
        number: int,
        space: SearchSpace,
        seed: int,
        history: Sequence[FrozenTrial],
        direction: str = "minimize",
    ) -> dict[str, Any]:
        raise NotImplementedError

    def ready(self, number: int, history: Sequence[FrozenTrial]) -> bool:
        return True

    def observe(
        self, trial: FrozenTrial, space: SearchSpace, seed: int, direction: str = "minimize"
    ) -> None:
        """Called by the driver once per finished trial; honed's samplers need nothing."""

    def to_config(self) -> dict[str, Any]:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sampler:
        rest = {k: v for k, v in config.items() if k != "name"}
        try:
            return cls(**rest)
        except TypeError as e:
            raise ValueError(f"sampler {config.get('name')!r}: bad config {rest!r} ({e})") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sampler) and self.to_config() == other.to_config()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.to_config()!r})"


def _uniform_in(space: SearchSpace, seed: int, number: int, box: Box | None) -> dict[str, Any]:
    params = {}
    for name, dist in space.items():
        lo, hi = box[name] if box is not None else dist.internal_bounds
        params[name] = dist.from_internal(float(param_rng(seed, number, name).uniform(lo, hi)))
    return params


class RandomSampler(Sampler):
    """Uniform on each parameter's own scale (the notes: "try random values, don't use a
    grid").  ``seed`` here is ignored in favour of the study seed; it exists so
    ``RandomSampler(seed)`` reads naturally and, when given, overrides the study seed."""

    name = "random"

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def sample(self, number, space, seed, history, direction="minimize"):
        return _uniform_in(space, self.seed if self.seed is not None else seed, number, None)

    def to_config(self):
        return {"name": self.name, "seed": self.seed}


class GridSampler(Sampler):
    """A grid with as many points as the random budget, for comparison.

    With ``d`` parameters and a budget of ``n`` trials, each (non-choice) parameter gets
    ``k = round(n ** (1/d))`` points evenly spaced on its internal scale, ends included
    (a choice parameter gets all its values).  Trial ``i`` takes grid point
    ``i mod (number of points)`` in row-major order.  A 16-trial budget over 2 parameters
    is the notes' 4×4 grid: only 4 distinct values of each parameter are ever tried.
    """

    name = "grid"

    def __init__(self, budget: int | None = None) -> None:
        self.budget = budget

    def axes(self, space: SearchSpace) -> list[list[Any]]:
        if self.budget is None:
            raise ValueError("GridSampler needs a budget (the study's n_trials)")
        d = max(1, len(space))
        k = max(1, int(round(self.budget ** (1.0 / d))))
        return [dist.grid(k) for dist in space.values()]

    def sample(self, number, space, seed, history, direction="minimize"):
        axes = self.axes(space)
        sizes = [len(a) for a in axes]
        idx = np.unravel_index(number % int(np.prod(sizes)), sizes)
        return {name: axes[j][int(idx[j])] for j, name in enumerate(space)}

    def to_config(self):
        return {"name": self.name, "budget": self.budget}


class ZoomSampler(Sampler):
    """Coarse to fine: random search, then random search again inside a smaller box.

    The budget is split into ``stages`` (by ``fractions``; equal shares by default).
    Stage 0 samples the whole space.  Before stage ``s`` starts, every trial of the
    earlier stages must be finished (a barrier, so the box is the same at any worker
    count).  Then, for each parameter on its internal scale, the box is the bounding
    interval ``[a, b]`` of the ``top_k`` best complete trials so far, widened by
    ``margin · (b - a)`` on each side (at least ``margin`` × 5 % of the original width,
    and half a step for integers and choices), clipped to the original bounds.  Stage
    ``s`` samples uniformly inside it.

    Args:
        stages: number of stages (>= 1; 1 is plain random search).
        top_k: trials that define the box; default ``max(2, ceil(0.2 · complete))``.
        margin: fraction of the box width added on each side (>= 0).
        fractions: share of the budget per stage (positive, normalised).
        budget: total trials; set from ``n_trials`` by the study when left ``None``.
    """

    name = "zoom"
    options = (
        Option(
            "stages",
            "int",
            2,
            lambda p, v: check.integer(p, v, minimum=1),
            "coarse-to-fine stages (1: plain random search)",
        ),
        Option(
            "top_k",
            "int",
            None,
            lambda p, v: check.integer(p, v, minimum=1),
            "best trials that set the next box",
        ),
    )

    def __init__(
        self,
        stages: int = 2,
        top_k: int | None = None,
        margin: float = 0.1,
        fractions: Sequence[float] | None = None,
        budget: int | None = None,
    ) -> None:
        stages, top_k = validate_declared(self.options, stages=stages, top_k=top_k)
        if not (margin >= 0 and math.isfinite(margin)):
            raise ValueError(f"margin must be >= 0, got {margin!r}")
        if fractions is not None:
            fractions = [float(f) for f in fractions]
            if len(fractions) != stages or any(not f > 0 for f in fractions):
                raise ValueError(f"fractions must be {stages} positive numbers, got {fractions!r}")
        self.stages, self.top_k = stages, top_k
        self.margin = float(margin)
        self.fractions = fractions
        self.budget = budget

    def stage_starts(self) -> list[int]:
        """First trial number of each stage."""
        if self.budget is None:
            raise ValueError("ZoomSampler needs a budget (the study's n_trials)")
        f = np.asarray(self.fractions or [1.0] * self.stages, dtype=float)
        cum = np.concatenate([[0.0], np.cumsum(f / f.sum())])[:-1]
        return [int(round(c * self.budget)) for c in cum]

    def stage_of(self, number: int) -> int:
        starts = self.stage_starts()
        return max(s for s, start in enumerate(starts) if number >= start)

    def ready(self, number, history):
        start = self.stage_starts()[self.stage_of(number)]
        done = {t.number for t in history if t.state in TrialState.FINISHED}
        return all(i in done for i in range(start))

    def box(
        self,
        stage: int,
        space: SearchSpace,
        history: Sequence[FrozenTrial],
        direction: str = "minimize",
    ) -> Box:
        """The box of ``stage`` on the internal scales (stage 0: the whole space)."""
        full = {name: dist.internal_bounds for name, dist in space.items()}
        start = self.stage_starts()[stage]
        if stage == 0:
            return full
        sign = 1.0 if direction == "minimize" else -1.0
        done = [
            t
            for t in history
            if t.number < start
            and t.finished_ok
            and math.isfinite(t.value)
            and all(n in t.params for n in space)
        ]
        if not done:  # everything failed: nothing to zoom on
            return full
        k = self.top_k or max(2, math.ceil(0.2 * len(done)))
        best = sorted(done, key=lambda t: (sign * t.value, t.number))[:k]
        box: Box = {}
        for name, dist in space.items():
            lo0, hi0 = full[name]
            us = [dist.to_internal(t.params[name]) for t in best]
            a, b = min(us), max(us)
            pad = max(self.margin * (b - a), self.margin * 0.05 * (hi0 - lo0))
            if isinstance(dist, (Int, Choice)) and type(dist).kind in ("int", "choice"):
                pad = max(pad, 0.5)  # keep whole integers / choices at the edges
            box[name] = (max(lo0, a - pad), min(hi0, b + pad))
        return box

    def boxes(self, space, history, direction="minimize") -> list[Box]:
        """The box of every stage whose barrier has passed (for plots)."""
        out = []
        for s, start in enumerate(self.stage_starts()):
            if s > 0 and not self.ready(start, history):
                break
            out.append(self.box(s, space, history, direction))
        return out

    def sample(self, number, space, seed, history, direction="minimize"):
        stage = self.stage_of(number)
        box = None if stage == 0 else self.box(stage, space, history, direction)
        return _uniform_in(space, seed, number, box)

    def to_config(self):
        return {
            "name": self.name,
            "stages": self.stages,
            "top_k": self.top_k,
            "margin": self.margin,
            "fractions": self.fractions,
            "budget": self.budget,
        }
