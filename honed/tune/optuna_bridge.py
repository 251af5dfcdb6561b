"""honed's distributions, samplers and pruners as Optuna sees them.

Distributions (what ``optuna.load_study`` and optuna-dashboard show):

======================  ===============================================================
honed                   Optuna (stored with the trial, natural values)
======================  ===============================================================
``Uniform(a, b)``       ``FloatDistribution(a, b)``
``LogUniform(a, b)``    ``FloatDistribution(a, b, log=True)``
``Int(a, b)``           ``IntDistribution(a, b)``
``LogInt(a, b)``        ``IntDistribution(a, b, log=True)``
``Choice(cs)``          ``CategoricalDistribution(cs)``
``OneMinusLogUniform``  ``FloatDistribution(a, b)``: β in its natural value on a linear
                        axis (Optuna has no 1−β scale). honed keeps the 1−β scale: its
                        samplers and Optuna samplers run by honed draw ``log10(1−β)``
                        uniformly / model it there, and ``honed study report`` draws the
                        1−β axis. The study's ``honed:space`` system attribute says which
                        parameters are 1−β ones.
======================  ===============================================================

Optuna samplers (``OptunaSampler``, e.g. ``"tpe"``) are run by ask-and-tell on a shadow
in-memory Optuna study whose parameters live on honed's scales (``1 - β`` with
``log=True``); the driver tells it every finished trial. Optuna pruners
(``OptunaPruner``: ``"median"``, ``"hyperband"``) are asked in the driver, on the real
study, so only the driver writes to the storage (Hyperband records its rungs there).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from .pruners import Pruner
from .samplers import Sampler
from .space import Distribution, SearchSpace, distribution_from_json
from .trial import FrozenTrial, TrialState

__all__ = [
    "OPTUNA_PRUNERS",
    "OptunaPruner",
    "OptunaSampler",
    "from_optuna_distribution",
    "import_optuna",
    "to_optuna_distribution",
]


def import_optuna():
    try:
        import optuna
    except ImportError as e:  # pragma: no cover - optuna is a dependency of the tune extra
        raise ImportError(
            "honed studies are stored with Optuna, which is not installed: "
            "pip install 'honed[tune]'"
        ) from e
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def to_optuna_distribution(dist: Distribution, shadow: bool = False):
    """The Optuna distribution of a honed one (``shadow``: on honed's own scale, i.e.
    ``1 - β`` log-scaled for a 1−β parameter)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    kind = dist.kind
    if kind == "uniform":
        return FloatDistribution(dist.low, dist.high)
    if kind == "log":
        return FloatDistribution(dist.low, dist.high, log=True)
    if kind == "int":
        return IntDistribution(int(dist.low), int(dist.high))
    if kind == "log_int":
        return IntDistribution(int(dist.low), int(dist.high), log=True)
    if kind == "choice":
        return CategoricalDistribution(list(dist.choices))
    if kind == "one_minus_log":
        if shadow:
            return FloatDistribution(1.0 - dist.high, 1.0 - dist.low, log=True)
        return FloatDistribution(dist.low, dist.high)
    raise ValueError(f"no Optuna distribution for {dist!r}")


def from_optuna_distribution(d) -> Distribution:
    """The honed distribution of an Optuna one (for studies made by plain Optuna)."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(d, CategoricalDistribution):
        return distribution_from_json({"choice": list(d.choices)})
    kind = ("log_int" if d.log else "int") if isinstance(d, IntDistribution) else None
    kind = kind or ("log" if d.log else "uniform")
    return distribution_from_json({kind: [d.low, d.high]})


def _to_shadow(dist: Distribution, value: Any) -> Any:
    return 1.0 - float(value) if dist.kind == "one_minus_log" else value


def _from_shadow(dist: Distribution, value: Any) -> Any:
    if dist.kind == "one_minus_log":
        return min(max(1.0 - float(value), dist.low), dist.high)
    return value


def optuna_sampler_class(name: str, known: list[str] | None = None):
    """``"tpe"`` -> ``optuna.samplers.TPESampler``; any class name of
    ``optuna.samplers`` works too (``"CmaEsSampler"``, ``"qmc"``, ``"gp"``). ``known``:
    honed's sampler names, for the message."""
    optuna = import_optuna()
    wanted = name.lower().replace("_", "").removesuffix("sampler")
    for attr in dir(optuna.samplers):
        if attr.endswith("Sampler") and attr.lower().removesuffix("sampler") == wanted:
            return getattr(optuna.samplers, attr)
    raise ValueError(
        f"sampler must be one of {known or []} or an Optuna sampler "
        f"(tpe, cmaes, qmc, gp, nsgaii, ...), got {name!r}"
    )


