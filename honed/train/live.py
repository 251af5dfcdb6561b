"""``LivePlot``: train and dev curves redrawn in place after each epoch, in a notebook.

The figure is one PNG per update (``honed.plots.curves.curves_png``: the train/dev panels
every view of a run's curves shares, drawn without pyplot, so the notebook's own backend is
left alone) and shown through IPython's ``display`` with a display
id, so each epoch replaces the last picture instead of adding one. Outside IPython it draws
nothing (``Trainer.fit(verbose=2)`` then prints its epoch lines only). matplotlib and
IPython are imported when the first epoch ends, never by ``honed.train`` itself.
"""

from __future__ import annotations

import sys

from honed import validation as check
from honed.train.callbacks import Callback


def in_notebook() -> bool:
    """True inside a Jupyter (IPython kernel) session (never imports IPython: a kernel has)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def bar_class():
    """tqdm's bar class for here: the notebook widget where ipywidgets is installed, the text
    bar (redrawn in place with carriage returns, which notebooks render) in a notebook
    without it, tqdm.auto's choice elsewhere. ImportError without tqdm."""
    if in_notebook():
        try:
            import ipywidgets  # noqa: F401
            from tqdm.notebook import tqdm
        except ImportError:
            from tqdm.std import tqdm
        return tqdm
    from tqdm.auto import tqdm

    return tqdm


class LivePlot(Callback):
    """Live train/dev cost and error curves in a notebook, updated in place.

    Args:
        every: redraw after every N-th epoch (and the last).
        title: the figure's title.

    Example::

        trainer = Trainer(model, opt, callbacks=[LivePlot()])   # or trainer.fit(..., verbose=2)
    """

    def __init__(self, every: int = 1, title: str = ""):
        self.every = check.integer("every", every, minimum=1)
        self.title = title
        self.handle = None
        self.updates = 0  # pictures drawn (one display, updated in place)

    def on_train_begin(self, trainer):
        self.handle = None

    def on_epoch_end(self, trainer, epoch, logs):
        if epoch % self.every and epoch != trainer.target_epochs:
            return
        if not in_notebook():
            return
        from IPython.display import Image, display

        from honed.plots.curves import curves_png

        picture = Image(curves_png(trainer.history, self.title), format="png")
        if self.handle is None:
            self.handle = display(picture, display_id=True)
        else:
            self.handle.update(picture)
        self.updates += 1

    def state_dict(self):
        return {}


__all__ = ["LivePlot", "bar_class", "in_notebook"]
