"""Registries: the one place where a name that an experiment file may use is defined.

Each package owns the registries of its own things (``honed.nn``: losses, activations,
initializers; ``honed.optim``: optimizers, schedules; ``honed.data``: datasets, normalizers,
augmentations; ``honed.tune``: samplers, pruners, executors). The experiment layer reads the
allowed names and their defaults from them, so a thing registered from outside honed can be
named in a TOML file with no edit inside honed::

    from honed.optim import OPTIMIZERS, Optimizer

    @OPTIMIZERS.register("signsgd")
    class SignSGD(Optimizer):
        ...

Every registered object follows one convention for its configuration: ``to_config()`` gives a
plain dict (``{"name": ..., **arguments}``) and ``from_config(dict)`` builds the object again.

A registered thing may declare its options once, as :class:`Option` objects (type, default,
check, help) in a class attribute ``options``; everything that builds it, checks a value for
it or lists it (the experiment file's keys, the command line, the key reference) reads that
declaration through :meth:`Registry.options` (all of them) or :meth:`Registry.option` (one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Option:
    """One option of a registered thing, declared once.

    Attributes:
        name: the keyword argument it is passed as (``max_members``).
        kind: its type in words, for the key reference (``"int"``, ``"string"``).
        default: the value when it is not given (None: the thing decides, see ``help``).
        check: ``check(path, value) -> value``: the value, normalised, or a ValueError that
            names ``path`` (the TOML key or command-line option it came from).
        help: what it means, one line.
    """

    name: str
    kind: str
    default: Any = None
    check: Callable[[str, Any], Any] | None = None
    help: str = ""

    def validate(self, value: Any, path: str | None = None) -> Any:
        """``value`` checked (None stays None: not given)."""
        if value is None or self.check is None:
            return value
        return self.check(path or self.name, value)

    def validate_at(self, path: str, value: Any) -> Any:
        """``validate`` with the arguments of a config key's check: ``(path, value)``."""
        return self.validate(value, path)


def find_option(options: tuple[Option, ...], option: str, owner: str) -> Option:
    """The declaration named ``option`` among ``options`` (those of ``owner``, named in the
    message). For a registered thing use :meth:`Registry.option`; for a class that declares
    ``options`` without being registered (a layer), ``find_option(cls.options, ...)``.

    Raises:
        ValueError: ``owner`` does not declare ``option``.
    """
    for o in options:
        if o.name == option:
            return o
    declared = ", ".join(o.name for o in options) or "nothing"
    raise ValueError(f"{owner} declares no option {option!r} (it declares: {declared})")


def validate_declared(options: tuple[Option, ...], where: str = "", **values: Any) -> tuple:
    """``values`` (keyword: value) each checked by its declaration among ``options``, in
    the order given (None stays None: not given). A registered class's constructor calls
    it, so a value from Python goes through the check a TOML key or a command-line option
    gets. ``where`` prefixes the name in messages (``"pbt: "``).

    Raises:
        ValueError: a bad value, naming ``where`` + the option.
    """
    declared = {o.name: o for o in options}  # a name not declared: a KeyError (a bug)
    return tuple(declared[n].validate(v, f"{where}{n}") for n, v in values.items())


