"""Save and load nested training state (dicts, lists, arrays, numbers, strings) in one .npz.

A checkpoint holds everything a resumed run needs to continue exactly as if it had never
stopped: model weights and buffers, optimizer state, random generator states, normalizer,
epoch, history and callback state. Arrays go into the npz as entries; the structure around
them is JSON. Files are written durably (:mod:`honed.train.durable`: a uniquely named
temporary file, fsync, rename), so a crash, a full disk or a second Ctrl-C mid-write never
leaves a half-written checkpoint under the real name. A damaged file (truncated, not a zip,
missing an array) is reported as ``ValueError`` naming it, never as a traceback.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from honed.train.durable import atomic_open

_STRUCTURE_KEY = "__structure__"


def _flatten(tree: Any, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(tree, np.ndarray):
        key = f"a{len(arrays)}"
        arrays[key] = tree
        return {"__array__": key}
    if isinstance(tree, dict):
        int_keys = bool(tree) and all(isinstance(k, int) for k in tree)
        if not int_keys and not all(isinstance(k, str) for k in tree):
            raise TypeError(
                f"checkpoint dict keys must be all strings or all ints, got {list(tree)!r}"
            )
        node = {"__dict__": {str(k): _flatten(v, arrays) for k, v in tree.items()}}
        if int_keys:
            node["int_keys"] = True
        return node
    if isinstance(tree, (list, tuple)):
        return {"__list__": [_flatten(v, arrays) for v in tree], "tuple": isinstance(tree, tuple)}
    if isinstance(tree, np.generic):
        return tree.item()
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise TypeError(f"cannot store {type(tree).__name__} in a checkpoint")


def _unflatten(node: Any, arrays) -> Any:
    if isinstance(node, dict):
        if "__array__" in node:
            return arrays[node["__array__"]]
        if "__dict__" in node:
            key = int if node.get("int_keys") else str
            return {key(k): _unflatten(v, arrays) for k, v in node["__dict__"].items()}
        if "__list__" in node:
            items = [_unflatten(v, arrays) for v in node["__list__"]]
            return tuple(items) if node.get("tuple") else items
    return node


def save_state(path: str | os.PathLike, tree: dict) -> Path:
    """Write ``tree`` to ``path`` (.npz) atomically and durably."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    structure = _flatten(tree, arrays)
    arrays[_STRUCTURE_KEY] = np.frombuffer(json.dumps(structure).encode(), dtype=np.uint8)
    with atomic_open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


class DamagedCheckpoint(ValueError):
    """A checkpoint file that cannot be read back: truncated, not an npz, or incomplete."""


def load_state(path: str | os.PathLike) -> dict:
    """Read a tree written by :func:`save_state`.

    Raises:
        FileNotFoundError: no such file.
        DamagedCheckpoint: the file is truncated, not a honed checkpoint, or misses an array.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.is_dir():
        raise IsADirectoryError(21, "a checkpoint must be a file, this is a directory", str(path))
    advice = "delete it and resume from an earlier epoch (honed resume RUN --from-epoch E)"
    try:
        with np.load(path, allow_pickle=False) as npz:
            if _STRUCTURE_KEY not in npz:
                raise DamagedCheckpoint(
                    f"{path} is not a honed checkpoint (no structure entry); {advice}"
                )
            arrays = {k: npz[k] for k in npz.files}
        structure = json.loads(arrays.pop(_STRUCTURE_KEY).tobytes().decode())
        return _unflatten(structure, arrays)
    except DamagedCheckpoint:
        raise
    except KeyError as err:
        raise DamagedCheckpoint(
            f"checkpoint {path} is damaged: the array {err} is missing; {advice}"
        ) from None
    except (zipfile.BadZipFile, EOFError, ValueError, UnicodeDecodeError) as err:
        # A real I/O error (permission denied, ...) stays an OSError for the CLI to report.
        raise DamagedCheckpoint(
            f"checkpoint {path} is damaged or truncated ({type(err).__name__}: {err}); {advice}"
        ) from None


_EPOCH_FILE = re.compile(r"epoch-(\d+)\.npz$")


def checkpoint_path(directory: str | os.PathLike, epoch: int) -> Path:
    """The file of the checkpoint taken at the end of ``epoch`` (1-based count of epochs done)."""
    return Path(directory) / f"epoch-{epoch:04d}.npz"


def list_checkpoints(directory: str | os.PathLike) -> dict[int, Path]:
    """Epoch → checkpoint file, for the checkpoints in ``directory``."""
    directory = Path(directory)
    found = {}
    if directory.is_dir():
        for p in directory.iterdir():
            m = _EPOCH_FILE.search(p.name)
            if m:
                found[int(m.group(1))] = p
    return dict(sorted(found.items()))
