"""Study storage: an Optuna storage, so a honed study is an Optuna study.

``optuna.load_study(study_name=..., storage=...)`` reads it and optuna-dashboard shows it
while it runs. Which Optuna storage a target names:

* a path ending in ``.db``, ``.sqlite`` or ``.sqlite3`` (or an existing SQLite file, or a
  ``sqlite:///`` URL): Optuna's RDB storage on SQLite;
* any other path (the default ``studies/NAME.journal``): Optuna's journal file
  (``JournalStorage(JournalFileBackend(path))``). It is the default because the driver
  spends ~1.2-1.3 ms per trial on it, flat from 100 to 10 000 trials, against 20-27 ms on
  SQLite (``benchmarks/study_overhead.py``; both dominated by fsync on a shared disk);
* an Optuna ``BaseStorage`` object, used as it is.

What honed keeps beside Optuna's fields (all JSON):

* study system attributes ``honed:format`` (``FORMAT``), ``honed:space``,
  ``honed:sampler``, ``honed:seed``, ``honed:created``; the study's user attributes are
  honed's ``user_attrs`` (the experiment config);
* trial system attributes ``honed:seed`` and ``honed:attempts`` (set when the trial is
  created or re-run), ``honed:result`` (state, error, traceback, worker, duration; set
  when it finishes) and ``honed:interrupted``.

Only the study's driver writes (workers send per-epoch values to it, see ``channel.py``;
it writes them in batches, see ``batching.py`` and ``batched_reports``),
and one driver at a time runs a study file: ``driver_lock`` holds an ``flock`` on
``PATH.driver-lock`` while a study is created and run (the file is removed when the
driver ends). So when a driver starts, every trial still RUNNING in Optuna's terms was
cut off (crash, kill, Ctrl-C) and is run again.

Errors of the file itself (a full disk, a read-only directory, an SQLite file another
program holds locked) are raised as ``StudyFileError`` naming the file, never as
SQLite's, SQLAlchemy's or Optuna's own, which name neither; a journal is appended whole
lines or not at all, so such an error never leaves it unreadable.

Files in honed's format 1 (its own SQLite schema) are refused with the one command that
upgrades them: ``honed study upgrade PATH`` (``legacy.upgrade_legacy``).
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from .batching import ReportBatcher
from .optuna_bridge import import_optuna, to_optuna_distribution
from .space import SearchSpace
from .trial import FrozenTrial, TrialState

__all__ = [
    "FORMAT",
    "OldStudyFormat",
    "StudyBusy",
    "StudyFileError",
    "StudyStorage",
    "driver_id",
    "is_legacy_file",
    "open_storage",
]

#: version of what honed stores in an Optuna study (1 was honed's own SQLite schema)
FORMAT = 2
_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


class OldStudyFormat(ValueError):
    """The file is a study in honed's format 1; the message names the upgrade command."""


class StudyBusy(ValueError):
    """Another driver is running a study of this file (a ValueError: the command line
    reports it as bad input, exit code 1, with its message)."""


class StudyFileError(OSError):
    """A study file could not be opened, read or written (a full disk, a read-only
    directory, a database locked by another program, a damaged file); the message names
    the file and what to do.  Raised in place of SQLite's, SQLAlchemy's and Optuna's
    storage errors, which name neither."""


#: what SQLite's messages mean for the user: (words in the message, what happened)
_SQLITE_MEANINGS = (
    ("disk is full", "the disk is full: free some space"),
    ("readonly database", "cannot write it: the file or its directory is read-only"),
    ("unable to open database file", "cannot open it: its directory is missing or read-only"),
    ("database is locked", "another program holds it locked: close that program and run again"),
    ("not a database", "it is not an SQLite database (damaged, or another kind of file)"),
    ("malformed", "the SQLite database is damaged"),
    ("disk i/o error", "the disk failed to read or write it"),
)
_OS_MEANINGS = {
    "ENOSPC": "the disk is full: free some space",
    "EDQUOT": "the disk quota is exceeded: free some space",
    "EROFS": "cannot write it: the file system is read-only",
    "EACCES": "cannot write it: permission denied",
    "EIO": "the disk failed to read or write it",
}