class Registry(Generic[T]):
    """Names (case-insensitive, with aliases) → registered objects of one kind.

    Args:
        kind: what the registry holds, for messages (``"optimizer"``).
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}
        self._options: dict[str, tuple[Option, ...]] = {}

    def register(
        self,
        name: str,
        obj: T | None = None,
        *,
        aliases: tuple[str, ...] = (),
        options: tuple[Option, ...] | None = None,
        replace: bool = False,
    ) -> Any:
        """Register ``obj`` under ``name`` (and ``aliases``); without ``obj``, a decorator.

        ``options``: what it takes (default: its ``options`` attribute, if any).

        Raises:
            ValueError: the name is taken by another object (pass ``replace=True`` to
                override a registered thing on purpose).
        """
        if obj is None:

            def decorator(target: T) -> T:
                self.register(name, target, aliases=aliases, options=options, replace=replace)
                return target

            return decorator
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"a {self.kind} name must be a non-empty string, got {name!r}")
        key = name.lower()
        for n in (key, *(a.lower() for a in aliases)):
            current = self._lookup(n)
            if current is not None and current is not obj and not replace:
                raise ValueError(
                    f"{self.kind} name {n!r} is already registered ({current!r}); "
                    "pass replace=True to override it"
                )
        declared = tuple(getattr(obj, "options", ()) if options is None else options)
        if not all(isinstance(o, Option) for o in declared):
            raise ValueError(
                f"{self.kind} {name!r}: options must be Option objects, got {declared!r}"
            )
        self._items[key] = obj
        self._options[key] = declared
        self._aliases.pop(key, None)
        for alias in aliases:
            self._aliases[alias.lower()] = key
        return obj

    def options(self, name: str) -> tuple[Option, ...]:
        """The options ``name`` declares (none: an empty tuple)."""
        return self._options[self.canonical(name)]

    def option(self, name: str, option: str) -> Option:
        """The declaration of ``option`` by the thing registered as ``name`` (or an alias).

        Raises:
            ValueError: an unknown name, or a thing that does not declare ``option`` (the
                message lists what it declares).
        """
        return find_option(self.options(name), option, f"{self.kind} {self.canonical(name)!r}")

    def declaring(self, option: str) -> list[str]:
        """The names whose things declare ``option``, in registration order."""
        return [n for n, opts in self._options.items() if any(o.name == option for o in opts)]

    def unregister(self, name: str) -> T:
        """Remove ``name`` and its aliases; returns what was registered."""
        key = self.canonical(name)
        self._aliases = {a: k for a, k in self._aliases.items() if k != key}
        self._options.pop(key, None)
        return self._items.pop(key)

    def _lookup(self, name: str) -> T | None:
        key = self._aliases.get(name, name)
        return self._items.get(key)

    def canonical(self, name: str) -> str:
        """The registered name behind ``name`` (an alias resolves to its target).

        Raises:
            ValueError: an unknown name; the message lists the known ones.
        """
        key = str(name).lower()
        key = self._aliases.get(key, key)
        if key not in self._items:
            raise ValueError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}")
        return key

    def get(self, name: str) -> T:
        """The object registered as ``name`` (or an alias).

        Raises:
            ValueError: an unknown name; the message lists the known ones.
        """
        return self._items[self.canonical(name)]

    def names(self) -> list[str]:
        """The registered names (aliases left out), in registration order."""
        return list(self._items)

    def aliases(self) -> dict[str, str]:
        """Alias → registered name."""
        return dict(self._aliases)

    def name_of(self, obj: Any) -> str | None:
        """The registered name of ``obj`` (or of its class), or None."""
        for key, value in self._items.items():
            if value is obj or (isinstance(value, type) and type(obj) is value):
                return key
        return None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._lookup(name.lower()) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def items(self):
        return self._items.items()

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._items)})"


def build(registry: Registry[Callable[..., T]], config: dict | str, **extra) -> T:
    """``registry.get(config["name"])`` built from the rest of ``config`` (plus ``extra``).

    A bare string is a config with just a name. Uses the class's ``from_config`` when it has
    one, else calls it with the arguments.

    Raises:
        ValueError: no name, an unknown name, or arguments the object does not take.
    """
    if isinstance(config, str):
        config = {"name": config}
    if not isinstance(config, dict) or "name" not in config:
        raise ValueError(f"a {registry.kind} is a name or a table with a name, got {config!r}")
    target = registry.get(config["name"])
    if hasattr(target, "from_config"):
        return target.from_config({**config, **extra})
    arguments = {k: v for k, v in config.items() if k != "name"}
    return target(**arguments, **extra)
