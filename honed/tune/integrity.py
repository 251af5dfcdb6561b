"""Does a study belong to an experiment?  Compare the experiment config a study was made
from (stored as its ``config`` user attribute) with another one, key by dotted key.

Resuming a study with a different experiment would rank trials of two experiments
together; training "the best trial" of another experiment's study would train settings
found for something else. Both are refused, naming the keys that differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["RESUME_MAY_CHANGE", "config_diff", "flatten"]

#: what may change when a study is resumed: how many trials, how many at once
RESUME_MAY_CHANGE = ("tune.trials", "tune.workers", "tune.max_members")


def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lr": 1}}`` -> ``{"train.lr": 1}``; tables nested in a value (a
    schedule, ``tune.space``) are one key each, compared whole. Values are normalised
    through JSON (tuples become lists), as the stored config was."""
    out: dict[str, Any] = {}
    for k, v in config.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and not prefix:  # sections: one level of nesting
            out.update(flatten(v, f"{key}."))
        else:
            out[key] = json.loads(json.dumps(v, default=str))
    return out


def config_diff(
    stored: Mapping[str, Any], given: Mapping[str, Any], ignore: Iterable[str] = ()
) -> list[str]:
    """The dotted keys whose values differ (or exist on one side only), sorted,
    leaving out ``ignore`` (exact keys, or ``"section.*"`` for a whole section)."""
    ignore = set(ignore)
    a, b = flatten(stored), flatten(given)

    def ignored(key: str) -> bool:
        return key in ignore or f"{key.split('.', 1)[0]}.*" in ignore

    return sorted(k for k in set(a) | set(b) if not ignored(k) and a.get(k) != b.get(k))
