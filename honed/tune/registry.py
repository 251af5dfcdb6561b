"""The names of honed.tune: samplers, pruners and executors, each registered here, once.

The registries are :class:`honed.registry.Registry` instances like every other package's
(case-insensitive names, declared aliases, no silent overwrite). A name in a TOML file
(``tune.strategy = "zoom"``, ``tune.prune = "median"``, ``tune.executor = "population"``)
or on the command line is looked up here, so a sampler, pruner or executor defined outside
honed is used like the built-in ones once registered::

    from honed.tune import Sampler, register_sampler

    @register_sampler("sobol_like")
    class MySampler(Sampler):
        name = "sobol_like"          # what to_config() reports, so the study can rebuild it
        ...

    register_pruner("patient", MyPruner)        # or as a plain call
    register_executor("threads", MyExecutor)    # its ``options``: what it takes

What each one takes is declared once, on its class (``options``: ``honed.registry.Option``
with type, default, check and help); ``make_executor``, the experiment config, the command
line and ``honed config --keys`` read it from here. One convention for every registered
object: ``obj.to_config()`` returns a plain dict whose ``"name"`` is its registered name,
and ``from_config`` (the class's classmethod when it has one, else ``cls(**rest)``)
rebuilds an equal object. A study stores its sampler this way, so a resumed study samples
as before. A sampler name that is not registered is looked up among Optuna's samplers
(``"cmaes"``, ``"qmc"``, ...).
"""

from __future__ import annotations

from typing import Any

from honed.registry import Option, Registry

from .executors import Executor, InProcessExecutor, ProcessExecutor
from .optuna_bridge import OPTUNA_PRUNERS, OptunaPruner, OptunaSampler, optuna_sampler_class
from .population_executor import PBTSampler, PopulationExecutor
from .pruners import NopPruner, Pruner, SuccessiveHalvingPruner
from .ray_executor import RayExecutor
from .ray_population import RayPopulationExecutor
from .samplers import GridSampler, RandomSampler, Sampler, ZoomSampler

__all__ = [
    "EXECUTORS",
    "PRUNERS",
    "SAMPLERS",
    "check_name",
    "make_executor",
    "make_pruner",
    "make_sampler",
    "register_executor",
    "register_pruner",
    "register_sampler",
    "sampler_from_config",
]

SAMPLERS: Registry[type[Sampler]] = Registry("sampler")
PRUNERS: Registry[type[Pruner]] = Registry("pruner")
EXECUTORS: Registry[type[Executor]] = Registry("executor")

SAMPLERS.register("random", RandomSampler)
SAMPLERS.register("grid", GridSampler)
SAMPLERS.register("zoom", ZoomSampler)
SAMPLERS.register("pbt", PBTSampler)
SAMPLERS.register("tpe", OptunaSampler)  # listed by name; any other Optuna sampler works too

PRUNERS.register("nop", NopPruner)
PRUNERS.register("successive_halving", SuccessiveHalvingPruner, aliases=("sh",))
for _name in OPTUNA_PRUNERS:
    PRUNERS.register(_name, OptunaPruner)

EXECUTORS.register("process", ProcessExecutor)
EXECUTORS.register("inprocess", InProcessExecutor, aliases=("in_process",))
EXECUTORS.register("population", PopulationExecutor)
EXECUTORS.register("ray", RayExecutor)
EXECUTORS.register("ray_population", RayPopulationExecutor)


def _registering(registry: Registry, base: type):
    """``register(name, cls)`` or ``@register(name)``, for things defined outside honed."""

    def register(name: str, obj: Any = None, *, aliases: tuple[str, ...] = (), replace=False):
        def add(target: Any) -> Any:
            own = getattr(target, "name", None)
            if isinstance(target, type) and issubclass(target, base) and own in (None, "", "base"):
                # to_config() reports the class's name: the study rebuilds it from that
                raise ValueError(
                    f"{registry.kind} class {target.__name__} registered as {name!r} must "
                    f"carry its name: set name = {name!r} on the class"
                )
            return registry.register(name, target, aliases=aliases, replace=replace)

        return add if obj is None else add(obj)

    register.__doc__ = (
        f"Register a {registry.kind} (``register(name, cls)`` or ``@register(name)``).\n\n"
        "Raises:\n    ValueError: the name is taken, or the class does not carry its name."
    )
    return register


register_sampler = _registering(SAMPLERS, Sampler)
register_pruner = _registering(PRUNERS, Pruner)
register_executor = _registering(EXECUTORS, Executor)


def _build(registry: Registry, config: dict[str, Any]) -> Any:
    """The registered thing of ``config["name"]`` built from the rest of ``config``."""
    rest = dict(config)
    name = registry.canonical(rest.pop("name"))
    cls = registry.get(name)
    make = getattr(cls, "from_config", None)
    try:
        if make is not None and callable(make) and isinstance(cls, type):
            return make({"name": name, **rest})
        return cls(**rest)
    except TypeError as e:
        raise ValueError(f"{registry.kind} {name!r}: bad config {rest!r} ({e})") from None


