"""``honed dashboard STUDY``: optuna-dashboard on a honed study (an Optuna study).

optuna-dashboard is an optional extra (``pip install 'honed[dashboard]'``). The server is
optuna-dashboard's WSGI application on the standard library's ``wsgiref`` server, made
here so the caller knows the address it really bound (``port=0`` picks a free one) and
can stop it (``shutdown()``), which ``optuna_dashboard.run_server`` does not offer. It only
reads the study, so it can run beside the study's driver and shows new trials and
per-epoch values as they are stored.
"""

from __future__ import annotations

import os
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

__all__ = ["DashboardMissing", "serve"]


class DashboardMissing(ImportError):
    """optuna-dashboard is not installed."""


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # one line per request is noise
        pass


def serve(path: str | os.PathLike, host: str = "127.0.0.1", port: int = 8080):
    """A ready (not yet serving) server on the study file ``path`` and its address.

    Call ``server.serve_forever()`` (blocks; ``server.shutdown()`` from another thread
    stops it), then ``server.server_close()``.

    Raises:
        DashboardMissing: naming the extra to install.
        FileNotFoundError: when ``path`` does not exist.
    """
    try:
        from optuna_dashboard import wsgi
    except ImportError as e:
        raise DashboardMissing(
            "optuna-dashboard is not installed: pip install 'honed[dashboard]' "
            "(or pip install optuna-dashboard)"
        ) from e
    from .storage import StudyStorage

    if not os.path.exists(path):
        raise FileNotFoundError(f"study file not found: {path}")
    storage = StudyStorage(path)  # refuses an old-format file with the upgrade command
    app = wsgi(storage.optuna)
    server: WSGIServer = make_server(host, port, app, handler_class=_QuietHandler)
    bound_host, bound_port = server.server_address[:2]
    return server, f"http://{bound_host}:{bound_port}/dashboard/"