def _storage_error(path: str, err: BaseException, writing: bool) -> StudyFileError | None:
    """``err`` (from Optuna's storage, SQLAlchemy, SQLite or the journal's file writes)
    as a StudyFileError naming ``path``; None for an error that is not about the file
    (or that honed already worded: its ValueErrors name the file)."""
    import errno

    def module(e: BaseException) -> str:
        return type(e).__module__.split(".")[0]

    if isinstance(err, ValueError) and module(err) not in ("optuna", "sqlalchemy"):
        return None
    seen: list[BaseException] = []
    e: BaseException | None = err
    while e is not None and e not in seen:  # Optuna wraps SQLAlchemy, which wraps SQLite
        seen.append(e)
        e = getattr(e, "orig", None) or e.__cause__ or e.__context__
    what = None
    for e in seen:
        if isinstance(e, OSError) and e.filename is None:
            what = _OS_MEANINGS.get(errno.errorcode.get(e.errno or -1, ""))
        text = str(e).lower()
        for words, meaning in _SQLITE_MEANINGS:
            if words in text:
                what = meaning
        if what:
            break
    if what is None and not {module(e) for e in seen} & {"sqlalchemy", "sqlite3", "optuna"}:
        return None
    if what is None:
        what = f"the storage failed ({type(seen[-1]).__name__}: {seen[-1]})"
    if writing:
        what += "; the trials recorded so far are kept: run the same command again to resume"
    return StudyFileError(f"study file {path}: {what}")


def driver_id() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _ts(dt: datetime | None) -> float | None:
    return None if dt is None else dt.timestamp()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


def _is_sqlite_file(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def is_legacy_file(path: str | os.PathLike) -> bool:
    """True when ``path`` is a SQLite file in honed's format 1 (a ``studies`` table with a
    ``space`` column; Optuna's has ``study_name`` instead)."""
    if not _is_sqlite_file(os.fspath(path)):
        return False
    try:
        conn = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True)
        try:
            cols = {r[1] for r in conn.execute("PRAGMA table_info(studies)")}
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return False
    return "space" in cols and "study_name" not in cols


def _check_sqlite_study(path: str, timeout: float = 5.0) -> None:
    """Refuse an existing SQLite file that Optuna's storage must not open.

    Optuna's ``RDBStorage`` adds its tables to any SQLite file it is given, so a file of
    another program is checked first, read-only, and left untouched: a file that is not a
    readable database, or one with tables but none of Optuna's, is refused naming it.

    Raises:
        ValueError: naming ``path`` and what it holds.
    """
    import sqlite3

    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
        try:
            tables = {
                r[0] for r in con.execute("select name from sqlite_master where type='table'")
            }
        finally:
            con.close()
    except sqlite3.Error as err:
        if "locked" in str(err):
            raise StudyFileError(
                f"study file {path}: {dict(_SQLITE_MEANINGS)['database is locked']}"
            ) from None
        raise ValueError(
            f"{path} is not a readable SQLite database ({err}): truncated or damaged?"
        ) from None
    if tables and not {"studies", "version_info"} <= tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise ValueError(
            f"{path} is an SQLite database of another program (tables: {shown}), not an "
            "Optuna study; honed leaves it untouched"
        )


