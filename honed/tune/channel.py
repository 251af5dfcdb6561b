"""How a running trial talks to its study: per-epoch values go to the driver, which alone
writes the study's storage.

The driver opens a ``ReportServer`` on 127.0.0.1 (a random port and a random authkey:
``multiprocessing.connection``'s HMAC handshake, so only processes given the key can
talk to it). Workers get a ``ReportClient``, which pickles as (address, key) and connects
lazily, once per process. Each call is one request and its answer, in order. A worker
holds its per-epoch values and sends them in one request (``report_many``) at least every
``batching.REPORT_INTERVAL`` seconds, before it asks the driver anything (so a
``should_prune`` after a ``report`` sees that report) and before its trial's outcome goes
back (``run_trial`` calls ``flush``). The driver's ``sink`` has

* ``report_intermediate(number, step, value)``: store the value (and make it visible);
* ``intermediate_at(step) -> {number: value}``: every trial's value at ``step``;
* ``should_prune(number) -> bool``: ask a pruner that runs in the driver (Optuna's).

In-process trials call the sink directly (``DirectReporter``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from multiprocessing.connection import Client, Listener
from typing import Any

__all__ = ["DirectReporter", "ReportClient", "ReportServer"]

_METHODS = ("report_intermediate", "report_many", "intermediate_at", "should_prune")


class DirectReporter:
    """The sink itself, for trials run in the driver process (and what a reporter that
    adds a rule to the sink's calls builds on)."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink

    def report_intermediate(self, number: int, step: int, value: float) -> None:
        self.sink.report_intermediate(number, step, value)

    def intermediate_at(self, step: int) -> dict[int, float]:
        return self.sink.intermediate_at(step)

    def should_prune(self, number: int) -> bool:
        return self.sink.should_prune(number)


class ReportServer:
    """Serves ``sink`` to worker processes until ``close()``."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink
        self.authkey = secrets.token_bytes(32)
        self._listener = Listener(("127.0.0.1", 0), authkey=self.authkey)
        self.address = self._listener.address
        self._closed = False
        self._conns: list = []
        threading.Thread(target=self._accept, daemon=True, name="honed-reports").start()

    def client(self) -> ReportClient:
        return ReportClient(self.address, self.authkey)

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except Exception:  # closed, or a client that failed the handshake
                if self._closed:
                    return
                continue
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn) -> None:
        with contextlib.suppress(EOFError, OSError):
            while True:
                method, args = conn.recv()
                if method not in _METHODS:
                    conn.send(("error", f"unknown method {method!r}"))
                    continue
                try:
                    if method == "report_many":  # a worker's batch: one request
                        conn.send(("ok", [self.sink.report_intermediate(*r) for r in args[0]]))
                        continue
                    conn.send(("ok", getattr(self.sink, method)(*args)))
                except Exception as e:  # the worker raises it; the server goes on
                    conn.send(("error", f"{type(e).__name__}: {e}"))

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(Exception):
            # accept() does not wake up when the socket closes under it: connect once
            Client(self.address, authkey=self.authkey).close()
        with contextlib.suppress(Exception):
            self._listener.close()
        for conn in self._conns:
            with contextlib.suppress(Exception):
                conn.close()


class _Sender:
    """One worker process's link to the driver: its connection and the values it holds.
    Every ``ReportClient`` of the process (one per trial it runs) shares it, so a worker
    has one connection, one timer thread and one batch whatever its number of trials."""

    def __init__(self, address: tuple, authkey: bytes) -> None:
        self.address, self.authkey = address, authkey
        self.conn = None
        self.lock = threading.Lock()  # one request at a time on the connection
        self.pending: list[tuple[int, int, float]] = []
        self.pending_lock = threading.Lock()
        self.timer: threading.Thread | None = None

    def call(self, method: str, *args: Any) -> Any:
        with self.lock:
            if self.conn is None:
                self.conn = Client(self.address, authkey=self.authkey)
            self.conn.send((method, args))
            status, result = self.conn.recv()
        if status != "ok":
            raise RuntimeError(f"the study driver could not {method}: {result}")
        return result

    def hold(self, report: tuple[int, int, float]) -> None:
        with self.pending_lock:
            self.pending.append(report)
            start = self.timer is None
            if start:
                self.timer = threading.Thread(
                    target=self._timed, name="honed-report-sender", daemon=True
                )
        if start:
            self.timer.start()
            _flush_on_terminate(self)

    def _timed(self) -> None:
        from .batching import REPORT_INTERVAL

        while True:
            time.sleep(REPORT_INTERVAL)
            with contextlib.suppress(Exception):  # a driver gone: the worker ends soon
                self.flush()

    def flush(self) -> None:
        with self.pending_lock:
            batch, self.pending = self.pending, []
        if batch:
            try:
                self.call("report_many", batch)
            except BaseException:
                with self.pending_lock:
                    self.pending[:0] = batch
                raise

    def flush_quietly(self, wait: float) -> None:
        """``flush`` from a signal handler: it may have interrupted this process's own
        request half-way, so it waits ``wait`` seconds at most for each lock."""
        if not self.pending_lock.acquire(timeout=wait):
            return
        try:
            batch, self.pending = self.pending, []
        finally:
            self.pending_lock.release()
        if not batch or not self.lock.acquire(timeout=wait):
            return
        try:
            if self.conn is None:
                self.conn = Client(self.address, authkey=self.authkey)
            self.conn.send(("report_many", (batch,)))
            self.conn.recv()
        except Exception:
            pass  # the driver is gone too
        finally:
            self.lock.release()


_SENDERS: dict[tuple, _Sender] = {}  # this process's, by (address, key)
_SENDERS_PID = [os.getpid()]
_SENDERS_LOCK = threading.Lock()


def _sender(address: tuple, authkey: bytes) -> _Sender:
    with _SENDERS_LOCK:
        if _SENDERS_PID[0] != os.getpid():  # a forked child starts afresh
            _SENDERS.clear()
            _SENDERS_PID[0] = os.getpid()
        key = (address, authkey)
        if key not in _SENDERS:
            _SENDERS[key] = _Sender(address, authkey)
        return _SENDERS[key]


def _flush_on_terminate(sender: _Sender) -> None:
    """On SIGTERM (the driver stopping its workers after Ctrl-C or its own SIGTERM), send
    what this worker holds, then die of the signal as before."""
    import signal

    def handler(signum, frame):
        signal.signal(signum, signal.SIG_IGN)  # a second SIGTERM must not cut this short
        for held in list(_SENDERS.values()):
            held.flush_quietly(wait=1.0)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    with contextlib.suppress(ValueError):  # not the main thread (a Ray actor): no handler
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, handler)


class ReportClient:
    """What a worker's trial reports through; picklable (address and key only).

    Per-epoch values wait in the worker and go to the driver in batches (see the module
    docstring): one request per batch instead of one per value."""

    def __init__(self, address: tuple, authkey: bytes) -> None:
        self.address = tuple(address)
        self.authkey = authkey

    def __getstate__(self) -> dict:
        return {"address": self.address, "authkey": self.authkey}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["address"], state["authkey"])

    @property
    def _link(self) -> _Sender:
        return _sender(self.address, self.authkey)

    def report_intermediate(self, number: int, step: int, value: float) -> None:
        self._link.hold((number, step, value))

    def flush(self) -> None:
        """Send the held values now (one request)."""
        self._link.flush()

    def intermediate_at(self, step: int) -> dict[int, float]:
        link = self._link
        link.flush()
        return link.call("intermediate_at", step)

    def should_prune(self, number: int) -> bool:
        link = self._link
        link.flush()
        return bool(link.call("should_prune", number))