def sampler_from_config(config: dict[str, Any]) -> Sampler:
    """Rebuild a sampler from its ``to_config()`` dict (a registered name, or an Optuna
    sampler's)."""
    if not isinstance(config, dict) or "name" not in config:
        raise ValueError(f"sampler config must be a dict with a 'name', got {config!r}")
    if config["name"] not in SAMPLERS:
        rest = {k: v for k, v in config.items() if k != "name"}
        optuna_sampler_class(config["name"], SAMPLERS.names())  # raises naming the choices
        return OptunaSampler(config["name"], **rest)
    return _build(SAMPLERS, config)


def make_sampler(sampler: str | dict | Sampler | None) -> Sampler:
    """``"random"`` (default), ``"grid"``, ``"zoom"``, another registered name, an Optuna
    sampler's name (``"tpe"``), a config dict or a Sampler."""
    if sampler is None:
        return RandomSampler()
    if isinstance(sampler, Sampler):
        return sampler
    if isinstance(sampler, str):
        return sampler_from_config({"name": sampler})
    if isinstance(sampler, dict):
        return sampler_from_config(sampler)
    raise ValueError(f"sampler must be a name, a config dict or a Sampler, got {sampler!r}")


def make_pruner(pruner: str | dict | Pruner | None) -> Pruner | None:
    """``None``, a registered name (``"successive_halving"``/``"sh"``, ``"median"``,
    ``"hyperband"``, ...), a config dict or a Pruner."""
    if pruner is None or isinstance(pruner, Pruner):
        return pruner
    if isinstance(pruner, str):
        return _build(PRUNERS, {"name": pruner})
    if isinstance(pruner, dict) and "name" in pruner:
        return _build(PRUNERS, pruner)
    raise ValueError(f"pruner must be a name, a config dict or a Pruner, got {pruner!r}")


def executor_options(name: str, given: dict[str, Any], where: str = "") -> dict[str, Any]:
    """The options ``given`` (None: not given) checked against what executor ``name``
    declares; ``where`` says where they came from, for messages.

    Raises:
        ValueError: an option the executor does not take (naming the executors that do),
            or a bad value (naming the option).
    """
    name = EXECUTORS.canonical(name)
    declared = {o.name: o for o in EXECUTORS.options(name)}
    out = {}
    for key, value in given.items():
        if value is None:
            continue
        if key not in declared:
            takers = " or ".join(repr(n) for n in EXECUTORS.declaring(key)) or "none"
            raise ValueError(f"{key} is for executor={takers}, got executor={name!r}{where}")
        out[key] = declared[key].validate(value, key)
    return out


def make_executor(
    executor: str | Executor | None,
    workers: int | None = None,
    address: str | None = None,
    max_members: int | None = None,
    **options: Any,
) -> Executor:
    """A registered executor by name (default ``"process"``) with its options (``workers``,
    ``address``, ``max_members`` or any other it declares; None: not given), or an
    Executor instance as it is.

    Raises:
        ValueError: an unknown name, an option the executor does not take, a bad value.
    """
    given = {"workers": workers, "address": address, "max_members": max_members, **options}
    if isinstance(executor, Executor):
        extra = sorted(k for k, v in given.items() if v is not None and k != "workers")
        if extra:
            raise ValueError(f"{', '.join(extra)}: options of a named executor, got {executor!r}")
        return executor
    if executor is None:
        executor = "process"
    if not isinstance(executor, str):
        raise ValueError(f"executor must be a name or an Executor, got {executor!r}")
    name = EXECUTORS.canonical(executor)
    return EXECUTORS.get(name)(**executor_options(name, given))


def check_name(kind: str, name: object) -> str:
    """The registered name behind ``name`` (an alias resolves to it; a sampler may also be
    any Optuna sampler's name, kept as it is).

    Raises:
        ValueError: naming the kind, the allowed names and the bad one.
    """
    registry = {"sampler": SAMPLERS, "pruner": PRUNERS, "executor": EXECUTORS}[kind]
    if isinstance(name, str) and name in registry:
        return registry.canonical(name)
    if kind == "sampler" and isinstance(name, str):
        optuna_sampler_class(name, SAMPLERS.names())  # raises naming the choices
        return name
    raise ValueError(f"{kind} must be one of {', '.join(registry.names())}, got {name!r}")


# what the experiment layer and the command line read: one option for every thing of a kind
def general_option(registry: Registry, option: str) -> Option:
    """The general declaration of ``option`` among ``registry``'s things: the first, in
    registration order (a later thing may narrow it, as ``inprocess`` does ``workers``;
    its own declaration checks the value again when it is built).

    Raises:
        ValueError: no registered thing declares ``option``.
    """
    takers = registry.declaring(option)
    if not takers:
        raise ValueError(f"no {registry.kind} declares the option {option!r}")
    return registry.option(takers[0], option)