def _acquire(lock_path: str, study_name: str, path: str):
    """Open and ``flock`` ``lock_path``, writing this driver's id into it.

    Raises:
        StudyBusy: naming the holder when another process holds the lock.
    """
    import fcntl

    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    while True:
        f = open(lock_path, "a+")  # noqa: SIM115 (kept open while the lock is held)
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise StudyBusy(
                f"study {study_name!r} in {path} is being run by {holder}; one "
                "driver runs a study file at a time (give it more --workers instead)"
            ) from None
        except BaseException:
            f.close()
            raise
        try:
            same = os.stat(lock_path).st_ino == os.fstat(f.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        f.close()  # the holder removed this file as we locked it: lock the new one
    f.seek(0)
    f.truncate()
    f.write(driver_id())
    f.flush()
    return f


def _release(lock_path: str, f) -> None:
    """Remove the lock file while still holding it, then let go."""
    import fcntl

    try:
        with contextlib.suppress(OSError):  # already gone, or a directory gone read-only
            os.unlink(lock_path)
    finally:
        fcntl.flock(f, fcntl.LOCK_UN)
        f.close()


class StudyStorage:
    """honed's reading and writing of studies in one Optuna storage.

    Args:
        target: a path, a ``sqlite:///`` URL or an Optuna storage (see the module doc).

    Pickles as its target: each process opens the storage itself.
    """

    #: seconds an SQLite study waits for another program's lock before giving up
    busy_timeout: float = 60.0

    def __init__(self, target: Any) -> None:
        self.target = os.fspath(target) if isinstance(target, os.PathLike) else target
        self.path: str | None = None
        if isinstance(self.target, str):
            if self.target.startswith("sqlite:///"):
                self.path, self.kind = self.target[len("sqlite:///") :], "rdb"
            elif "://" in self.target:
                self.kind = "rdb"
            else:
                self.path = self.target
                # an empty file (made by `touch`, or a creation cut off) is what its name says
                if os.path.exists(self.path) and os.path.getsize(self.path) > 0:
                    if is_legacy_file(self.path):
                        raise OldStudyFormat(
                            f"{self.path} is a study in honed's old format (format 1, before "
                            f"studies were Optuna studies); upgrade it with: "
                            f"honed study upgrade {self.path}"
                        )
                    self.kind = "rdb" if _is_sqlite_file(self.path) else "journal"
                else:
                    self.kind = "rdb" if self.path.endswith(_SQLITE_SUFFIXES) else "journal"
        else:
            self.kind = "object"
        self._optuna = None if self.kind != "object" else self.target
        self._pid = os.getpid()
        self._batcher: ReportBatcher | None = None  # while a driver runs: pending values
        self._lock_file: Any = None  # the driver lock, while this object holds it
        self._lock_depth = 0

    def __getstate__(self) -> dict:
        if self.kind == "object":
            raise TypeError("a study on an Optuna storage object cannot be sent to a worker")
        return {"target": self.target}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["target"])

    def __repr__(self) -> str:
        return f"StudyStorage({self.target!r}, kind={self.kind!r})"

    @property
    def optuna(self):
        """The Optuna ``BaseStorage`` (opened on first use, once per process)."""
        if self._optuna is None or self._pid != os.getpid():
            import_optuna()
            from optuna.storages import JournalStorage, RDBStorage

            if self.path is not None:
                os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            if self.kind == "journal":
                self._optuna = _batching_journal(JournalStorage)(_whole_lines(self.path))
            else:
                if self.path is not None:
                    _check_sqlite_study(self.path, self.busy_timeout)
                url = self.target if "://" in self.target else f"sqlite:///{self.path}"
                # a long busy timeout: a reader (the dashboard) may hold the file a moment
                timeout = {"timeout": self.busy_timeout}
                self._optuna = _batching_rdb(RDBStorage)(
                    url, engine_kwargs={"connect_args": timeout}
                )
            self._pid = os.getpid()
        return self._optuna

    @property
    def url(self) -> str:
        """What to give ``optuna.load_study(storage=...)`` / optuna-dashboard."""
        if self.kind == "rdb":
            return self.target if "://" in self.target else f"sqlite:///{self.path}"
        return str(self.path if self.path is not None else self.target)

    # -- the driver lock -------------------------------------------------------------------
    @contextlib.contextmanager
    def driver_lock(self, study_name: str) -> Iterator[None]:
        """Hold the file's driver lock (no-op for a non-file storage).

        Re-entrant on this object (the command that creates a study holds it from before
        the file is opened until the study has run, through the same ``StudyStorage``).
        The lock file ``PATH.driver-lock`` is removed when the outermost holder lets go
        -- while it still holds the lock; a driver that locked a file just removed
        retries on the new one, so a lock another live driver holds is never removed.

        Raises:
            StudyBusy: when another process (or another StudyStorage) holds it.
        """
        if self.path is None:
            yield
            return
        if self._lock_depth == 0:
            self._lock_file = _acquire(self._lock_path(), study_name, self.path)
        self._lock_depth += 1
        try:
            yield
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0:
                f, self._lock_file = self._lock_file, None
                _release(self._lock_path(), f)

    def _lock_path(self) -> str:
        return os.path.abspath(f"{self.path}.driver-lock")

    def is_locked(self) -> bool:
        """Whether a driver runs a study of this file right now."""
        if self.path is None:
            return False
        if self._lock_depth:
            return True
        import fcntl

        try:
            f = open(self._lock_path())  # noqa: SIM115 (read-only: never creates a lock file)
        except FileNotFoundError:
            return False
        with f:
            try:
                fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(f, fcntl.LOCK_UN)
        return False

    # -- studies ------------------------------------------------------------------------
    def study_names(self) -> list[str]:
        return [s.study_name for s in self.optuna.get_all_studies()]

    def get_study(self, name: str) -> dict | None:
        """The study's honed fields, or None when there is no such study."""
        from optuna.exceptions import DuplicatedStudyError  # noqa: F401  (import check)

        st = self.optuna
        try:
            sid = st.get_study_id_from_name(name)
        except KeyError:
            return None
        sys_attrs = st.get_study_system_attrs(sid)
        direction = st.get_study_directions(sid)[0].name.lower()
        space = sys_attrs.get("honed:space")
        if space is None:  # a study made by plain Optuna: its distributions are its space
            from .optuna_bridge import from_optuna_distribution

            space = {}
            for t in st.get_all_trials(sid, deepcopy=False):
                for n, d in t.distributions.items():
                    space.setdefault(n, from_optuna_distribution(d).to_json())
        return {
            "id": sid,
            "name": name,
            "direction": direction,
            "space": space,
            "sampler": sys_attrs.get("honed:sampler", {"name": "random", "seed": None}),
            "seed": sys_attrs.get("honed:seed", 0),
            "created": sys_attrs.get("honed:created"),
            "format": sys_attrs.get("honed:format"),
            "user_attrs": st.get_study_user_attrs(sid),
        }

    def create_study(
        self,
        name: str,
        direction: str,
        space: dict,
        sampler: dict,
        seed: int,
        user_attrs: dict | None = None,
    ) -> dict:
        """Create the study ``name`` (it must not exist) and return its fields."""
        from optuna.study import StudyDirection

        st = self.optuna
        sid = st.create_new_study([StudyDirection[direction.upper()]], name)
        st.set_study_system_attr(sid, "honed:format", FORMAT)
        st.set_study_system_attr(sid, "honed:space", space)
        st.set_study_system_attr(sid, "honed:sampler", sampler)
        st.set_study_system_attr(sid, "honed:seed", int(seed))
        st.set_study_system_attr(sid, "honed:created", time.time())
        for k, v in (user_attrs or {}).items():
            st.set_study_user_attr(sid, k, v)
        return self.get_study(name)  # type: ignore[return-value]

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self.optuna.set_study_system_attr(study_id, key, value)

    # -- trials -------------------------------------------------------------------------
    @staticmethod
    def to_honed(t) -> FrozenTrial:
        """An Optuna ``FrozenTrial`` as honed's."""
        from optuna.trial import TrialState as OS

        sa = t.system_attrs
        res = sa.get("honed:result") or {}
        if t.state == OS.COMPLETE:
            state = TrialState.COMPLETE
        elif t.state == OS.PRUNED:
            state = TrialState.PRUNED
        elif t.state == OS.FAIL:
            state = TrialState(res.get("state", TrialState.FAILED))
        elif sa.get("honed:interrupted"):
            state = TrialState.INTERRUPTED
        else:
            state = TrialState.RUNNING
        value = t.values[0] if t.values else None
        if value is not None and not math.isfinite(value):
            value = None
        return FrozenTrial(
            number=t.number,
            state=state,
            params=dict(t.params),
            seed=sa.get("honed:seed", 0),
            value=value,
            intermediate={int(k): float(v) for k, v in sorted(t.intermediate_values.items())},
            duration=res.get("duration"),
            started=_ts(t.datetime_start),
            finished=_ts(t.datetime_complete) if t.datetime_complete else res.get("finished"),
            error=res.get("error") or sa.get("fail_reason"),
            traceback=res.get("traceback"),
            worker=res.get("worker"),
            attempts=sa.get("honed:attempts", 1),
            user_attrs=dict(t.user_attrs),
        )

    def get_trials(self, study_id: int) -> tuple[list[FrozenTrial], list[int]]:
        """All trials by number (honed's view) and their Optuna trial ids."""
        self.flush_reports()  # the driver reads what it reported
        raw = sorted(self.optuna.get_all_trials(study_id, deepcopy=False), key=lambda t: t.number)
        return [self.to_honed(t) for t in raw], [t._trial_id for t in raw]

    def create_trial(
        self, study_id: int, params: dict, space: SearchSpace, seed: int
    ) -> tuple[int, int, float]:
        """A new RUNNING trial with its params; returns (trial id, number, start time)."""
        from optuna.trial import FrozenTrial as OFT
        from optuna.trial import TrialState as OS

        now = datetime.now(tz=UTC)
        template = OFT(
            number=-1,
            state=OS.RUNNING,
            value=None,
            datetime_start=now,
            datetime_complete=None,
            params=dict(params),
            distributions={n: to_optuna_distribution(space[n]) for n in params},
            user_attrs={},
            system_attrs={"honed:seed": int(seed), "honed:attempts": 1},
            intermediate_values={},
            trial_id=-1,
        )
        st = self.optuna
        tid = st.create_new_trial(study_id, template_trial=template)
        return tid, st.get_trial_number_from_id(tid), now.timestamp()

    def restart_trial(self, trial_id: int, attempts: int) -> None:
        """An interrupted (still RUNNING) trial runs again: its attempt count goes up."""
        st = self.optuna
        st.set_trial_system_attr(trial_id, "honed:attempts", int(attempts))
        st.set_trial_system_attr(trial_id, "honed:interrupted", False)

    def mark_interrupted(self, trial_ids: list[int]) -> None:
        from optuna.exceptions import UpdateFinishedTrialError

        self.flush_reports()  # Ctrl-C, SIGTERM: what the trials reported is kept
        for tid in trial_ids:
            # one whose outcome was being stored as Ctrl-C arrived is finished: left alone
            with contextlib.suppress(UpdateFinishedTrialError):
                self.optuna.set_trial_system_attr(tid, "honed:interrupted", True)

    # -- per-epoch values, in batches (see batching.py) ----------------------------------
    @contextlib.contextmanager
    def batched_reports(self, interval: float | None = None) -> Iterator[ReportBatcher]:
        """Inside the block, ``report`` holds values and writes them in batches (at least
        every ``interval`` seconds, default ``batching.REPORT_INTERVAL``; before a trial
        finishes; before the trials are read); what is pending is written when it ends,
        also on Ctrl-C or SIGTERM."""
        from honed.train.durable import deferred_signals

        batcher = ReportBatcher(self.write_reports, interval)
        self._batcher = batcher.start()
        try:
            yield batcher
        finally:
            self._batcher = None
            with deferred_signals():  # a second Ctrl-C does not cut the last write short
                batcher.close()

    def report(self, trial_id: int, step: int, value: float) -> None:
        """Store a per-epoch value: with the next batch inside ``batched_reports``, else now."""
        batcher = self._batcher
        if batcher is None:
            self.write_reports([(trial_id, int(step), float(value))])
        else:
            batcher.add(trial_id, int(step), float(value))

    def flush_reports(self) -> None:
        """Write the pending per-epoch values now (a no-op outside ``batched_reports``)."""
        batcher = self._batcher
        if batcher is not None:
            batcher.flush()

    def batch(self):
        """A block whose journal writes (of this thread) are one append, made when the
        outermost such block ends; a no-op for other storages."""
        return getattr(self.optuna, "batch", contextlib.nullcontext)()

    def write_reports(self, reports: list[tuple[int, int, float]]) -> None:
        """Store many ``(trial id, step, value)`` at once, in order: one journal append
        (one lock, one fsync) or one SQLite transaction. Values of a trial that is
        already finished are left out (Optuna would refuse the whole write)."""
        st = self.optuna
        if self.kind == "rdb":
            _rdb_write_reports(st, reports)
            return
        finished = {tid for tid in {r[0] for r in reports} if st.get_trial(tid).state.is_finished()}
        with self.batch():
            for tid, step, value in reports:
                if tid not in finished:
                    st.set_trial_intermediate_value(tid, step, value)

    def finish(
        self,
        trial_id: int,
        state: str,
        value: float | None = None,
        *,
        error: str | None = None,
        traceback: str | None = None,
        duration: float | None = None,
        worker: str | None = None,
        new_params: dict | None = None,
        user_attrs: dict | None = None,
    ) -> float:
        """Record a trial's outcome; returns the finish time.

        ``new_params`` are define-by-run parameters (name -> (value, honed distribution)).
        """
        from optuna.trial import TrialState as OS

        state = TrialState(state)
        st = self.optuna
        now = time.time()
        res: dict[str, Any] = {"duration": duration, "worker": worker}
        if state in (TrialState.FAILED, TrialState.DIVERGED):
            res.update(state=str(state), error=error, traceback=traceback)
        elif error:
            res["error"] = error
        if state not in TrialState.FINISHED:
            raise ValueError(f"state must be a finished state, got {state!r}")
        finite = value is not None and math.isfinite(value)
        # one journal append for all of it: pending per-epoch values first (a finished
        # trial takes no more), then params, notes and the outcome
        with self.batch():
            self.flush_reports()
            for name, (v, dist) in (new_params or {}).items():
                od = to_optuna_distribution(dist)
                st.set_trial_param(trial_id, name, od.to_internal_repr(v), od)
            for k, v in (user_attrs or {}).items():
                st.set_trial_user_attr(trial_id, k, v)
            st.set_trial_system_attr(trial_id, "honed:result", res)
            if state == TrialState.COMPLETE:
                st.set_trial_state_values(trial_id, OS.COMPLETE, [float(value)])
            elif state == TrialState.PRUNED:
                st.set_trial_state_values(trial_id, OS.PRUNED, [float(value)] if finite else None)
            else:
                st.set_trial_state_values(trial_id, OS.FAIL)
        return now


