"""Population-based training (Jaderberg et al. 2017) inside one population.

Every ``ready`` epochs the members are ranked by their last dev error (:func:`rank`); each
member in the bottom ``fraction``

* **exploits**: copies the weights, batch-norm averages *and* optimizer state (moments and
  step count) of a member drawn uniformly from the top ``fraction``, and its
  hyperparameters;
* **explores**: perturbs each hyperparameter of ``space`` on its own scale (for a
  learning-rate schedule, its α₀: the schedule keeps its shape): with
  probability ``resample_probability`` a fresh draw from the space, otherwise a factor 0.8
  or 1.2 applied to ``lr``/``eps``/``l1``/``l2``/``keep_prob`` (``scale="log"`` or
  ``"linear"``) or to ``1 − β`` for β, β₁, β₂ (``scale="beta"``: β = 0.9 becomes 0.92 or
  0.88), then clipped to ``[low, high]``.

Every exploit is recorded in the lineage (epoch, member, parent, both scores, the values
before and after), and every random choice comes from ``default_rng(seed)``, so a run is
reproducible from its seeds. This is the notes' panda (babysitting one model, adjusting it as
it trains) and caviar (many models in parallel) in one run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from honed.population.halving import rank
from honed.population.members import HYPERPARAMETERS
from honed.population.trainer import PopulationTrainer

_SCALES = ("log", "linear", "beta")
#: lr, the population optimizers' declared hyperparameters, the penalties and dropout
_PERTURBABLE = ("lr", *sorted(HYPERPARAMETERS), "l1", "l2", "keep_prob")
DEFAULT_SPACE = {"lr": {"low": 1e-5, "high": 1.0, "scale": "log"}}


def _check_space(space: Mapping) -> dict:
    out = {}
    for name, spec in space.items():
        if name not in _PERTURBABLE:
            raise ValueError(f"space: {name!r} cannot be perturbed; choose from {_PERTURBABLE}")
        spec = dict(spec)
        low, high = float(spec["low"]), float(spec["high"])
        scale = spec.get("scale", "beta" if name.startswith("beta") else "log")
        if scale not in _SCALES:
            raise ValueError(f"space[{name!r}].scale must be one of {_SCALES}, got {scale!r}")
        if not low < high:
            raise ValueError(f"space[{name!r}] needs low < high, got low={low}, high={high}")
        if scale == "log" and low <= 0:
            raise ValueError(f"space[{name!r}] on the log scale needs low > 0, got {low}")
        if scale == "beta" and not (low >= 0 and high < 1):
            raise ValueError(f"space[{name!r}] on the beta scale needs 0 <= low < high < 1")
        out[name] = {"low": low, "high": high, "scale": scale}
    return out


def _sample(spec: dict, rng: np.random.Generator) -> float:
    low, high, scale = spec["low"], spec["high"], spec["scale"]
    if scale == "log":
        return float(math.exp(rng.uniform(math.log(low), math.log(high))))
    if scale == "beta":  # uniform in log(1 − β)
        return float(1.0 - math.exp(rng.uniform(math.log(1 - high), math.log(1 - low))))
    return float(rng.uniform(low, high))


def _perturb(value: float, spec: dict, factor: float) -> float:
    value = 1.0 - (1.0 - value) * factor if spec["scale"] == "beta" else value * factor
    return float(min(max(value, spec["low"]), spec["high"]))


def _values(member, names) -> dict:
    out = {}
    for name in names:
        v = getattr(member, name)
        if name == "lr" and callable(v):
            v = float(v.lr)  # a schedule: its α₀
        out[name] = list(v) if isinstance(v, list) else v
    return out


def _rescheduled(schedule, lr: float):
    """The same schedule started from α₀ = ``lr`` (PBT perturbs a schedule's α₀)."""
    from honed.optim import schedule_from_config

    if not hasattr(schedule, "to_config") or not hasattr(schedule, "lr"):
        raise ValueError(f"PBT perturbs a fixed lr or the α₀ of a honed schedule; got {schedule!r}")
    return schedule_from_config({**schedule.to_config(), "lr": lr})


def explore(member, space: dict, rng: np.random.Generator, resample_probability: float) -> None:
    """Perturb ``member``'s hyperparameters of ``space`` in place (see the module docstring)."""
    for name, spec in space.items():
        resample = rng.random() < resample_probability
        factor = 0.8 if rng.random() < 0.5 else 1.2
        if name == "lr" and callable(member.lr):
            lr0 = float(member.lr.lr) if hasattr(member.lr, "lr") else None
            if lr0 is None:
                raise ValueError(f"PBT perturbs a fixed lr or a schedule's α₀; got {member.lr!r}")
            new = _sample(spec, rng) if resample else _perturb(lr0, spec, factor)
            member.lr = _rescheduled(member.lr, new)
            continue
        if name == "keep_prob":
            member.keep_prob = [
                _sample(spec, rng) if resample else _perturb(v, spec, factor)
                for v in member.keep_prob
            ]
            continue
        value = getattr(member, name)
        setattr(member, name, _sample(spec, rng) if resample else _perturb(value, spec, factor))


def pbt(
    trainer: PopulationTrainer,
    train,
    dev,
    epochs: int,
    ready: int = 4,
    fraction: float = 0.25,
    space: Mapping | None = None,
    resample_probability: float = 0.25,
    seed: int = 0,
    key: str = "dev_error",
) -> list[dict]:
    """Train with PBT to ``epochs`` epochs; returns the lineage (one dict per exploit):
    ``{"epoch", "member", "parent", "member_score", "parent_score", "before", "after"}``.

    Also appends ``{"event": "exploit", ...}`` to the member's history events.
    """
    if isinstance(ready, bool) or not isinstance(ready, int) or ready < 1:
        raise ValueError(f"ready must be an int >= 1, got {ready!r}")
    if not 0 < fraction <= 0.5:
        raise ValueError(f"fraction must be in (0, 0.5], got {fraction}")
    if not 0 <= resample_probability <= 1:
        raise ValueError(f"resample_probability must be in [0, 1], got {resample_probability}")
    if dev is None:
        raise ValueError("pbt needs a dev set to rank the members")
    space = _check_space(DEFAULT_SPACE if space is None else space)
    rng = np.random.default_rng(seed)
    pop = trainer.population
    lineage: list[dict] = []
    while trainer.alive and trainer.epoch < epochs:
        trainer.fit(train, dev, epochs=min(trainer.epoch + ready, epochs))
        if trainer.epoch >= epochs or len(trainer.alive) < 2:
            break
        records = {k: pop.histories[k].last for k in trainer.alive}
        order = rank(records, key)
        q = max(1, int(len(order) * fraction))
        top, bottom = order[:q], order[-q:]
        for dst in bottom:
            src = top[int(rng.integers(len(top)))]
            before = _values(pop.members[dst], space)
            trainer.copy_member(dst, src)
            explore(pop.members[dst], space, rng, resample_probability)
            event = {
                "epoch": trainer.epoch,
                "member": dst,
                "parent": src,
                "member_score": records[dst].get(key),
                "parent_score": records[src].get(key),
                "before": before,
                "after": _values(pop.members[dst], space),
            }
            lineage.append(event)
            pop.histories[dst].events.append({"event": "exploit", **event})
    return lineage


__all__ = ["DEFAULT_SPACE", "explore", "pbt"]