class OptunaSampler(Sampler):
    """Any Optuna sampler, driven by ask-and-tell (``OptunaSampler("tpe")``).

    Model-based samplers (TPE, CMA-ES, GP) learn from the trials finished so far, so
    which parameters trial ``n`` gets depends on which trials had finished when it was
    asked: reproducible with one worker (and the study seed as the sampler's seed), not
    at any worker count, and not across an interruption. Interrupted trials still re-run
    with their stored parameters and seed.

    Args:
        optuna_name: the sampler's name (``"tpe"``) or Optuna class name.
        kwargs: keyword arguments of the Optuna sampler (JSON-able), e.g.
            ``n_startup_trials``; ``seed`` defaults to the study seed.
    """

    name = "optuna"
    reproducible = False

    def __init__(self, optuna_name: str = "tpe", **kwargs: Any) -> None:
        self.cls = optuna_sampler_class(optuna_name)
        self.optuna_name = optuna_name
        self.kwargs = kwargs
        self.name = optuna_name
        self._shadow = None
        self._asked: dict[int, Any] = {}
        self._told: set[int] = set()

    def _study(self, space: SearchSpace, seed: int, direction: str):
        if self._shadow is None:
            optuna = import_optuna()
            kwargs = dict(self.kwargs)
            if "seed" in inspect.signature(self.cls).parameters:
                kwargs.setdefault("seed", seed)
            self._shadow = optuna.create_study(direction=direction, sampler=self.cls(**kwargs))
        return self._shadow

    def observe(
        self, trial: FrozenTrial, space: SearchSpace, seed: int, direction: str = "minimize"
    ) -> None:
        """Tell the shadow study a finished trial (the driver calls this once per trial)."""
        if trial.state not in TrialState.FINISHED or trial.number in self._told:
            return
        optuna = import_optuna()
        shadow = self._study(space, seed, direction)
        st = optuna.trial.TrialState
        value = trial.value if trial.value is not None and math.isfinite(trial.value) else None
        if trial.state == TrialState.COMPLETE and value is not None:
            state, values = st.COMPLETE, value
        elif trial.state == TrialState.PRUNED:
            state, values = st.PRUNED, None
        else:
            state, values = st.FAIL, None
        asked = self._asked.pop(trial.number, None)
        if asked is not None:
            for step, v in trial.intermediate.items():
                if math.isfinite(v):
                    asked.report(v, step)
            shadow.tell(asked, values, state=state)
        else:  # finished before this driver started: add it as it is
            names = [n for n in space if n in trial.params]
            shadow.add_trial(
                optuna.trial.create_trial(
                    state=state,
                    value=values,
                    params={n: _to_shadow(space[n], trial.params[n]) for n in names},
                    distributions={n: to_optuna_distribution(space[n], True) for n in names},
                    intermediate_values={
                        s: v for s, v in trial.intermediate.items() if math.isfinite(v)
                    },
                )
            )
        self._told.add(trial.number)

    def sample(self, number, space, seed, history, direction="minimize"):
        shadow = self._study(space, seed, direction)
        for t in history:  # a no-op for trials already told
            if t.number not in self._told and t.state in TrialState.FINISHED:
                self.observe(t, space, seed, direction)
        dists = {n: to_optuna_distribution(d, True) for n, d in space.items()}
        asked = shadow.ask(dists)
        self._asked[number] = asked
        return {n: _from_shadow(d, asked.params[n]) for n, d in space.items()}

    def to_config(self):
        return {"name": self.optuna_name, **self.kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(config.pop("name"), **config)


#: honed's names of Optuna's pruners -> their class names in ``optuna.pruners``
OPTUNA_PRUNERS = {
    "median": "MedianPruner",
    "hyperband": "HyperbandPruner",
    "percentile": "PercentilePruner",
    "patient": "PatientPruner",
    "threshold": "ThresholdPruner",
    "wilcoxon": "WilcoxonPruner",
    "optuna_successive_halving": "SuccessiveHalvingPruner",
}


class OptunaPruner(Pruner):
    """An Optuna pruner (``OptunaPruner("median")``, ``"hyperband"``, ...).

    Asked in the driver with the real study (``in_driver``): the worker's
    ``trial.should_prune()`` sends the question to the driver, which calls the Optuna
    pruner's ``prune(study, trial)`` on the stored trials. Like honed's successive
    halving, its decisions depend on which peers reached a step first, so they are
    reproducible with one worker only.
    """

    name = "optuna"
    in_driver = True

    def __init__(self, optuna_name: str = "median", **kwargs: Any) -> None:
        if optuna_name not in OPTUNA_PRUNERS:
            raise ValueError(
                f"Optuna pruner must be one of {sorted(OPTUNA_PRUNERS)}, got {optuna_name!r}"
            )
        self.optuna_name = optuna_name
        self.kwargs = kwargs
        self._pruner = None

    def optuna_pruner(self):
        if self._pruner is None:
            optuna = import_optuna()
            self._pruner = getattr(optuna.pruners, OPTUNA_PRUNERS[self.optuna_name])(**self.kwargs)
        return self._pruner

    def __getstate__(self) -> dict:  # travels to workers without the Optuna object
        return {"optuna_name": self.optuna_name, "kwargs": self.kwargs, "_pruner": None}

    def prune(self, number, epoch, value, peers, direction="minimize") -> bool:
        raise RuntimeError("an Optuna pruner is asked in the driver (trial.should_prune)")

    def to_config(self) -> dict:
        return {"name": self.optuna_name, **self.kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(config.pop("name"), **config)