def _naming_the_file(method, writing: bool):
    """``method`` of StudyStorage, raising StudyFileError for errors of the file."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except StudyFileError:
            raise
        except Exception as err:
            named = _storage_error(self.path or self.url, err, writing)
            if named is None:
                raise
            raise named from err

    return wrapper


_READS = ("study_names", "get_study", "get_trials")
_WRITES = (
    "create_study",
    "set_study_system_attr",
    "create_trial",
    "restart_trial",
    "mark_interrupted",
    "report",
    "flush_reports",  # the batched per-epoch values' writes, where the class has them
    "write_reports",
    "finish",
)
for _name in _READS + _WRITES:
    if hasattr(StudyStorage, _name):
        method = _naming_the_file(getattr(StudyStorage, _name), _name in _WRITES)
        setattr(StudyStorage, _name, method)


def _whole_lines(path: str):
    """Optuna's journal file, appended whole lines or not at all.

    A write cut short (a full disk, a kill mid-write) would leave half a line, and the
    next append would continue it into a line no one can read: the journal could not be
    opened again.  So a failed append is truncated away, and a half line left by a
    crash is cut before the next append (only the driver appends, under its lock).
    """
    from optuna.storages.journal import JournalFileBackend

    class WholeLinesJournalFile(JournalFileBackend):
        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            from honed.train.durable import deferred_signals

            size = _whole_lines_size(self._file_path)
            # Ctrl-C or SIGTERM raised inside Optuna's file lock (taking it, writing,
            # releasing it) would leave its lock file behind or fail its release with a
            # traceback: the signal waits until this append is done.
            with deferred_signals():
                try:
                    super().append_logs(logs)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.truncate(self._file_path, size)
                    raise

    return WholeLinesJournalFile(path)


def _whole_lines_size(path: str) -> int:
    """The size of ``path`` up to its last complete line, cutting a half line off."""
    try:
        f = open(path, "rb+")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        return 0
    with f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return size
        block = 1 << 16
        end = size
        while end > 0:  # search back for the last newline
            start = max(0, end - block)
            f.seek(start)
            i = f.read(end - start).rfind(b"\n")
            if i >= 0:
                f.truncate(start + i + 1)
                return start + i + 1
            end = start
        f.truncate(0)
        return 0


class _ThreadBatch:
    """``batch()`` for a storage: what the calling thread writes inside it is kept in that
    thread's buffer (``_buffer()``; None outside a batch, so another thread's writes go
    straight on) and handed to ``_write_batch`` once, at the end -- also after an error, so
    what was recorded before it is kept. A batch inside a batch of the same thread joins
    the outer one."""

    _local: threading.local | None = None

    def _buffer(self) -> list | None:
        return None if self._local is None else getattr(self._local, "buffer", None)

    @contextlib.contextmanager
    def batch(self):
        if self._local is None:
            self._local = threading.local()
        if self._buffer() is not None:
            yield  # inside another batch of this thread: that one writes
            return
        self._local.buffer = []
        try:
            yield
        finally:
            items, self._local.buffer = self._local.buffer, None
            if items:
                self._write_batch(items)

    def _write_batch(self, items: list) -> None:
        raise NotImplementedError


def _batching_journal(base):
    """Optuna's JournalStorage whose ``batch()`` writes several operations as one append
    (one lock and one fsync): recording a trial's outcome is then one write, not two --
    the biggest part of the driver's cost per trial."""

    class BatchingJournalStorage(_ThreadBatch, base):
        def _write_batch(self, logs: list) -> None:
            with self._thread_lock:
                self._backend.append_logs(logs)
                base._sync_with_backend(self)

        def _write_log(self, op_code, extra_fields):
            logs = self._buffer()
            if logs is None:
                return super()._write_log(op_code, extra_fields)
            worker_id = self._replay_result.worker_id
            logs.append({"op_code": op_code, "worker_id": worker_id, **extra_fields})

        def _sync_with_backend(self):
            if self._buffer() is None:  # inside a batch nothing is written yet
                super()._sync_with_backend()

    return BatchingJournalStorage


