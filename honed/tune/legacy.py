"""honed's old study format (format 1, before studies were Optuna studies) and its upgrade.

Format 1 was honed's own SQLite schema: a ``studies`` table (name, direction, space,
sampler, seed, created, user_attrs as JSON), a ``trials`` table (one row per trial number)
and an ``intermediate`` table (per-epoch values). honed no longer writes it; this module
only reads such a file (``read_legacy``) and copies it into a new Optuna journal
(``upgrade_legacy``, the ``honed study upgrade PATH`` command). ``storage.is_legacy_file``
recognizes one, so that opening it as a study names that command.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from .storage import StudyStorage, _dt, is_legacy_file
from .trial import FrozenTrial

__all__ = ["LegacyStudy", "read_legacy", "upgrade_legacy"]


@dataclass(frozen=True)
class LegacyStudy:
    """One study of a format-1 file, as it was stored (times are Unix seconds)."""

    name: str
    direction: str
    space: dict
    sampler: dict
    seed: int
    created: float
    user_attrs: dict
    trials: list[FrozenTrial] = field(default_factory=list)


def read_legacy(path: str | os.PathLike) -> list[LegacyStudy]:
    """Every study of the format-1 file ``path``, in the order they were created, each with
    its trials by number and their per-epoch values (a stored NULL is NaN: a diverged curve).

    Only reads. The file is opened read-write (``mode=rw``, never created) because format 1
    used SQLite's write-ahead log: a read-write connection folds a log left by a killed
    writer into the file and removes it on close, where a read-only one would leave it.
    """
    conn = sqlite3.connect(f"file:{os.fspath(path)}?mode=rw", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        studies = conn.execute("SELECT * FROM studies ORDER BY id").fetchall()
        out = []
        for s in studies:
            inter: dict[int, dict[int, float]] = {}
            for n, step, v in conn.execute(
                "SELECT number, step, value FROM intermediate WHERE study_id = ?"
                " ORDER BY number, step",
                (s["id"],),
            ):
                inter.setdefault(n, {})[step] = math.nan if v is None else v
            trials = [
                FrozenTrial(
                    number=r["number"],
                    state=r["state"],
                    params=json.loads(r["params"]),
                    seed=r["seed"],
                    value=r["value"],
                    intermediate=inter.get(r["number"], {}),
                    duration=r["duration"],
                    started=r["started"],
                    finished=r["finished"],
                    error=r["error"],
                    traceback=r["traceback"],
                    worker=r["worker"],
                    attempts=r["attempts"],
                    user_attrs=json.loads(r["user_attrs"]),
                )
                for r in conn.execute(
                    "SELECT * FROM trials WHERE study_id = ? ORDER BY number", (s["id"],)
                )
            ]
            out.append(
                LegacyStudy(
                    name=s["name"],
                    direction=s["direction"],
                    space=json.loads(s["space"]),
                    sampler=json.loads(s["sampler"]),
                    seed=s["seed"],
                    created=s["created"],
                    user_attrs=json.loads(s["user_attrs"]),
                    trials=trials,
                )
            )
        return out
    finally:
        conn.close()


def upgrade_legacy(path: str | os.PathLike, to: str | os.PathLike | None = None) -> str:
    """Copy every study of a honed format-1 file into a new Optuna journal file.

    The new file is ``to`` (default: ``path`` with the suffix ``.journal``); the old file
    is left as it is. Trials keep their numbers, states, params, seeds, values, per-epoch
    values, attempts, errors and times; interrupted ones still re-run on resume.

    Raises:
        ValueError: when ``path`` is not a format-1 file or ``to`` already exists.
    """
    from optuna.trial import FrozenTrial as OptunaTrial
    from optuna.trial import TrialState as OS

    from .optuna_bridge import to_optuna_distribution
    from .space import SearchSpace

    path = os.fspath(path)
    if not is_legacy_file(path):
        raise ValueError(f"{path} is not a study file in honed's old format (format 1)")
    to = os.fspath(to) if to is not None else os.path.splitext(path)[0] + ".journal"
    if os.path.exists(to):
        raise ValueError(f"{to} already exists; give another target")
    studies = read_legacy(path)
    new = StudyStorage(to)
    st = new.optuna
    for old in studies:
        created = new.create_study(
            old.name, old.direction, old.space, old.sampler, old.seed, old.user_attrs
        )
        st.set_study_system_attr(created["id"], "honed:created", old.created)
        space = SearchSpace.from_config(old.space)
        for t in old.trials:
            params = {n: v for n, v in t.params.items() if n in space}
            state = {
                "complete": OS.COMPLETE,
                "pruned": OS.PRUNED,
                "failed": OS.FAIL,
                "diverged": OS.FAIL,
            }.get(t.state, OS.RUNNING)
            value = t.value if state in (OS.COMPLETE, OS.PRUNED) else None
            sys_attrs: dict[str, Any] = {"honed:seed": t.seed, "honed:attempts": t.attempts}
            if state != OS.RUNNING:
                res = {"duration": t.duration, "worker": t.worker, "finished": t.finished}
                if state == OS.FAIL:
                    res.update(state=t.state, traceback=t.traceback)
                if t.error:
                    res["error"] = t.error
                sys_attrs["honed:result"] = res
            else:  # running or interrupted when the old driver stopped: runs again on resume
                sys_attrs["honed:interrupted"] = True
            st.create_new_trial(
                created["id"],
                template_trial=OptunaTrial(
                    number=-1,
                    state=state,
                    value=None if value is None or not math.isfinite(value) else value,
                    datetime_start=_dt(t.started),
                    datetime_complete=_dt(t.finished) if state != OS.RUNNING else None,
                    params=params,
                    distributions={n: to_optuna_distribution(space[n]) for n in params},
                    user_attrs=t.user_attrs,
                    system_attrs=sys_attrs,
                    intermediate_values=dict(t.intermediate),
                    trial_id=-1,
                ),
            )
    return to
