"""honed's own study format (format 1, before studies were Optuna studies): SQLite via
the standard library ``sqlite3``. Kept to read old files and upgrade them
(``honed study upgrade PATH``); new studies are stored through Optuna (``storage.py``).

Several processes write to one file at once: the driver that claims and finishes
trials, the workers that report per-epoch values, even several drivers running the same
study.  That is safe because

* the database is in WAL mode (readers never block the writer, a crash never leaves a
  half-written page) with ``synchronous=NORMAL``: a killed process loses at most the
  transaction it had not committed;
* every write is one short transaction, and the ones that read-then-write (claiming a
  trial number) start with ``BEGIN IMMEDIATE`` so two writers cannot both claim it;
* a busy timeout makes a writer wait for the lock instead of failing.

A ``SQLiteStorage`` pickles as its path: each process opens its own connection.

Contract (what ``Study`` relies on; any other storage must do the same):
``create_study``/``get_study``; ``claim`` (atomic: an interrupted trial first, else the
next number, else nothing); ``finish`` (only a trial still running in the same attempt);
``mark_interrupted``; ``recover_stale``; ``report_intermediate``/``intermediate_at``;
``get_trials``.
"""

from __future__ import annotations

import json
import math
import os
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .trial import FrozenTrial, TrialState

__all__ = ["SQLiteStorage", "driver_id", "is_legacy_file"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT UNIQUE NOT NULL,
    direction   TEXT NOT NULL,
    space       TEXT NOT NULL,
    sampler     TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    created     REAL NOT NULL,
    user_attrs  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    study_id    INTEGER NOT NULL REFERENCES studies(id),
    number      INTEGER NOT NULL,
    state       TEXT NOT NULL,
    params      TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    value       REAL,
    duration    REAL,
    started     REAL,
    finished    REAL,
    error       TEXT,
    traceback   TEXT,
    driver      TEXT,
    worker      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 1,
    user_attrs  TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (study_id, number)
);
CREATE TABLE IF NOT EXISTS intermediate (
    study_id    INTEGER NOT NULL,
    number      INTEGER NOT NULL,
    step        INTEGER NOT NULL,
    value       REAL,
    PRIMARY KEY (study_id, number, step)
);
CREATE INDEX IF NOT EXISTS intermediate_step ON intermediate (study_id, step);
"""


def driver_id() -> str:
    """``host:pid`` of this process, stored with the trials it claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"not JSON serialisable: {o!r}")


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=_json_default, allow_nan=True)


def _finite_or_none(v: float | None) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def is_legacy_file(path: str | os.PathLike) -> bool:
    """True when ``path`` is a SQLite file in honed's format 1 (a ``studies`` table with a
    ``space`` column; Optuna's has ``study_name`` instead)."""
    try:
        with open(path, "rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                return False
        conn = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True)
        try:
            cols = {r[1] for r in conn.execute("PRAGMA table_info(studies)")}
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return False
    return "space" in cols and "study_name" not in cols


