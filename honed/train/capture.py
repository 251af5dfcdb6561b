"""The Trainer's captured step: record a step once per input shape, check it, then replay it.

For each key — the shapes and dtypes of the batch and its targets, and a fingerprint of the
model and the loss (every module's identity, mode and plain settings such as ``keep_prob``,
its parameters' identities and dtypes) — the first step runs eagerly and is recorded, the
second runs eagerly, is recorded again and must match the first (the same ops, the same
constants), and every later step is replayed (:mod:`honed.autograd.capture`). A new key (the
last, partial batch of an epoch; a callback that changes ``keep_prob``) records again.

A step falls back to eager, with the reason kept in :attr:`StepCapture.reasons`, when:

* a module's class does not declare ``capturable = True`` itself (a user's ``Module`` may
  branch on the data in Python; declare it when the ops it runs depend only on shapes);
* the loss is a callable or a ``Loss`` class that does not declare ``capturable = True``;
* an op is not marked replayable, a tensor requiring a gradient comes from outside, or the
  two recordings differ (data-dependent control flow or constants).
"""

from __future__ import annotations

import logging
from operator import attrgetter

import numpy as np

from honed.autograd.capture import NotReplayable, Program, Tape, build_program

logger = logging.getLogger(__name__)

#: Keys kept per Trainer (full batch, last partial batch, a few changes of settings).
CACHE_SIZE = 8

_PLAIN = (bool, int, float, str, type(None))


def _declares(obj, flag: str = "capturable") -> bool:
    """Whether ``obj``'s own class sets ``flag`` true: not inherited, so a subclass that
    overrides ``forward`` is eager until it declares the flag itself."""
    return bool(type(obj).__dict__.get(flag, False))


def why_not_capturable(model, loss) -> str | None:
    """Why a step of ``model`` with ``loss`` must run eagerly, or None if it may be captured."""
    modules = model.named_modules() if hasattr(model, "named_modules") else [("", model)]
    for name, module in modules:
        if not _declares(module):
            where = f" {name!r}" if name else ""
            return (
                f"module{where} of class {type(module).__qualname__} does not declare "
                "capturable = True (its forward may branch on the data)"
            )
    if not _declares(loss):
        return f"the loss {loss!r} does not declare capturable = True"
    return None


def _fingerprint(objects) -> tuple:
    """A function of no arguments giving what of ``objects`` (modules, the loss) a recording
    depends on: every attribute that is not an array — plain settings (``keep_prob``,
    ``training``) by value, parameters, generators and child modules by identity, lists
    (``Sequential.layers``) by their items — and how many attributes each has. Arrays
    (buffers) are left out: the ops read them when they run; so are dicts."""
    getters = []
    for obj in objects:
        attrs = vars(obj)
        names = [k for k, v in attrs.items() if not isinstance(v, (np.ndarray, list, dict))]
        lists = [k for k, v in attrs.items() if isinstance(v, list)]
        getters.append((obj, attrgetter(*names) if names else None, lists))

    def fingerprint() -> tuple:
        parts = []
        for obj, values, lists in getters:
            parts.append(len(obj.__dict__))
            if values is not None:
                parts.append(values(obj))
            for name in lists:
                parts.append(tuple(getattr(obj, name)))
        return tuple(parts)

    return fingerprint


class StepCapture:
    """Recorded steps of one model and loss, by key (see the module docstring).

    Attributes:
        reasons: why steps ran eagerly, by key (``"model"`` for the model or loss itself).
        replays: how many steps were replayed.
    """

    def __init__(self, model, loss):
        self.model, self.loss = model, loss
        self.programs: dict = {}  # key -> ("check", Program) | ("replay", Program) | ("eager", reason)
        self.reasons: dict = {}
        self.replays = 0
        reason = why_not_capturable(model, loss)
        if reason is not None:
            self._fall_back("model", reason)
        self.disabled = reason is not None
        if not self.disabled:
            self._learn_model()

    def __getstate__(self) -> dict:
        """Pickled without its recordings (they are rebuilt by the next steps)."""
        state = self.__dict__.copy()
        state["programs"] = {}
        for name in ("_fingerprint", "params"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if not self.disabled:
            self._learn_model()

    def reset(self) -> None:
        """Forget every recording (after loading a state, or changing the model)."""
        self.programs.clear()

    @property
    def reason(self) -> str | None:
        """The latest reason a step ran eagerly, or None."""
        return next(reversed(self.reasons.values()), None)

    def _fall_back(self, key, reason: str) -> None:
        self.reasons[key] = reason
        logger.info("captured step: running eagerly: %s", reason)

    def _learn_model(self) -> None:
        """Note the model's modules and their attributes (again after a change)."""
        modules = list(self.model.modules()) if hasattr(self.model, "modules") else [self.model]
        self.params = list(self.model.parameters())
        self._fingerprint = _fingerprint([*modules, self.loss])

    def key(self, X: np.ndarray, y: np.ndarray, learn: bool = False):
        """The key of a step on ``X``, ``y``: shapes, dtypes (the parameters' too) and the
        fingerprint of the model and loss; ``learn`` first re-reads the model's structure.
        None when an attribute cannot be part of a key (then the step runs eagerly)."""
        if learn:
            self._learn_model()
        try:
            settings = self._fingerprint()
            hash(settings)
        except (TypeError, AttributeError):  # an unhashable or vanished attribute
            return None
        dtypes = tuple([p.data.dtype.char for p in self.params])
        y = np.asarray(y)
        return (X.shape, X.dtype.char, y.shape, y.dtype.char, dtypes, settings)

    def lookup(self, key):
        """``("replay", Program)``, ``("check", Program)``, ``("eager", reason)`` or None."""
        return self.programs.get(key)

    def record(self, key, tape: Tape, x, y, outputs, cost) -> None:
        """File a recording of ``key``: the first is kept to check the second against."""
        try:
            program = build_program(tape, x, y, self.model.parameters(), outputs, cost)
        except NotReplayable as err:
            self._store(key, ("eager", str(err)))
            self._fall_back(key, str(err))
            return
        entry = self.programs.get(key)
        if entry is None:
            self._store(key, ("check", program))
            return
        difference = entry[1].difference(program)
        if difference is None:
            self._store(key, ("replay", entry[1]))
        else:
            reason = f"two recordings of the step differ: {difference}"
            self._store(key, ("eager", reason))
            self._fall_back(key, reason)

    def _store(self, key, entry) -> None:
        self.programs.pop(key, None)
        if len(self.programs) >= CACHE_SIZE:
            self.programs.pop(next(iter(self.programs)))
        self.programs[key] = entry

    def replay(self, program: Program, X, y):
        self.replays += 1
        return program.forward(X, y)
