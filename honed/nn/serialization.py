"""Save and load models: weights, buffers and the architecture in one ``.npz`` file.

The file holds one array per ``state_dict`` entry (same names, same dtypes) and, under
``__honed_architecture__``, a JSON string ``{"format": 1, "model": {"class": ..., "config":
...}, "training": bool}``. Every layer knows its ``to_config()``; :func:`load` rebuilds the
model from the registry of module classes by name, so no user code is needed (a custom module
only needs its class imported).
"""

from __future__ import annotations

import json
import os

import numpy as np

from honed.nn.module import Module, build_module, module_spec

ARCH_KEY = "__honed_architecture__"
FORMAT = 1


def save(model: Module, path: str | os.PathLike) -> None:
    """Write ``model``'s architecture, parameters and buffers to ``path`` (an ``.npz``).

    The bare network only: no preprocessing (normalizer, pixel scaling) and no class names.
    A model trained on normalized inputs predicts garbage on raw data; to use a trained run
    on raw data, load the whole run with :func:`honed.load_run`.
    """
    meta = {"format": FORMAT, "model": module_spec(model), "training": bool(model.training)}
    state = model.state_dict()
    if ARCH_KEY in state:  # pragma: no cover - a parameter of that name is absurd
        raise ValueError(f"a parameter may not be called {ARCH_KEY}")
    with open(path, "wb") as f:  # a file object: np.savez would otherwise append ".npz"
        np.savez(f, **state, **{ARCH_KEY: np.array(json.dumps(meta))})


def _read(path) -> tuple[dict, dict]:
    with np.load(path, allow_pickle=False) as data:
        if ARCH_KEY not in data.files:
            raise ValueError(f"{path} is not a honed model file (no {ARCH_KEY} entry)")
        meta = json.loads(str(data[ARCH_KEY]))
        state = {k: data[k] for k in data.files if k != ARCH_KEY}
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: unsupported model file format {meta.get('format')!r}")
    return meta, state


def load(path: str | os.PathLike) -> Module:
    """Rebuild the model saved at ``path``: same architecture, dtypes, values and mode.

    It carries no preprocessing: feed it inputs prepared exactly as in training, or use
    :func:`honed.load_run` on the run directory, which applies the run's own.
    """
    meta, state = _read(path)
    model = build_module(meta["model"])
    dtypes = {v.dtype for v in state.values() if v.dtype.kind == "f"}
    if len(dtypes) == 1:
        model.to(dtypes.pop())
    model.load_state_dict(state)
    model.train(meta.get("training", True))
    return model


_IGNORED_CONFIG = {"init", "scale", "seed"}  # how weights were drawn, not the architecture


def _leaves(model: Module) -> list[tuple[str, Module]]:
    return [(n, m) for n, m in model.named_modules() if not list(m.named_children())]


def _signature(module: Module) -> tuple:
    config = {k: v for k, v in module.to_config().items() if k not in _IGNORED_CONFIG}
    return type(module).__name__, json.dumps(config, sort_keys=True)


def load_into(model: Module, path: str | os.PathLike) -> Module:
    """Load the weights saved at ``path`` into an existing ``model`` of the same architecture.

    Raises:
        ValueError: naming the first layer whose class or configuration differs, or the
            parameter whose shape differs.
    """
    meta, state = _read(path)
    saved = build_module(meta["model"])
    ours, theirs = _leaves(model), _leaves(saved)
    for (name_a, a), (name_b, b) in zip(ours, theirs):
        if name_a != name_b or _signature(a) != _signature(b):
            raise ValueError(
                f"architecture mismatch at layer {name_a!r}: the model has {a._short_repr()}, "
                f"the file has layer {name_b!r} = {b._short_repr()} {_signature(b)[1]}"
            )
    if len(ours) != len(theirs):
        extra = ours[len(theirs) :] or theirs[len(ours) :]
        where = "model" if len(ours) > len(theirs) else "file"
        raise ValueError(
            f"architecture mismatch: the {where} has extra layers starting at "
            f"{extra[0][0]!r} ({extra[0][1]._short_repr()})"
        )
    model.load_state_dict(state)
    return model


__all__ = ["load", "load_into", "save"]