def _batching_rdb(base):
    """Optuna's RDBStorage whose ``batch()`` makes a trial's writes one transaction:
    recording an outcome (params, notes, result, state) commits once, not five times --
    each SQLite commit is an fsync."""

    class BatchingRDBStorage(_ThreadBatch, base):
        def _write_batch(self, ops: list) -> None:
            from honed.train.durable import deferred_signals

            with deferred_signals():  # one transaction, not cut by a signal
                self._apply(ops)

        def _apply(self, ops: list) -> None:
            from datetime import datetime as _datetime

            from optuna.storages._rdb import models
            from optuna.storages._rdb.storage import _create_scoped_session

            with _create_scoped_session(self.scoped_session) as session:
                for op, args in ops:
                    if op == "param":
                        self._set_trial_param_without_commit(session, *args)
                    elif op == "user_attr":
                        self._set_trial_attr_without_commit(
                            session, models.TrialUserAttributeModel, *args
                        )
                    elif op == "system_attr":
                        self._set_trial_attr_without_commit(
                            session, models.TrialSystemAttributeModel, *args
                        )
                    else:  # "state": the trial's state and values, as set_trial_state_values
                        trial_id, state, values = args
                        trial = models.TrialModel.find_or_raise_by_id(
                            trial_id, session, for_update=True
                        )
                        self.check_trial_is_updatable(trial_id, trial.state)
                        for objective, v in enumerate(values or ()):
                            self._set_trial_value_without_commit(session, trial, objective, v)
                        trial.state = state
                        if state.is_finished():
                            trial.datetime_complete = _datetime.now()

        def set_trial_param(self, trial_id, param_name, param_value_internal, distribution):
            ops = self._buffer()
            if ops is None:
                return super().set_trial_param(
                    trial_id, param_name, param_value_internal, distribution
                )
            ops.append(("param", (trial_id, param_name, param_value_internal, distribution)))

        def set_trial_user_attr(self, trial_id, key, value):
            ops = self._buffer()
            if ops is None:
                return super().set_trial_user_attr(trial_id, key, value)
            ops.append(("user_attr", (trial_id, key, value)))

        def set_trial_system_attr(self, trial_id, key, value):
            ops = self._buffer()
            if ops is None:
                return super().set_trial_system_attr(trial_id, key, value)
            ops.append(("system_attr", (trial_id, key, value)))

        def set_trial_state_values(self, trial_id, state, values=None):
            ops = self._buffer()
            if ops is None or not state.is_finished():
                return super().set_trial_state_values(trial_id, state, values)
            ops.append(("state", (trial_id, state, values)))
            return True

    return BatchingRDBStorage


