"""Provenance of a run: what produced it, recorded in ``run.json``.

Versions (honed, NumPy, Python), the git commit of the honed checkout (when honed runs from
one: ``git rev-parse HEAD`` in its directory, plus whether the tree had changes), host, CPU
count, platform, the full command line, the working directory and the time (UTC). Absent
git, or honed installed outside a checkout, simply gives ``"git": None``.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path


def _git(*args: str) -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True,
            text=True,
            timeout=10,  # a hung git must not hang training
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def git_info() -> dict | None:
    """``{"commit", "dirty"}`` of the checkout honed runs from, or None outside one."""
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return None
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status)}


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def provenance(argv: list[str] | None = None) -> dict:
    """The record of the module docstring; ``argv`` defaults to ``sys.argv``."""
    import numpy as np

    import honed

    return {
        "honed": honed.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "git": git_info(),
        "host": socket.gethostname(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "command": list(sys.argv if argv is None else argv),
        "cwd": os.getcwd(),
        "time": utc_now(),
    }


__all__ = ["git_info", "provenance", "utc_now"]