class SQLiteStorage:
    """A study database file.  ``timeout`` is the busy timeout in seconds."""

    def __init__(self, path: str | os.PathLike, timeout: float = 60.0) -> None:
        self.path = os.fspath(path)
        self.timeout = timeout
        self._conn: sqlite3.Connection | None = None
        self._pid: int | None = None

    # pickles as its path: a connection cannot cross processes
    def __getstate__(self) -> dict:
        return {"path": self.path, "timeout": self.timeout}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], state["timeout"])

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            d = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(d, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so every transaction
            # is exactly as long as we mean it to be.
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            for _ in range(50):  # switching to WAL needs a moment alone with the file
                try:
                    conn.execute("PRAGMA journal_mode = WAL")
                    break
                except sqlite3.OperationalError:
                    time.sleep(0.05)
            conn.execute("PRAGMA synchronous = NORMAL")
            self._conn, self._pid = conn, os.getpid()
            with self._tx():
                # statement by statement: executescript() would COMMIT our transaction
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    class _Tx:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __enter__(self) -> sqlite3.Connection:
            self.conn.execute("BEGIN IMMEDIATE")
            return self.conn

        def __exit__(self, exc_type, exc, tb) -> None:
            if exc_type is None:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute("ROLLBACK")

    def _tx(self) -> SQLiteStorage._Tx:
        return self._Tx(self._conn if self._conn is not None else self.conn)

    # -- studies --------------------------------------------------------------------
    def create_study(
        self,
        name: str,
        direction: str,
        space: dict,
        sampler: dict,
        seed: int,
        user_attrs: dict | None = None,
    ) -> dict:
        """Create the study ``name`` unless it exists; return its row either way."""
        conn = self.conn
        with self._tx():
            row = conn.execute("SELECT * FROM studies WHERE name = ?", (name,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO studies (name, direction, space, sampler, seed, created,"
                    " user_attrs) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        direction,
                        dumps(space),
                        dumps(sampler),
                        int(seed),
                        time.time(),
                        dumps(user_attrs or {}),
                    ),
                )
        return self.get_study(name)  # type: ignore[return-value]

    def get_study(self, name: str) -> dict | None:
        row = self.conn.execute("SELECT * FROM studies WHERE name = ?", (name,)).fetchone()
        if row is None:
            return None
        d = dict(row)
        for k in ("space", "sampler", "user_attrs"):
            d[k] = json.loads(d[k])
        return d

    def study_names(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM studies ORDER BY id")]

    def set_study_user_attrs(self, study_id: int, attrs: dict) -> None:
        with self._tx() as c:
            c.execute("UPDATE studies SET user_attrs = ? WHERE id = ?", (dumps(attrs), study_id))

    # -- trials ---------------------------------------------------------------------
    def _rows_to_trials(self, rows: Iterable[sqlite3.Row], inter: dict) -> list[FrozenTrial]:
        out = []
        for r in rows:
            out.append(
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
            )
        return out

    def get_trials(self, study_id: int, intermediate: bool = True) -> list[FrozenTrial]:
        """All trials of the study, by number (one consistent snapshot)."""
        conn = self.conn
        conn.execute("BEGIN")  # a read transaction: trials and their values agree
        try:
            rows = conn.execute(
                "SELECT * FROM trials WHERE study_id = ? ORDER BY number", (study_id,)
            ).fetchall()
            inter: dict[int, dict[int, float]] = {}
            if intermediate:
                for n, step, v in conn.execute(
                    "SELECT number, step, value FROM intermediate WHERE study_id = ?"
                    " ORDER BY number, step",
                    (study_id,),
                ):
                    inter.setdefault(n, {})[step] = math.nan if v is None else v
        finally:
            conn.execute("COMMIT")
        return self._rows_to_trials(rows, inter)

    def get_trial(self, study_id: int, number: int) -> FrozenTrial | None:
        for t in self.get_trials(study_id):
            if t.number == number:
                return t
        return None

    def claim(
        self,
        study_id: int,
        n_trials: int,
        sample: Callable[[int, Sequence[FrozenTrial]], tuple[dict, int]],
        ready: Callable[[int, Sequence[FrozenTrial]], bool] = lambda n, h: True,
        driver: str | None = None,
    ) -> FrozenTrial | str | None:
        """Atomically take the next trial to run and mark it ``running``.

        An ``interrupted`` trial comes first (same number, params and seed; its old
        per-epoch values are dropped, ``attempts`` goes up).  Otherwise the lowest number
        below ``n_trials`` not yet in the study, sampled by ``sample(number, history) ->
        (params, seed)`` inside the transaction.  Returns the claimed trial, ``"wait"``
        when ``ready`` says that number must wait for running trials, or ``None`` when
        there is nothing left to run.
        """
        driver = driver or driver_id()
        conn = self.conn
        now = time.time()
        with self._tx():
            row = conn.execute(
                "SELECT number FROM trials WHERE study_id = ? AND state = ?"
                " ORDER BY number LIMIT 1",
                (study_id, TrialState.INTERRUPTED),
            ).fetchone()
            if row is not None:
                number = row["number"]
                conn.execute(
                    "UPDATE trials SET state = ?, attempts = attempts + 1, started = ?,"
                    " finished = NULL, duration = NULL, value = NULL, error = NULL,"
                    " traceback = NULL, driver = ?, worker = NULL"
                    " WHERE study_id = ? AND number = ?",
                    (TrialState.RUNNING, now, driver, study_id, number),
                )
                conn.execute(
                    "DELETE FROM intermediate WHERE study_id = ? AND number = ?",
                    (study_id, number),
                )
            else:
                taken = {
                    r[0]
                    for r in conn.execute(
                        "SELECT number FROM trials WHERE study_id = ?", (study_id,)
                    )
                }
                number = next(i for i in range(len(taken) + 1) if i not in taken)
                if number >= n_trials:
                    return None
                rows = conn.execute(
                    "SELECT * FROM trials WHERE study_id = ? ORDER BY number", (study_id,)
                ).fetchall()
                history = self._rows_to_trials(rows, {})
                if not ready(number, history):
                    return "wait"
                params, seed = sample(number, history)
                conn.execute(
                    "INSERT INTO trials (study_id, number, state, params, seed, started,"
                    " driver, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                    (study_id, number, TrialState.RUNNING, dumps(params), int(seed), now, driver),
                )
            r = conn.execute(
                "SELECT * FROM trials WHERE study_id = ? AND number = ?", (study_id, number)
            ).fetchone()
        return self._rows_to_trials([r], {})[0]

    def finish(
        self,
        study_id: int,
        number: int,
        attempts: int,
        state: str,
        value: float | None = None,
        error: str | None = None,
        traceback: str | None = None,
        duration: float | None = None,
        worker: str | None = None,
        params: dict | None = None,
        user_attrs: dict | None = None,
    ) -> bool:
        """Record the outcome of a running trial.  Only the attempt that is still running
        can be finished, so a late result from a presumed-dead process cannot overwrite
        a re-run.  Returns whether the row was updated."""
        if state not in TrialState.FINISHED and state != TrialState.INTERRUPTED:
            raise ValueError(f"state must be a finished state, got {state!r}")
        sets = [
            "state = ?",
            "value = ?",
            "error = ?",
            "traceback = ?",
            "duration = ?",
            "finished = ?",
            "worker = ?",
            "user_attrs = ?",
        ]
        args: list[Any] = [
            state,
            _finite_or_none(value),
            error,
            traceback,
            duration,
            time.time(),
            worker,
            dumps(user_attrs or {}),
        ]
        if params is not None:
            sets.append("params = ?")
            args.append(dumps(params))
        with self._tx() as c:
            cur = c.execute(
                f"UPDATE trials SET {', '.join(sets)} WHERE study_id = ? AND number = ?"
                " AND state = ? AND attempts = ?",
                (*args, study_id, number, TrialState.RUNNING, attempts),
            )
            return cur.rowcount == 1

    def mark_interrupted(
        self, study_id: int, numbers: Iterable[int], was: str = TrialState.RUNNING
    ) -> None:
        """Mark the trials ``numbers`` that are in state ``was`` (default ``running``)
        ``interrupted``, so the next run of the study runs them again."""
        numbers = list(numbers)
        if not numbers:
            return
        with self._tx() as c:
            c.executemany(
                "UPDATE trials SET state = ?, finished = ? WHERE study_id = ? AND number = ?"
                " AND state = ?",
                [(TrialState.INTERRUPTED, time.time(), study_id, n, was) for n in numbers],
            )

    def recover_stale(self, study_id: int, everything: bool = False) -> list[int]:
        """Mark ``running`` trials whose driver process is gone as ``interrupted``.

        A driver on this host is gone when its pid is not alive.  Drivers on other hosts
        cannot be checked; they are left alone unless ``everything`` is true (use it when
        you know no other process runs the study).
        """
        host = socket.gethostname()
        stale = []
        for r in self.conn.execute(
            "SELECT number, driver FROM trials WHERE study_id = ? AND state = ?",
            (study_id, TrialState.RUNNING),
        ).fetchall():
            d_host, _, d_pid = (r["driver"] or ":").rpartition(":")
            dead = (
                d_host == host
                and d_pid.isdigit()
                and not _pid_alive(int(d_pid))
                and int(d_pid) != os.getpid()
            )
            if everything or dead:
                stale.append(r["number"])
        self.mark_interrupted(study_id, stale)
        return stale

    # -- per-epoch values ------------------------------------------------------------
    def report_intermediate(self, study_id: int, number: int, step: int, value: float) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT OR REPLACE INTO intermediate (study_id, number, step, value)"
                " VALUES (?, ?, ?, ?)",
                (study_id, number, int(step), _finite_or_none(value)),
            )

    def intermediate_at(self, study_id: int, step: int) -> dict[int, float]:
        """``{number: value}`` of every trial that reported at ``step`` (NaN as None)."""
        return {
            n: v
            for n, v in self.conn.execute(
                "SELECT number, value FROM intermediate WHERE study_id = ? AND step = ?",
                (study_id, int(step)),
            )
        }


class Reporter:
    """What a running ``Trial`` talks to: one study's per-epoch values.  Picklable."""

    def __init__(self, storage: Any, study_id: int) -> None:
        self.storage = storage
        self.study_id = study_id

    def report_intermediate(self, number: int, step: int, value: float) -> None:
        self.storage.report_intermediate(self.study_id, number, step, value)

    def intermediate_at(self, step: int) -> dict[int, float]:
        return self.storage.intermediate_at(self.study_id, step)
