"""What every figure file of honed does around its drawing: pyplot on a file backend, then
the title, the layout and the PNG written (or the figure handed back)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (figures go to files, no window opens).
    matplotlib is imported here, when a figure is drawn, never by importing honed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def finish(fig, path: str | os.PathLike | None, title: str | None = None, dpi: int = 100) -> Any:
    """Give ``fig`` its ``title`` (a suptitle) and a tight layout; then, without ``path``,
    return it, else write it as PNG to ``path`` (its folder made), close it and return
    ``path`` as a Path."""
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is None:
        return fig
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path
