"""How a running trial talks to its study: per-epoch values go to the driver, which alone
writes the study's storage.

The driver opens a ``ReportServer`` on 127.0.0.1 (a random port and a random authkey:
``multiprocessing.connection``'s HMAC handshake, so only processes given the key can
talk to it). Workers get a ``ReportClient``, which pickles as (address, key) and connects
lazily, once per process. Each call is one request and its answer, in order, so a
``should_prune`` after a ``report`` sees that report. The driver's ``sink`` has

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
from multiprocessing.connection import Client, Listener
from typing import Any

__all__ = ["DirectReporter", "ReportClient", "ReportServer"]

_METHODS = ("report_intermediate", "intermediate_at", "should_prune")


class DirectReporter:
    """The sink itself, for trials run in the driver process."""

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


class ReportClient:
    """What a worker's trial reports through; picklable (address and key only)."""

    def __init__(self, address: tuple, authkey: bytes) -> None:
        self.address = tuple(address)
        self.authkey = authkey
        self._conn = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        return {"address": self.address, "authkey": self.authkey}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["address"], state["authkey"])

    def _call(self, method: str, *args: Any) -> Any:
        with self._lock:
            if self._conn is None or self._pid != os.getpid():
                self._conn, self._pid = Client(self.address, authkey=self.authkey), os.getpid()
            self._conn.send((method, args))
            status, result = self._conn.recv()
        if status != "ok":
            raise RuntimeError(f"the study driver could not {method}: {result}")
        return result

    def report_intermediate(self, number: int, step: int, value: float) -> None:
        self._call("report_intermediate", number, step, value)

    def intermediate_at(self, step: int) -> dict[int, float]:
        return self._call("intermediate_at", step)

    def should_prune(self, number: int) -> bool:
        return bool(self._call("should_prune", number))