def _rdb_write_reports(st, reports: list[tuple[int, int, float]]) -> None:
    """``write_reports`` on Optuna's RDB storage: one transaction, a few statements (the
    trials' states, the steps already stored, one insert of many rows); Optuna's own
    ``set_trial_intermediate_value`` is a transaction and several queries per value."""
    import sqlalchemy
    from optuna.storages._rdb import models
    from optuna.storages._rdb.storage import _create_scoped_session

    value_model, trial_model = models.TrialIntermediateValueModel, models.TrialModel
    latest: dict[tuple[int, int], float] = {}
    for tid, step, value in reports:  # in order: a step reported twice keeps the last
        latest[(tid, step)] = value
    with _create_scoped_session(st.scoped_session) as session:
        ids = {tid for tid, _ in latest}
        states = dict(
            session.query(trial_model.trial_id, trial_model.state).filter(
                trial_model.trial_id.in_(ids)
            )
        )
        missing = ids - set(states)
        if missing:
            raise KeyError(f"no trial with id {sorted(missing)[0]} in {st.url}")
        open_ids = {tid for tid, state in states.items() if not state.is_finished()}
        stored = {
            (row.trial_id, row.step): row
            for row in session.query(value_model).filter(
                value_model.trial_id.in_(open_ids),
                value_model.step.in_({step for _, step in latest}),
            )
        }
        rows = []
        for (tid, step), value in latest.items():
            if tid not in open_ids:
                continue
            value, kind = value_model.intermediate_value_to_stored_repr(value)
            row = stored.get((tid, step))
            if row is not None:  # a re-run trial reports a step again
                row.intermediate_value, row.intermediate_value_type = value, kind
            else:
                rows.append(
                    {
                        "trial_id": tid,
                        "step": step,
                        "intermediate_value": value,
                        "intermediate_value_type": kind,
                    }
                )
        if rows:
            session.execute(sqlalchemy.insert(value_model), rows)


def open_storage(target: Any) -> StudyStorage:
    """A ``StudyStorage`` for a path, URL, Optuna storage or ``StudyStorage``."""
    return target if isinstance(target, StudyStorage) else StudyStorage(target)
