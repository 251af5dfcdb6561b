"""Registries of honed.tune's named things: samplers, pruners and executors.

A name in a TOML file (``tune.strategy = "zoom"``, ``tune.pruner = "median"``) or on the
command line is looked up here, so a sampler defined outside honed is used the same way
as the built-in ones once registered::

    from honed.tune import Sampler, register_sampler

    @register_sampler("sobol_like")
    class MySampler(Sampler):
        ...

    register_pruner("patient", MyPruner)       # or as a plain call

One convention for every registered object: ``obj.to_config()`` returns a plain dict
whose ``"name"`` is its registered name, and ``registry.from_config(d)`` (the class's
``from_config`` classmethod when it has one, else ``cls(**rest)``) rebuilds an equal
object. A study stores its sampler this way, so a resumed study samples as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "EXECUTORS",
    "PRUNERS",
    "SAMPLERS",
    "Registry",
    "check_name",
    "register_executor",
    "register_pruner",
    "register_sampler",
]


class Registry:
    """``name -> class (or factory)``; ``what`` names the kind in error messages."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, Any] = {}
        #: called with (name, config) for names not registered (e.g. any Optuna sampler)
        self.fallback: Callable[[str, dict], Any] | None = None

    def register(self, name: str, obj: Any = None):
        """``register(name, cls)``, or ``@register(name)`` as a class decorator.

        Raises:
            ValueError: when ``name`` is not a non-empty string.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.what} name must be a non-empty string, got {name!r}")

        def add(o: Any) -> Any:
            self._items[name] = o
            if isinstance(o, type) and getattr(o, "name", None) in (None, "base", ""):
                # a user's class without its own name: to_config() reports this one
                o.name = name
            return o

        return add if obj is None else add(obj)

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def get(self, name: str) -> Any:
        if name not in self._items:
            raise ValueError(f"{self.what} must be one of {self.names()}, got {name!r}")
        return self._items[name]

    def from_config(self, config: dict[str, Any]) -> Any:
        """Rebuild an object from its ``to_config()`` dict.

        Raises:
            ValueError: naming the unknown name, or the bad keys of the config.
        """
        if not isinstance(config, dict) or "name" not in config:
            raise ValueError(f"{self.what} config must be a dict with a 'name', got {config!r}")
        rest = dict(config)
        name = rest.pop("name")
        if name not in self._items and self.fallback is not None:
            return self.fallback(name, rest)
        cls = self.get(name)
        make = getattr(cls, "from_config", None)
        if make is not None and callable(make) and isinstance(cls, type):
            return make({"name": name, **rest})
        try:
            return cls(**rest)
        except TypeError as e:
            raise ValueError(f"{self.what} {name!r}: bad config {rest!r} ({e})") from None


SAMPLERS = Registry("sampler")
PRUNERS = Registry("pruner")
EXECUTORS = Registry("executor")

register_sampler = SAMPLERS.register
register_pruner = PRUNERS.register
register_executor = EXECUTORS.register


def check_name(kind: str, name: object) -> str:
    """``name`` if it names a sampler / pruner honed can build (an Optuna sampler too).

    Raises:
        ValueError: naming the kind, the allowed names and the bad one.
    """
    from . import optuna_bridge  # noqa: F401  (registers Optuna's samplers and pruners)

    reg = {"sampler": SAMPLERS, "pruner": PRUNERS, "executor": EXECUTORS}[kind]
    if isinstance(name, str) and name in reg:
        return name
    if kind == "sampler" and isinstance(name, str):
        optuna_bridge.optuna_sampler_class(name)  # raises naming the choices
        return name
    raise ValueError(f"{kind} must be one of {reg.names()}, got {name!r}")
